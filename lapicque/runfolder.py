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
import time
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import LapicqueError
from .files import write_atomic

LOCK = ".lapicque.lock"
MARKER = ".lapicque-run.json"
RESULTS = ("summary.json", "report.json", "report.html")  # what a reader takes as the run's verdict


class RunFolder:
    def __init__(self, out: Path | str, command: str):
        self.out = Path(out)
        self.command = command
        self.lock = FileLock(str(self.out / LOCK), timeout=0)

    def _mark(self, state: str, **extra) -> None:
        write_atomic(self.out / MARKER, json.dumps({"state": state, "command": self.command, "pid": os.getpid(),
                                                    "time": time.time(), **extra}) + "\n")

    def __enter__(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise LapicqueError(f"{self.out} is in use by another lapicque run; wait for it to finish or give "
                                "another --out") from None
        self._mark("running")
        for name in RESULTS:
            (self.out / name).unlink(missing_ok=True)
        return self.out

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self._mark("complete")
            elif issubclass(kind, KeyboardInterrupt):
                self._mark("interrupted")
            else:
                self._mark("failed", reason=f"{kind.__name__}: {exc}".splitlines()[0])
        finally:
            self.lock.release()


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
