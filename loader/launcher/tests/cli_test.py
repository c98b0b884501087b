#!/usr/bin/env python3
"""Drives the built `carbyne` binary the way a user would.

Usage: cli_test.py CASE CARBYNE DATA_DIR

Error manifests in DATA_DIR say what they expect on their first line:
    # expect-error: line N, key KEY      (or just "line N" for TOML syntax errors)
and optionally on the second line, text the message must contain:
    # expect-message: TEXT
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

EXPECT_RE = re.compile(r"#\s*expect-error:\s*line (\d+)(?:,\s*key (\S+))?")
EXPECT_MESSAGE_RE = re.compile(r"#\s*expect-message:\s*(.*\S)")


class Failure(Exception):
    pass


def run(carbyne, *args, cwd=None):
    return subprocess.run([carbyne, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def check(cond, what, proc=None):
    if not cond:
        detail = ""
        if proc is not None:
            detail = "\n  exit: %d\n  stdout: %r\n  stderr: %r" % (proc.returncode, proc.stdout, proc.stderr)
        raise Failure(what + detail)
    print("ok:", what)


def case_help(carbyne, data):
    proc = run(carbyne, "--help")
    check(proc.returncode == 0, "carbyne --help exits 0", proc)
    for command in ("run", "exec", "manifest check"):
        check(command in proc.stdout, "carbyne --help lists %r" % command, proc)
    for command in (["run", "--help"], ["exec", "--help"], ["manifest", "--help"], ["manifest", "check", "--help"]):
        proc = run(carbyne, *command)
        check(proc.returncode == 0 and proc.stdout.startswith("Usage: carbyne"),
              "carbyne %s prints usage and exits 0" % " ".join(command), proc)
    proc = run(carbyne, "--version")
    check(proc.returncode == 0 and proc.stdout.startswith("carbyne "), "carbyne --version", proc)


def case_usage_errors(carbyne, data):
    cases = [
        [],
        ["frobnicate"],
        ["run"],
        ["run", "--bogus", "x.toml"],
        ["run", "--log-level", "loud", "x.toml"],
        ["exec"],
        ["exec", "--bogus", "--", "true"],
        ["exec", "--mount", "nonexistent-dir:/x", "--", "true"],
        ["exec", "--mount", "relative-target", "--", "true"],
        ["exec", "--tmpfs", "relative", "--", "true"],
        ["exec", "--log-level"],
        ["manifest"],
        ["manifest", "verify", "x.toml"],
        ["manifest", "check"],
        ["manifest", "check", "a.toml", "b.toml"],
        ["manifest", "check", os.path.join(data, "does-not-exist.toml")],
    ]
    for args in cases:
        proc = run(carbyne, *args)
        check(proc.returncode == 2, "carbyne %s exits 2" % " ".join(args), proc)
        lines = proc.stderr.strip().splitlines()
        if args:
            check(len(lines) == 1 and lines[0].startswith("carbyne: "),
                  "carbyne %s: one line on stderr" % " ".join(args), proc)


def case_check_good(carbyne, data):
    manifest = os.path.join(data, "good.manifest.toml")
    proc = run(carbyne, "manifest", "check", manifest)
    check(proc.returncode == 0, "manifest check good.manifest.toml exits 0", proc)
    out = proc.stdout.splitlines()
    for line in [
        'libos.entrypoint = "/bin/ls"',
        'loader.argv = ["ls", "-l", "/"]',
        'loader.env.LANG = "C"',
        'loader.log_level = "warning"',
        'fs.start_dir = "/"',
        'fs.mounts[0] = { type = "chroot", path = "/", uri = "file:/", readonly = true }',
        'fs.mounts[1] = { type = "tmpfs", path = "/tmp", readonly = false }',
        'fs.mounts[2] = { type = "chroot", path = "/data", uri = "file:%s", readonly = false }'
        % os.path.realpath(data),
        'sys.stack.size = "1M"  # 1048576 bytes',
        'sys.brk.max_size = "64M"  # 67108864 bytes',
        'sys.sandbox = true',
        'net.allow = ["bind tcp 127.0.0.1:6379", "connect any [fd00::]/8:1-1024", "connect udp *:53"]',
    ]:
        check(line in out, "manifest check prints %s" % line, proc)
    check(proc.stderr == "", "manifest check prints nothing on stderr", proc)


def case_check_errors(carbyne, data):
    found = 0
    for name in sorted(os.listdir(data)):
        path = os.path.join(data, name)
        with open(path) as f:
            m = EXPECT_RE.match(f.readline())
            message = EXPECT_MESSAGE_RE.match(f.readline())
        if not m:
            continue
        found += 1
        line, key = m.group(1), m.group(2)
        proc = run(carbyne, "manifest", "check", path)
        check(proc.returncode == 2, "%s: exit 2" % name, proc)
        check(proc.stdout == "", "%s: nothing on stdout" % name, proc)
        lines = proc.stderr.splitlines()
        check(len(lines) == 1, "%s: one line on stderr" % name, proc)
        prefix = "carbyne: %s:%s:" % (path, line)
        if key:
            prefix += " %s: " % key
        check(lines[0].startswith(prefix), "%s: stderr starts with %r" % (name, prefix), proc)
        # `run` reports the same error before launching anything.
        proc = run(carbyne, "run", path)
        check(proc.returncode == 2 and proc.stderr.splitlines() == lines, "%s: run gives the same error" % name, proc)
        if message:
            check(message.group(1) in lines[0], "%s: the message says %r" % (name, message.group(1)), proc)
    check(found >= 5, "found the error manifests (%d)" % found)


def case_exec_not_found(carbyne, data):
    proc = run(carbyne, "exec", "--", "carbyne-no-such-program-anywhere")
    check(proc.returncode == 127, "exec of a program not in PATH exits 127", proc)
    check("command not found" in proc.stderr, "exec says the command was not found", proc)


def case_missing_parts(carbyne, data):
    # A copy of the launcher alone in a directory finds neither layout.
    with tempfile.TemporaryDirectory() as tmp:
        lonely = os.path.join(tmp, "a", "b", "carbyne")  # ../../pal and ../libexec stay inside tmp
        os.makedirs(os.path.dirname(lonely))
        shutil.copy2(carbyne, lonely)
        for args in (["run", os.path.join(data, "good.manifest.toml")], ["exec", "--", "/bin/true"]):
            proc = run(lonely, *args, cwd=tmp)
            check(proc.returncode == 127, "%s without carbyne-pal exits 127" % args[0], proc)
            check("carbyne-pal" in proc.stderr and len(proc.stderr.splitlines()) == 1,
                  "%s says carbyne-pal is missing, in one line" % args[0], proc)

# A stand-in for carbyne-pal: decodes the boot config from the fd it is given (format of
# common/include/carbyne/boot_config.h), reports it and the process state as JSON, and
# exits 42 so that the exit status can be seen to pass through.
FAKE_PAL = r"""#!%(python)s
import json, os, struct, sys
# The environment as execve passed it (Python adjusts os.environ at startup).
with open("/proc/self/environ", "rb") as f:
    environ = [e.decode() for e in f.read().split(b"\0") if e]
