"""Progress of a running simulation: the testbench writes it, the CLI shows it.

The simulator runs in another process, so the testbench publishes how many steps it has checked in
a small JSON file (written whole, then renamed) and `verify` polls it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PROGRESS_FILE = "progress.json"


def write_progress(folder: Path, steps_checked: int, mismatches: int) -> None:
    tmp = folder / (PROGRESS_FILE + ".tmp")
    tmp.write_text(json.dumps({"steps_checked": steps_checked, "bit_exact_mismatches": mismatches}))
    os.replace(tmp, folder / PROGRESS_FILE)


def read_progress(folder: Path) -> dict | None:
    """The last progress written, or None before the first."""
    try:
        return json.loads((folder / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
