"""What a report kind produces: a Section of checks, configuration, headline numbers, figures and notes.

A Check's verdict is computed from the value it shows (`Check.at_most` and friends), so a page can never
show a value beside a verdict that does not follow from it; NaN and missing values fail.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from pathlib import Path

from lapicque.plots import png_bytes

COLORS = {"float": "#1f77b4", "fixed": "#ff7f0e", "rtl": "#2ca02c", "analog": "#9467bd", "bound": "#d62728"}


@dataclass
class Run:
    """A run folder and what it holds: its kind (a module of lapicque.report.kinds) and its summary."""

    folder: Path
    kind: str
    data: dict

    @property
    def name(self) -> str:
        return self.folder.name or str(self.folder)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Check:
    """One row of the verdict: the value shown, the bound shown, and whether the value meets the bound."""

    key: str
    label: str
    value: float | int | str
    bound: str
    passed: bool

    @classmethod
    def compare(cls, key: str, label: str, value, symbol: str, limit, display=None) -> Check:
        """`value` against `limit` by `symbol` (<=, <, >=, >); a value that is not a finite number fails.
        `display` formats the value shown (default: every digit); the verdict uses the value itself."""
        holds = COMPARISONS[symbol]
        shown_value = display(value) if display is not None and is_number(value) else shown_exactly(value)
        return cls(key, label, shown_value, f"{symbol} {shown_exactly(limit)}",
                   is_number(value) and is_number(limit) and holds(value, limit))

    @classmethod
    def at_most(cls, key: str, label: str, value, limit, display=None) -> Check:
        return cls.compare(key, label, value, "<=", limit, display)

    @classmethod
    def below(cls, key: str, label: str, value, limit, display=None) -> Check:
        return cls.compare(key, label, value, "<", limit, display)

    @classmethod
    def at_least(cls, key: str, label: str, value, limit, display=None) -> Check:
        return cls.compare(key, label, value, ">=", limit, display)

    @classmethod
    def above(cls, key: str, label: str, value, limit, display=None) -> Check:
        return cls.compare(key, label, value, ">", limit, display)

    @classmethod
    def equals(cls, key: str, label: str, value, expected) -> Check:
        """`value` == `expected` exactly (numbers, or true / false)."""
        if isinstance(expected, bool):
            return cls(key, label, str(bool(value)).lower() if isinstance(value, bool) else shown_exactly(value),
                       str(expected).lower(), value is expected)
        return cls(key, label, shown_exactly(value), f"= {shown_exactly(expected)}",
                   is_number(value) and value == expected)


COMPARISONS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}


def shown_exactly(x) -> str | int | float:
    """A checked value as the page shows it: every digit, None as '-'."""
    return "-" if x is None else x


def shown(x) -> str | int | float:
    """A value as a table shows it: floats to 4 significant digits, None as '-'."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return x


@dataclass
class Section:
    """What a run contributes: checks for the verdict, configuration rows, headline numbers (compared side by
    side), figures (title, base64 PNG), plain-text notes, and `extra`: data for the kind's own template."""

    run: Run
    checks: list[Check] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def add_figure(self, title: str, fig) -> None:
        self.figures.append((title, base64.b64encode(png_bytes(fig)).decode("ascii")))

    def add_png(self, title: str, path: Path) -> bool:
        """A PNG the run wrote itself (fi.png, raster.png, ...); False when the folder lacks it."""
        if not path.exists():
            self.notes.append(f"{path.name} is missing from this folder: its figure is left out.")
            return False
        self.figures.append((title, base64.b64encode(path.read_bytes()).decode("ascii")))
        return True


def provenance_rows(prov: dict | None) -> list[tuple[str, str]]:
    if not prov:
        return [("provenance", "not recorded by this run")]
    packages = ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v)
    return [("lapicque", f"{prov.get('lapicque')} (commit {prov.get('git_commit')})"), ("date", prov.get("date", "")),
            ("python", prov.get("python", "")), ("packages", packages)]