out = {"argv": sys.argv, "environ": environ, "records": []}
fd = int(sys.argv[1])
def is_open(n):
    try:
        os.fstat(int(n))
        return True
    except OSError:  # the fd that listed /proc/self/fd, closed by now
        return False
out["fds"] = sorted(int(n) for n in os.listdir("/proc/self/fd") if is_open(n))
data = os.read(fd, 1 << 26)
magic, version, total = struct.unpack_from("<8sII", data, 0)
assert magic == b"CRBYBOOT" and version == 1 and total == len(data), (magic, version, total, len(data))
names = {1: "LibosPath", 2: "LogLevel", 3: "LogFile", 4: "Entrypoint", 5: "Argv", 6: "Env",
         7: "Mount", 8: "StartDir", 9: "StackSize", 10: "BrkMaxSize", 11: "NetAllow", 12: "NetAllowRule",
         13: "Sandbox"}
pos = 16
while pos < total:
    tag, zero, size = struct.unpack_from("<HHI", data, pos)
    payload = data[pos + 8:pos + 8 + size]
    pos += 8 + ((size + 7) & ~7)
    name = names[tag]
    if name in ("LogLevel", "StackSize", "BrkMaxSize", "NetAllow", "Sandbox"):
        value = struct.unpack("<Q", payload)[0]
    elif name == "NetAllowRule":
        op, proto, family, prefix, low, high = struct.unpack_from("<BBBBHH", payload, 0)
        value = [op, proto, family, prefix, low, high, payload[8:24].hex()]
    elif name == "Mount":
        mtype, flags, psize, usize = struct.unpack_from("<IIII", payload, 0)
        value = {"type": {1: "chroot", 2: "tmpfs"}[mtype], "readonly": bool(flags & 1),
                 "path": payload[16:16 + psize - 1].decode(),
                 "uri": payload[16 + psize:16 + psize + usize - 1].decode()}
    else:
        assert payload.endswith(b"\0")
        value = payload[:-1].decode()
    out["records"].append([name, value])
