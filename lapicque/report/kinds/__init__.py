"""Report kinds: one module per kind of run folder, found by name.

A kind module declares FILE (the JSON file its runs hold: summary.json or report.json),
`matches(data) -> bool` (whether that file is one of its runs) and `section(run) -> Section`; its
template is `templates/kinds/NAME.html.j2`, which extends `section.html.j2`. Adding a module and a
template adds a kind: `lapicque report` finds both (docs/architecture.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType


@cache
def all_kinds() -> dict[str, ModuleType]:
    """Every kind module of this package by name."""
    return {info.name: importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def kinds_of(file: str, data: dict) -> list[str]:
    """The kinds whose runs hold `file` with this content (one for a lapicque run folder)."""
    return [name for name, kind in all_kinds().items() if kind.FILE == file and kind.matches(data)]
