"""What the commands share: argument types, option groups, exit codes, and the hand-over to a job."""

from __future__ import annotations

import argparse
import inspect
import math
import os
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.spec import ROUNDING_MODES

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage plus message
        raise LapicqueError(f"{message}; see '{self.prog} --help'")


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


MAX_SEED = 2**32 - 1


def seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2^32 - 1 (what numpy's generators take)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} is out of range; a seed is a whole number from 0 to {MAX_SEED}")
    return value


def whole_in(low: int, high: int):
    """A type for a whole number from `low` to `high`: the documented range of a size option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {low}..{high:,}")
        return value

    parse.__name__ = f"whole number {low}..{high}"
    return parse


def real_in(low: float, high: float):
    """A type for a finite number from `low` to `high` (both included)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is out of range; allowed {low:g} to {high:g}")
        return value

    parse.__name__ = f"number {low:g}..{high:g}"
    return parse


def positive_real(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number above 0")
    return value


def duration(text: str) -> float:
    """Seconds, or a time with its unit: 90s, 10m, 8h."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1.0)
    try:
        value = float(number) * unit
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; give seconds, or a time such as 90s, 10m, "
                                         "8h") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a duration above 0")
    return value


def output_folder(text: str) -> Path:
    """A folder a run may write: an existing folder, or one that can be made, checked before any work."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder; give a folder for the results")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"{text} cannot be made: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be written: {ancestor} is not writable; choose another --out")
    return path


def job_arguments(args: argparse.Namespace, job, renamed: dict[str, str] | None = None) -> dict:
    """The parsed options that `job` takes, under their own names (`renamed` maps an option to another
    parameter name): the command hands over exactly what the user typed or its default."""
    renamed = renamed or {}
    parameters = inspect.signature(job).parameters
    values = {}
    for option, value in vars(args).items():
        name = renamed.get(option, option)
        if name in parameters:
            values[name] = value
    return values


def add_report_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", action="store_true", help="also write OUT/report.html (see lapicque report)")


def add_rtl_run_options(p: argparse.ArgumentParser, name: str) -> None:
    """What a workload with an RTL backend shares: its lanes and simulator, the results folder, --report."""
    p.add_argument("--lanes", type=positive, default=1, help="parallel lanes of the RTL array (default 1)")
    p.add_argument("--sim", default="verilator", help="simulator for --backend rtl: verilator (default) or icarus")
    p.add_argument("--out", type=output_folder, default=Path(f"runs/{name}"),
                   help=f"results folder (default runs/{name})")
    add_report_option(p)


def add_shape_options(p: argparse.ArgumentParser) -> None:
    """The array a board build or run uses, when no spec gives it."""
    p.add_argument("--spec", type=Path, help="array description (TOML) whose shape and widths to use; default: "
                                             "the board's default array")
    p.add_argument("--neurons", type=positive, help="neurons (default: the board's)")
    p.add_argument("--lanes", type=positive, help="parallel lanes (default: the board's, or the spec's)")
    p.add_argument("--weight-bits", type=positive, help="weight width in bits (default 8, or the spec's)")
    p.add_argument("--rounding", choices=ROUNDING_MODES,
                   help="how the decays round: toward_zero (the default) or floor (before issue 17); the RTL differs")
    p.add_argument("--no-watch", action="store_true",
                   help="leave out the state monitor (saves logic; the board then streams spikes only)")


def status_line(console):
    """A rich status spinner and the callback a job reports its progress to."""
    spinner = console.status("starting")
    return spinner, lambda text: spinner.update(text)


def run_with_status(args: argparse.Namespace, console, job, **extra) -> dict:
    """`job` called with the command's options under a status line; its summary."""
    spinner, say = status_line(console)
    with spinner:
        return job(**job_arguments(args, job), status=say, **extra)


def run_checked(args: argparse.Namespace, console, job, print_summary) -> int:
    """A checking command's run: the job under a status line, its summary printed, where it went; exit 0
    when the summary says `passed`, 1 when not."""
    summary = run_with_status(args, console, job)
    print_summary(summary, console)
    print_where(args, console)
    return EXIT_OK if summary["passed"] else EXIT_FAILED


def print_where(args: argparse.Namespace, console) -> None:
    """Where a run with --out and --report left its results."""
    console.print(f"results: {args.out / 'summary.json'}")
    if args.report:
        console.print(f"report: {args.out / 'report.html'}")
