"""What every test driver shares: telling a failure of the LibOS or the PAL from the
application's own behaviour.

When the LibOS or the PAL gives up, it says so on its log (stderr unless a log file is
given) in one form, and only then:

    carbyne: fatal: MESSAGE        libos_panic, and a fault inside the LibOS or the PAL
                                   ("... this is a Carbyne bug")
    carbyne-pal: fatal: MESSAGE    pal_die, e.g. a host signal in the PAL

A run whose log holds such a line failed, whatever its exit status and output: an
application that dies of SIGSEGV exits 139 natively and under Carbyne, but so does the
LibOS when it faults, and a server that "stops" may have crashed. Every driver that runs
Carbyne (regression/run-test and the other run-* scripts, the app servers, the PAL tests,
the bench scripts) checks the log of each Carbyne run with `failure()`.

    import harness
    problem = harness.failure(stderr, "the carbyne run")   # None, or what went wrong

And the host processes a run leaves behind (a Carbyne instance has one host process per
process of the instance; none may outlive it):

    left = harness.session_processes(sid)   # pids still in session sid, zombies aside

As a command, for drivers written in shell:

    harness.py check-log FILE...   prints the failure lines and exits 1 when a file has
                                   one; exits 0 otherwise
"""

import os
import re
import sys

# The one pattern: "carbyne: fatal: " or "carbyne-pal: fatal: ", anywhere in a line (an
# application's unterminated stderr line may come before it).
FAILURE_PATTERN = re.compile(r"carbyne(?:-pal)?: fatal: ")
SHOWN_LINES = 10


def _text(log):
    return log.decode(errors="backslashreplace") if isinstance(log, (bytes, bytearray)) else log


def failure_lines(log):
    """The lines of `log` (bytes or str) that report a LibOS or PAL failure."""
    return [line for line in _text(log or "").splitlines() if FAILURE_PATTERN.search(line)]


def failure(log, what="the carbyne run"):
    """None when `log` reports no LibOS or PAL failure, else a message quoting the lines."""
    lines = failure_lines(log)
    if not lines:
        return None
    shown = "\n".join("  " + line for line in lines[:SHOWN_LINES])
    more = f"\n  ... and {len(lines) - SHOWN_LINES} more" if len(lines) > SHOWN_LINES else ""
    return f"{what} logged a failure of the LibOS or the PAL:\n{shown}{more}"


def session_processes(sid):
    """The host processes still running in session `sid` (a zombie is only its parent's to
    reap: not counted)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry))
    return found


def read_log(path):
    """The bytes of a log file; empty when there is none (the run did not get to log)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def main(argv):
    if len(argv) < 2 or argv[0] != "check-log":
        print("usage: harness.py check-log FILE...", file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        problem = failure(read_log(path), path)
        if problem:
            print(problem)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
