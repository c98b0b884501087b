"""What the bench-* scripts share: building a C benchmark, running it natively and under
`carbyne exec`, and printing native vs Carbyne with their ratio. Each benchmark program
prints lines "NAME NS"."""

import os
import subprocess
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
DEFAULT_CARBYNE = os.path.join(REPO_ROOT, "build", "loader", "launcher", "carbyne")
RUN_TIMEOUT_S = 300


def build(cc, source, directory, extra_flags=()):
    output = os.path.join(directory, os.path.splitext(os.path.basename(source))[0])
    subprocess.run([cc, "-O2", "-Wall", *extra_flags, "-o", output, source], check=True)
    return output


def run(label, argv):
    """Returns {name: ns} from one run, or None with a message when the run failed."""
    print(f"{label}: {' '.join(argv)}", file=sys.stderr, flush=True)
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"{label}: {e}", file=sys.stderr)
        return None
    if result.returncode != 0:
        print(f"{label}: exit {result.returncode}", file=sys.stderr)
        sys.stderr.write("".join(result.stderr.splitlines(keepends=True)[-20:]))
        return None
    timings = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition(" ")
        try:
            timings[name] = float(value)
        except ValueError:
            print(f"{label}: unexpected output line {line!r}", file=sys.stderr)
            return None
    return timings


def carbyne_command(carbyne):
    """The command prefix that runs a program under Carbyne, or None when not built."""
    if os.access(carbyne, os.X_OK):
        return [os.path.abspath(carbyne), "exec", "--"]
    print(f"carbyne: {carbyne} not found; native numbers only", file=sys.stderr)
    return None


def print_table(native, carbyne, first_column="benchmark"):
    print(f"{first_column:<20}{'native ns':>14}{'carbyne ns':>14}{'ratio':>10}")
    for name, native_ns in native.items():
        carbyne_ns = carbyne.get(name) if carbyne else None
        if carbyne_ns is None:
            print(f"{name:<20}{native_ns:>14.1f}{'-':>14}{'-':>10}")
        else:
            ratio = carbyne_ns / native_ns if native_ns > 0 else float("inf")
            print(f"{name:<20}{native_ns:>14.1f}{carbyne_ns:>14.1f}{ratio:>10.2f}")
