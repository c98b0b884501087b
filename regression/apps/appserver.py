"""Starting and stopping a real server natively or under Carbyne, on a free loopback port.

Shared by regression/apps/run-app-case (which checks the servers with host clients) and
scripts/bench-net (which measures them). A server runs natively as its host binary, or
under Carbyne as `carbyne run` of its manifest in manifests/ (the Python HTTP server,
which has none, as `carbyne exec`). Both runs get the same argv: the native one is the
manifest's libos.entrypoint with its loader.argv, the paths inside its chroot mounts
turned into the host directories they mount.

Every server gets a scratch directory of its own, holding its log (stdout and stderr,
LibOS messages included), the copy of its manifest that `carbyne run` reads (relative
`file:` URIs in it resolve to this directory), and its generated files. Stopping a server
checks how it ended: the exit status its kind gives on SIGTERM, and no line in its log
saying that the LibOS or the PAL failed (regression/harness.py).

    with Server("redis", "native", scratch) as server:   # or "carbyne", carbyne=PATH
        ... 127.0.0.1:server.port ...
"""

import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib

APPS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(APPS_DIR))
import harness  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(APPS_DIR))
DEFAULT_MANIFESTS = os.path.join(REPO_ROOT, "manifests")
DEFAULT_CARBYNE = os.path.join(REPO_ROOT, "build", "loader", "launcher", "carbyne")

HOST = "127.0.0.1"
START_TIMEOUT_S = 30   # from the launch to the port accepting connections
STOP_TIMEOUT_S = 10    # from SIGTERM to the exit
START_ATTEMPTS = 3     # a free port can be taken before the server binds it
LOG_TAIL_LINES = 40
PYTHON = "/usr/bin/python3"  # Debian's, as the regression cases use

# The files the HTTP servers serve: index.html (nginx's is manifests/nginx/html's) and
# a larger file of fixed bytes, for transfers of many segments.
BIG_FILE = "big.bin"
BIG_FILE_SIZE = 256 * 1024

# Per server: its manifest in manifests/ (None: no manifest, run by `carbyne exec`), the
# arguments appended to its argv that choose the port (none: the port is in a generated
# configuration file), and how it ends on SIGTERM, as a Popen returncode (a negative one
# is death by that signal: Python's http.server has no handler for it).
SERVERS = {
    "redis": {"manifest": "redis.manifest.toml", "port_args": ["--port", "{port}"],
              "sigterm_status": 0},
    "memcached": {"manifest": "memcached.manifest.toml", "port_args": ["-p", "{port}"],
                  "sigterm_status": 0},
    "nginx": {"manifest": "nginx.manifest.toml", "port_args": [], "sigterm_status": 0},
    "nginx-master": {"manifest": "nginx-master.manifest.toml", "port_args": [], "sigterm_status": 0},
    "http-server": {"manifest": None, "port_args": [], "sigterm_status": -signal.SIGTERM},
}


class ServerError(Exception):
    """The server could not be started; the message says why and shows its log's end."""


def free_port():
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def log_tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="backslashreplace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def load_manifest(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def big_file_bytes():
    """BIG_FILE's content: a fixed pseudo-random pattern, so a misplaced chunk shows."""
    out = bytearray()
    block = b"carbyne"
    while len(out) < BIG_FILE_SIZE:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:BIG_FILE_SIZE])


def write_site(docroot, index=None):
    """Fills docroot: index.html (a copy of `index` when given) and BIG_FILE."""
    os.makedirs(docroot, exist_ok=True)
    if index:
        shutil.copyfile(index, os.path.join(docroot, "index.html"))
    else:
        with open(os.path.join(docroot, "index.html"), "w") as f:
            f.write("<!DOCTYPE html>\n<html><body><p>Python's http.server.</p></body></html>\n")
    with open(os.path.join(docroot, BIG_FILE), "wb") as f:
        f.write(big_file_bytes())


def missing_programs(kind, clients=(), manifests=DEFAULT_MANIFESTS):
    """The server's binary and the host clients that are not installed, as messages."""
    missing = []
    entry = SERVERS[kind]
    if entry["manifest"]:
        manifest = load_manifest(os.path.join(manifests, entry["manifest"]))
        binary = manifest["libos"]["entrypoint"]
        if not os.access(binary, os.X_OK):
            missing.append(f"{binary} (the server; scripts/setup installs it)")
    elif not os.access(PYTHON, os.X_OK):
        missing.append(PYTHON)
    for client in clients:
        if not shutil.which(client):
            missing.append(f"{client} (a host client; scripts/setup installs it)")
    return missing


