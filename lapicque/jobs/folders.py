"""The output folder of a job: the caller's, or a temporary one that is removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.runfolder import RunFolder


@contextmanager
def output_folder(out: Path | str | None, command: str, report: bool = False) -> Iterator[Path]:
    """`out`, owned by this run while it runs (lapicque.runfolder), or (for None) a temporary folder for
    the simulator's files, removed on exit."""
    if out is not None:
        with RunFolder(out, command) as folder:
            yield folder
        return
    if report:
        raise LapicqueError("report=True needs an output folder: give out=")
    with tempfile.TemporaryDirectory(prefix="lapicque-") as tmp:
        yield Path(tmp)


@contextmanager
def owned(out: Path | str | None, command: str) -> Iterator[Path | None]:
    """`out` owned by this run while it runs, or None (a job that writes nothing)."""
    if out is None:
        yield None
        return
    with RunFolder(out, command) as folder:
        yield folder


def write_run_report(out: Path) -> Path:
    """OUT/report.html for the run in `out` (the `--report` option of verify, lca, tem and build)."""
    from lapicque.report import write_report

    return write_report([out], Path(out) / "report.html")
