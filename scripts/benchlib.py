"""What the bench-* scripts share: building a C benchmark, sampling it natively and under
`carbyne exec` in alternation, and printing per row the median and spread of each side
and the ratio of the medians.

Each benchmark program prints lines "NAME VALUE" (ns per operation: the median of its own
inner rounds). One run of a program is one sample. The two sides alternate, round after
round (native first in even rounds, Carbyne first in odd ones, so that neither side
always runs on a warmer or a busier machine), --rounds times; a row shows the median of
the samples and their spread (min-max). A run fails when it exits non-zero, prints
something else than "NAME VALUE" lines, or, under Carbyne, logs a failure of the LibOS
or the PAL (regression/harness.py): its numbers would not mean what they say.
"""

import os
import statistics
import subprocess
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
DEFAULT_CARBYNE = os.path.join(REPO_ROOT, "build", "loader", "launcher", "carbyne")
RUN_TIMEOUT_S = 300
ROUNDS = 5
SIDES = ("native", "carbyne")

sys.path.insert(0, os.path.join(REPO_ROOT, "regression"))
import harness  # noqa: E402


def add_arguments(parser):
    """The options every bench script has: --carbyne, --cc, --rounds."""
    parser.add_argument("--carbyne", metavar="PATH", default=DEFAULT_CARBYNE,
                        help="the carbyne CLI (default: build/loader/launcher/carbyne in the "
                             "repository)")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"),
                        help="C compiler (default $CC or cc)")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"samples per side, the sides alternating (default {ROUNDS})")


def build(cc, source, directory, extra_flags=()):
    output = os.path.join(directory, os.path.splitext(os.path.basename(source))[0])
    subprocess.run([cc, "-O2", "-Wall", *extra_flags, "-o", output, source], check=True)
    return output


def run_problem(label, returncode, stderr):
    """Why a finished run failed (printed to stderr with its log's end), or None."""
    problem = None
    if label == "carbyne":
        problem = harness.failure(stderr, f"{label} run")
    if problem is None and returncode != 0:
        problem = f"{label}: exit {returncode}"
    if problem:
        print(problem, file=sys.stderr)
        sys.stderr.write("".join(stderr.splitlines(keepends=True)[-20:]))
    return problem


def parse_timings(label, stdout):
    """{name: value} from "NAME VALUE" lines, or None (with a message) on another line."""
    timings = {}
    for line in stdout.splitlines():
        name, _, value = line.partition(" ")
        try:
            timings[name] = float(value)
        except ValueError:
            print(f"{label}: unexpected output line {line!r}", file=sys.stderr)
            return None
    return timings


def run(label, argv):
    """Returns {name: value} from one run, or None with a message when the run failed."""
    print(f"{label}: {' '.join(argv)}", file=sys.stderr, flush=True)
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"{label}: {e}", file=sys.stderr)
        return None
    if run_problem(label, result.returncode, result.stderr):
        return None
    return parse_timings(label, result.stdout)


def carbyne_command(carbyne, options=()):
    """The command prefix that runs a program under Carbyne, or None when not built."""
    if os.access(carbyne, os.X_OK):
        return [os.path.abspath(carbyne), "exec", *options, "--"]
    print(f"carbyne: {carbyne} not found; native numbers only", file=sys.stderr)
    return None


def alternate(rounds, sample):
    """Samples both sides in alternation: `sample(side)` returns {name: value} of one run
    (the rows that ran), or None when the side cannot run at all, which ends its sampling.
    Returns {side: {name: [values]}}."""
    samples = {side: {} for side in SIDES}
    stopped = set()
    for round_index in range(rounds):
        order = SIDES if round_index % 2 == 0 else tuple(reversed(SIDES))
        for side in order:
            if side in stopped:
                continue
            values = sample(side)
            if values is None:
                stopped.add(side)
                continue
            for name, value in values.items():
                samples[side].setdefault(name, []).append(value)
    return samples


def complete(values, rounds):
    """The samples of one row and side when every round gave one, else None."""
    return values if values is not None and len(values) == rounds else None


def print_table(names, samples, rounds, unit="ns", first_column="benchmark",
                higher_is_better=False, notes=(), legend=True):
    """One row per name: each side's median and min-max, and the ratio of the medians as
    Carbyne's cost over the native one (for a rate, where higher is better, native over
    Carbyne): above 1 means slower under Carbyne. A side without a sample from every round
    shows "-". The legend line says so first. Returns True when every row is complete on
    both sides."""
    if legend:
        print(f"median of {rounds} runs per side, native and Carbyne alternating; "
              f"spread min-max; ratio of the medians, above 1: slower under Carbyne")
    names = list(names)
    for side in SIDES:  # rows a program printed that the script does not list
        names += [name for name in samples[side] if name not in names]
    rows = [[first_column, f"native {unit}", "(min-max)", f"carbyne {unit}", "(min-max)", "ratio"]]
    all_complete = True
    for name in names:
        row = [name]
        medians = []
        for side in SIDES:
            values = complete(samples[side].get(name), rounds)
            if values is None:
                row += ["-", ""]
                medians.append(None)
                all_complete = False
                continue
            median = statistics.median(values)
            medians.append(median)
            row += [f"{median:.1f}", f"({min(values):.1f}-{max(values):.1f})"]
        native, carbyne = medians
        if native and carbyne:
            row.append(f"{(native / carbyne if higher_is_better else carbyne / native):.2f}")
        else:
            row.append("-")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        print("  ".join(cells))
    for note in notes:
        print(note)
    return all_complete