class Server:
    """One server process; start() returns once its port accepts connections, stop() ends
    it (SIGTERM, then SIGKILL), and leaving a `with` block stops it on every path."""

    def __init__(self, kind, mode, scratch, carbyne=None, manifests=DEFAULT_MANIFESTS,
                 start_timeout_s=START_TIMEOUT_S):
        if kind not in SERVERS:
            raise ValueError(f"unknown server {kind!r} (known: {', '.join(SERVERS)})")
        if mode not in ("native", "carbyne"):
            raise ValueError(f"unknown mode {mode!r}")
        if mode == "carbyne" and not carbyne:
            raise ValueError("mode carbyne needs the carbyne CLI's path")
        self.kind = kind
        self.mode = mode
        self.scratch = os.path.abspath(scratch)
        self.carbyne = os.path.abspath(carbyne) if carbyne else None
        self.manifests = os.path.abspath(manifests)
        self.start_timeout_s = start_timeout_s
        self.port = None
        self.docroot = None  # the HTTP servers' document root, on the host
        self.log_path = os.path.join(self.scratch, "server.log")
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def describe(self):
        return f"{self.kind} ({self.mode})"

    # -- The command --------------------------------------------------------------------

    def _manifest_copy(self):
        """Copies the manifest into the scratch directory; returns (path, parsed)."""
        name = SERVERS[self.kind]["manifest"]
        path = os.path.join(self.scratch, name)
        shutil.copyfile(os.path.join(self.manifests, name), path)
        return path, load_manifest(path)

    def _host_paths(self, manifest):
        """{path inside: host directory} of the manifest's chroot mounts below "/"."""
        mounts = {}
        for mount in manifest.get("fs", {}).get("mounts", []):
            if mount.get("type") != "chroot" or mount.get("path") in (None, "/"):
                continue
            host = mount["uri"][len("file:"):]
            mounts[mount["path"]] = os.path.join(self.scratch, host)
        return mounts

    def _prepare_nginx(self, port):
        """nginx/ beside the manifest: the shipped nginx.conf listening on `port` (natively
        with its own directory for /tmp/) and the shipped html/ plus BIG_FILE."""
        shipped = os.path.join(self.manifests, "nginx")
        prefix = os.path.join(self.scratch, "nginx")
        os.makedirs(prefix)
        with open(os.path.join(shipped, "nginx.conf")) as f:
            conf = f.read()
        conf, count = re.subn(r"(?m)^(\s*listen\s+)\S+([^;\n]*);", rf"\g<1>{HOST}:{port}\g<2>;", conf)
        if count != 1:
            raise ServerError(f"{shipped}/nginx.conf: expected one listen line, found {count}")
        if self.mode == "native":
            state = os.path.join(self.scratch, "state")
            os.makedirs(state)
            conf = conf.replace(" /tmp/", f" {state}/")
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write(conf)
        self.docroot = os.path.join(prefix, "html")
        write_site(self.docroot, index=os.path.join(shipped, "html", "index.html"))

    def _command(self, port):
        """(argv, cwd) of one start on `port`."""
        entry = SERVERS[self.kind]
        port_args = [a.format(port=port) for a in entry["port_args"]]
        if entry["manifest"] is None:  # http-server
            self.docroot = os.path.join(self.scratch, "www")
            write_site(self.docroot)
            argv = [PYTHON, "-m", "http.server", "--bind", HOST,
                    "--directory", self.docroot, str(port)]
            if self.mode == "carbyne":
                # exec mounts the working directory (the scratch one) read-write.
                argv = [self.carbyne, "exec", "--"] + argv
            return argv, self.scratch
        manifest_path, manifest = self._manifest_copy()
        if self.kind in ("nginx", "nginx-master"):
            self._prepare_nginx(port)
        if self.mode == "carbyne":
            return [self.carbyne, "run", manifest_path] + port_args, self.scratch
        argv = [manifest["libos"]["entrypoint"]] + manifest["loader"]["argv"][1:] + port_args
        for inside, host in self._host_paths(manifest).items():
            argv = [host + a[len(inside):] if a == inside or a.startswith(inside + "/") else a
                    for a in argv]
        return argv, self.scratch

    # -- Start and stop -----------------------------------------------------------------

    def start(self):
        for attempt in range(1, START_ATTEMPTS + 1):
            shutil.rmtree(self.scratch, ignore_errors=True)
            os.makedirs(self.scratch)
            self.port = free_port()
            argv, cwd = self._command(self.port)
            print(f"{self.describe()}: starting on {HOST}:{self.port}: {shlex.join(argv)}",
                  file=sys.stderr, flush=True)
            with open(self.log_path, "wb") as log:
                try:
                    # In the caller's process group: a test runner that ends the group
                    # (meson on a timeout) ends the server too. Under Carbyne it is one
                    # process as well: carbyne execs the PAL.
                    self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                                 stdout=log, stderr=subprocess.STDOUT)
                except OSError as e:
                    raise ServerError(f"{self.describe()}: cannot start {argv[0]}: {e}")
            try:
                self._wait_for_port()
                return
            except ServerError:
                taken = self.proc.poll() is not None and "in use" in log_tail(self.log_path)
                self.stop()
                if not taken or attempt == START_ATTEMPTS:
                    raise
                print(f"{self.describe()}: port {self.port} was taken; again on another",
                      file=sys.stderr, flush=True)

    def _wait_for_port(self):
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            status = self.proc.poll()
            if status is not None:
                raise ServerError(f"{self.describe()} exited with {exit_text(status)} before "
                                  f"accepting connections on {HOST}:{self.port}; its log "
                                  f"({self.log_path}) ends:\n{log_tail(self.log_path)}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"{self.describe()} did not accept connections on "
                                  f"{HOST}:{self.port} within {self.start_timeout_s:g} s; its "
                                  f"log ({self.log_path}) ends:\n{log_tail(self.log_path)}")
            time.sleep(0.05)

    def stop(self):
        """Ends the server: SIGTERM, then SIGKILL after STOP_TIMEOUT_S. Returns None when it
        ended as it should, else the problems: it had exited already, needed SIGKILL, gave
        another status than its kind's on SIGTERM, or its log says that the LibOS or the
        PAL failed. Idempotent: None once stopped."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        problems = []
        if proc.poll() is not None:
            problems.append(f"{self.describe()} had exited already, with "
                            f"{exit_text(proc.returncode)}")
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
                want = SERVERS[self.kind]["sigterm_status"]
                if proc.returncode != want:
                    problems.append(f"{self.describe()} ended with {exit_text(proc.returncode)} "
                                    f"on SIGTERM, want {exit_text(want)}")
            except subprocess.TimeoutExpired:
                problems.append(f"{self.describe()} did not exit within {STOP_TIMEOUT_S} s "
                                "of SIGTERM")
                proc.kill()
                proc.wait()
        print(f"{self.describe()}: stopped, {exit_text(proc.returncode)}", file=sys.stderr,
              flush=True)
        log_problem = harness.failure(harness.read_log(self.log_path),
                                      f"{self.describe()} ({self.log_path})")
        if log_problem:
            problems.append(log_problem)
        return "; ".join(problems) or None


def exit_on_sigterm():
    """Makes SIGTERM (a test runner's timeout) raise SystemExit, so that `finally` blocks
    and `with` blocks stop the servers."""
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))


def exit_text(status):
    if status is None:
        return "no status"
    if status < 0:
        return f"signal {-status}"
    return f"exit {status}"


# -- Host clients: running them and reading their reports --------------------------------

CLIENT_TIMEOUT_S = 120


def run_client(argv, timeout_s=CLIENT_TIMEOUT_S, input=None):
    """Runs a host client; returns (status or None when it timed out, stdout, stderr)."""
    shown = [a if len(a) <= 60 else a[:20] + f"...({len(a)} characters)" for a in argv]
    print(f"client: {shlex.join(shown)}", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout_s, stdin=None if input else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b""
    return proc.returncode, proc.stdout, proc.stderr


def redis_benchmark_argv(port, requests, tests=None):
    """`tests`: a -t list (\"set,get\"), or None for redis-benchmark's whole default set."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-q", "-n", str(requests)]
    return argv + ["-t", tests] if tests else argv


def parse_redis_benchmark(text):
    """{"SET": requests per second, ...} from `redis-benchmark -q` output."""
    rates = {}
    for line in re.split(r"[\r\n]+", text):
        m = re.match(r"\s*([A-Z_]+)(?: \([^)]*\))?: ([0-9.]+) requests per second", line)
        if m:
            rates[m.group(1)] = float(m.group(2))
    return rates


def wrk_argv(url, threads, connections, seconds):
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", url]


def parse_wrk(text):
    """{"requests", "requests_per_s", "socket_errors" (the sum), "non_2xx_3xx"} from wrk's
    report; a count that wrk did not print is 0, one that it should have is None."""
    def number(pattern, kind=int):
        m = re.search(pattern, text)
        return kind(m.group(1)) if m else None

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    return {
        "requests": number(r"(\d+) requests in "),
        "requests_per_s": number(r"Requests/sec:\s+([0-9.]+)", float),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "socket_errors_text": errors.group(0) if errors else "",
        "non_2xx_3xx": number(r"Non-2xx or 3xx responses: (\d+)") or 0,
    }
