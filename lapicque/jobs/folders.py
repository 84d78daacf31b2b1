"""The output folder of a job: the caller's, or a temporary one that is removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.runfolder import RunFolder


@contextmanager
def owned(out: Path | str | None, command: str, keep: tuple[str, ...] = ()) -> Iterator[Path | None]:
    """`out` owned by this run while it runs (lapicque.runfolder), or None (a job that writes nothing); the
    entries named in `keep` stay when the run is interrupted."""
    if out is None:
        yield None
        return
    with RunFolder(out, command, keep) as folder:
        yield folder


@contextmanager
def output_folder(out: Path | str | None, command: str, report: bool = False,
                  keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """As `owned`, but a simulator needs a folder even when the caller wants none: a temporary one then,
    removed on exit."""
    if out is None and report:
        raise LapicqueError("report=True needs an output folder: give out=")
    if out is None:
        with tempfile.TemporaryDirectory(prefix="lapicque-") as tmp:
            yield Path(tmp)
        return
    with owned(out, command, keep) as folder:
        yield folder


def quiet(status):
    """A job's progress callback: the caller's, or one that says nothing."""
    return status if status is not None else (lambda text: None)


def write_run_report(out: Path) -> Path:
    """OUT/report.html for the run in `out` (the `--report` option of verify, lca, tem and build)."""
    from lapicque.report import write_report

    return write_report([out], Path(out) / "report.html")