assert pos == total
print(json.dumps(out))
sys.exit(42)
"""


def fake_tree(tmp, carbyne):
    """A build-tree layout with the real launcher and a fake PAL (the installed layout
    depends on configure options; the unit tests cover it)."""
    launcher = os.path.join(tmp, "loader", "launcher", "carbyne")
    pal = os.path.join(tmp, "pal", "linux", "carbyne-pal")
    libos = os.path.join(tmp, "libos", "libos.so")
    for path in (launcher, pal, libos):
        os.makedirs(os.path.dirname(path))
    shutil.copy2(carbyne, launcher)
    with open(pal, "w") as f:
        f.write(FAKE_PAL % {"python": sys.executable})
    os.chmod(pal, 0o755)
    open(libos, "w").close()
    return launcher, libos


def records_of(proc):
    import json
    check(proc.returncode == 42, "the PAL's exit status is carbyne's", proc)
    report = json.loads(proc.stdout)
    check(report["environ"] == [], "the PAL gets an empty environment", proc)
    check(len(report["argv"]) == 2 and report["argv"][1].isdigit() and int(report["argv"][1]) > 2,
          "the PAL gets one argument, a boot config fd above 2", proc)
    check(report["fds"] == [0, 1, 2, int(report["argv"][1])], "no other fd leaks into the PAL", proc)
    return report["records"]


def case_fake_pal(carbyne, data):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        launcher, libos = fake_tree(tmp, carbyne)
        work = os.path.join(tmp, "work")
        os.makedirs(work)

        env = {"PATH": "/usr/bin:/bin", "HOME": "/home/user", "LANG": "C"}
        proc = subprocess.run([launcher, "run", "--log-level=trace", os.path.join(data, "good.manifest.toml"),
                               "--log-file", "carbyne.log", "--", "extra", "--help"],
                              capture_output=True, text=True, cwd=work, env=env, timeout=60)
        records = records_of(proc)
        data_dir = os.path.realpath(data)
        expected = [
            ["LibosPath", libos],
            ["LogLevel", 4],
            ["LogFile", os.path.join(work, "carbyne.log")],
            ["Entrypoint", "/bin/ls"],
            ["Argv", "ls"], ["Argv", "-l"], ["Argv", "/"], ["Argv", "extra"], ["Argv", "--help"],
            ["Env", "LANG=C"],
            ["Mount", {"type": "chroot", "readonly": True, "path": "/", "uri": "/"}],
            ["Mount", {"type": "tmpfs", "readonly": False, "path": "/tmp", "uri": "none"}],
            ["Mount", {"type": "chroot", "readonly": False, "path": "/data", "uri": data_dir}],
            ["StartDir", "/"],
            ["StackSize", 1 << 20],
            ["BrkMaxSize", 64 << 20],
            ["Sandbox", 1],
            ["NetAllow", 3],
            # op (1 bind, 2 connect), proto (0 any, 1 tcp, 2 udp), family (0 any, 2 IPv4,
            # 10 IPv6), prefix length, ports, address
            ["NetAllowRule", [1, 1, 2, 32, 6379, 6379, "7f000001" + "00" * 12]],
            ["NetAllowRule", [2, 0, 10, 8, 1, 1024, "fd" + "00" * 15]],
            ["NetAllowRule", [2, 2, 0, 0, 53, 53, "00" * 16]],
        ]
        check(records == expected, "run: the boot config holds the manifest", proc)

        proc = subprocess.run([launcher, "exec", "--tmpfs", "/scratch", "--mount", ".:/mnt/work:ro", "--",
                               "true", "a b"],
                              capture_output=True, text=True, cwd=work, env=env, timeout=60)
        records = records_of(proc)
        true_path = shutil.which("true", path=env["PATH"])
        expected = [
            ["LibosPath", libos],
            ["LogLevel", 1],
            ["Entrypoint", true_path],
            ["Argv", "true"], ["Argv", "a b"],
            ["Env", "PATH=/usr/bin:/bin"], ["Env", "HOME=/home/user"], ["Env", "LANG=C"],
            ["Mount", {"type": "chroot", "readonly": True, "path": "/", "uri": "/"}],
            ["Mount", {"type": "tmpfs", "readonly": False, "path": "/tmp", "uri": "none"}],
            ["Mount", {"type": "tmpfs", "readonly": False, "path": "/scratch", "uri": "none"}],
            ["Mount", {"type": "chroot", "readonly": True, "path": "/mnt/work", "uri": work}],
            ["Mount", {"type": "chroot", "readonly": False, "path": work, "uri": work}],
            ["StartDir", work],
            ["StackSize", 8 << 20],
            ["BrkMaxSize", 256 << 20],
            ["Sandbox", 1],
        ]
        check(records == expected, "exec: the boot config holds the default manifest", proc)
        check(proc.stderr == "", "exec: nothing on stderr", proc)

        # sys.sandbox = false: no Sandbox record, and a warning before the launch.
        unboxed = os.path.join(work, "unboxed.manifest.toml")
        with open(unboxed, "w") as f:
            f.write('libos.entrypoint = "/bin/true"\nsys.sandbox = false\n')
        proc = subprocess.run([launcher, "run", unboxed], capture_output=True, text=True, cwd=work, env=env,
                              timeout=60)
        records = records_of(proc)
        check(all(name != "Sandbox" for name, _ in records), "sandbox off: no Sandbox record", proc)
        check("carbyne: warning: sys.sandbox = false" in proc.stderr, "sandbox off: a warning", proc)
        proc = subprocess.run([launcher, "exec", "--no-sandbox", "--", "true"], capture_output=True, text=True,
                              cwd=work, env=env, timeout=60)
        records = records_of(proc)
        check(all(name != "Sandbox" for name, _ in records), "exec --no-sandbox: no Sandbox record", proc)
        check("carbyne: warning: sys.sandbox = false" in proc.stderr, "exec --no-sandbox: a warning", proc)


CASES = {
    "help": case_help,
    "usage-errors": case_usage_errors,
    "check-good": case_check_good,
    "check-errors": case_check_errors,
    "exec-not-found": case_exec_not_found,
    "missing-parts": case_missing_parts,
    "fake-pal": case_fake_pal,
}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        print("cases:", ", ".join(CASES), file=sys.stderr)
        return 2
    case, carbyne, data = sys.argv[1:]
    try:
        CASES[case](os.path.abspath(carbyne), os.path.abspath(data))
    except Failure as e:
        print("FAIL:", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
