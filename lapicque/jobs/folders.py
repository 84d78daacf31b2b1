"""The output folder of a job: the caller's, or a temporary one that is removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lapicque.errors import LapicqueError


@contextmanager
def output_folder(out: Path | str | None, report: bool = False) -> Iterator[Path]:
    """`out` as a Path, or (for None) a temporary folder for the simulator's files, removed on exit."""
    if out is not None:
        yield Path(out)
        return
    if report:
        raise LapicqueError("report=True needs an output folder: give out=")
    with tempfile.TemporaryDirectory(prefix="lapicque-") as tmp:
        yield Path(tmp)


def say_to(status):
    """A status callback that may be None."""
    return (lambda text: None) if status is None else status


def write_run_report(out: Path) -> Path:
    """OUT/report.html for the run in `out` (the `--report` option of verify, lca, tem and build)."""
    from lapicque.report import write_report

    return write_report([out], Path(out) / "report.html")
