"""A run owns its output folder while it runs: a lock, a state marker, and nothing stale left beside it.

`RunFolder(out, command)` takes `OUT/.lapicque.lock` (a second run writing to the same folder is refused
at once), marks the folder `running` in `OUT/.lapicque-run.json`, and removes the summary and report a
previous run left, so that no file of an older run can pass for this one's. When the run ends the
marker says `complete`; an exception or an interrupt leaves `interrupted` or `failed`, and
`lapicque report` refuses such a folder (`check_complete`).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import LapicqueError
from .files import write_atomic

LOCK = ".lapicque.lock"
MARKER = ".lapicque-run.json"
RESULTS = ("summary.json", "report.json", "report.html")  # what a reader takes as the run's verdict


class RunFolder:
    def __init__(self, out: Path | str, command: str, keep: tuple[str, ...] = ()):
        self.out = Path(out)
        self.command = command
        self.keep = keep  # entries that outlive an interrupted run (a sweep's task cache: it resumes from it)
        self.lock = FileLock(str(self.out / LOCK), timeout=0)

    def _mark(self, state: str, **extra) -> None:
        write_atomic(self.out / MARKER, json.dumps({"state": state, "command": self.command, "pid": os.getpid(),
                                                    "time": time.time(), **extra}) + "\n")

    def __enter__(self) -> Path:
        self.existed = self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise LapicqueError(f"{self.out} is in use by another lapicque run; wait for it to finish or give "
                                "another --out") from None
        marker = self.out / MARKER
        self.previous_marker = marker.read_bytes() if marker.exists() else None
        self._mark("running")
        # a previous run's verdict files are set aside, not deleted, until this run has passed its input
        # checks: bad input found late gives them back untouched
        for name in RESULTS:
            if (self.out / name).exists():
                os.replace(self.out / name, self.out / f".{name}.previous")
        self.started = time.time()
        return self.out

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self._drop_previous()
                self._mark("complete")
            elif issubclass(kind, LapicqueError):  # bad input: as if the run had never started
                self._remove_this_runs_files()
                self._restore_previous()
            elif issubclass(kind, KeyboardInterrupt):
                self._remove_this_runs_files()
                self._drop_previous()
                self._mark("interrupted")
            else:
                self._drop_previous()
                self._mark("failed", reason=f"{kind.__name__}: {exc}".splitlines()[0])
        finally:
            self.lock.release()
            if kind is not None and issubclass(kind, LapicqueError) and not self.existed:
                shutil.rmtree(self.out, ignore_errors=True)

    def _drop_previous(self) -> None:
        for name in RESULTS:
            (self.out / f".{name}.previous").unlink(missing_ok=True)

    def _restore_previous(self) -> None:
        for name in RESULTS:
            if (self.out / f".{name}.previous").exists():
                os.replace(self.out / f".{name}.previous", self.out / name)
        if self.previous_marker is None:
            (self.out / MARKER).unlink(missing_ok=True)
        else:
            write_atomic(self.out / MARKER, self.previous_marker)

    def _remove_this_runs_files(self) -> None:
        """Every entry of the folder made or changed since this run started, but its lock, marker and the
        previous run's files set aside."""
        keep = {LOCK, MARKER, *(f".{name}.previous" for name in RESULTS), *self.keep}
        for entry in self.out.iterdir():
            if entry.name in keep:
                continue
            try:
                if entry.lstat().st_mtime < self.started:  # older than this run: not its file
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            except OSError:
                pass  # gone already, or not ours to remove


def check_complete(folder: Path) -> None:
    """A one-line LapicqueError when `folder` holds a run that did not finish (or is still running)."""
    marker = Path(folder) / MARKER
    if not marker.exists():
        return  # written by a lapicque from before run markers, or by hand: judged by its files alone
    try:
        state = json.loads(marker.read_text()).get("state")
    except (OSError, ValueError, AttributeError):
        state = "unreadable"
    if state == "complete":
        return
    if state == "running" and _locked(Path(folder)):
        raise LapicqueError(f"{folder} holds a run that is still running; report it when it has finished")
    raise LapicqueError(f"{folder} was left by a run that did not finish ({state}); its files may mix runs: "
                        "run it again")


def _locked(folder: Path) -> bool:
    lock = FileLock(str(folder / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False
