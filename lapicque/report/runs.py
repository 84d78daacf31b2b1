"""Run folders: reading one, and telling which report kind it is."""

from __future__ import annotations

import json
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.runfolder import check_complete

from .kinds import all_kinds, kinds_of
from .sections import Run

RUN_FILES = ("summary.json", "report.json")


def read_json(path: Path) -> dict:
    """A JSON object from `path`, or a one-line LapicqueError saying why it cannot be read."""
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise LapicqueError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LapicqueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); re-run to rewrite it"
                            ) from None
    if not isinstance(value, dict):
        raise LapicqueError(f"{path} does not hold a JSON object; re-run to rewrite it")
    return value


def load_run(folder: Path) -> Run:
    """The run in `folder`, or a one-line LapicqueError saying why it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LapicqueError(f"run folder {folder} does not exist")
    check_complete(folder)
    for file in RUN_FILES:
        path = folder / file
        if not path.exists():
            continue
        data = read_json(path)
        found = kinds_of(file, data)
        if len(found) == 1:
            return Run(folder, found[0], data)
        expected = ", ".join(name for name, kind in all_kinds().items() if kind.FILE == file)
        if not found:
            raise LapicqueError(f"{path} is not the {file} of a lapicque run ({expected}); is {folder} a lapicque "
                                "run folder?")
        raise LapicqueError(f"{path} reads as more than one kind of run ({', '.join(found)}); re-run to rewrite it")
    raise LapicqueError(f"{folder} holds no summary.json or report.json; is it a lapicque run folder?")
