"""The page: sections of every run rendered through Jinja2 templates into one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic

from .kinds import all_kinds
from .runs import load_run
from .sections import Run, Section, shown


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("lapicque.report", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = shown
    return env


MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError)


def section(run: Run) -> Section:
    """The section the run's kind makes of it; a one-line LapicqueError for a summary that has the kind's
    keys but not its form (edited by hand, or written by something else)."""
    kind = all_kinds()[run.kind]
    try:
        return kind.section(run)
    except MALFORMED as exc:
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise LapicqueError(f"{run.folder / kind.FILE} is not a well-formed {run.kind} run ({detail}); run it again "
                            "to rewrite it") from None


@dataclass
class Difference:
    key: str
    values: list
    deltas: list
    differs: bool


def differences(sections: list[Section]) -> list[Difference]:
    """The headline numbers every run has, and whether they differ between the runs."""
    keys = [k for k in sections[0].numbers if all(k in s.numbers for s in sections[1:])]
    rows = []
    for key in keys:
        values = [s.numbers[key] for s in sections]
        base = values[0]
        differs = any(not np.isclose(v, base, rtol=1e-9, atol=0) for v in values[1:])
        deltas = [v - base if isinstance(v, int | float) else "" for v in values[1:]]
        rows.append(Difference(key, values, deltas, differs))
    return rows


@dataclass
class Page:
    html: str
    sections: list[Section]

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.sections)


def build_page(runs: list[Run], story: str | None = None) -> Page:
    """The whole page for one run or several runs of one kind side by side; with `story` (an HTML
    paragraph the caller has escaped) the runs are chapters of one story, any kinds, one after the other."""
    kinds = {r.kind for r in runs}
    if story is None and len(runs) > 1 and len(kinds) > 1:
        raise LapicqueError("runs of different kinds cannot be compared side by side ("
                            + ", ".join(f"{r.folder}: {r.kind}" for r in runs) + "); give runs of one kind")
    sections = [section(r) for r in runs]
    env = environment()
    rendered = [Markup(env.get_template(f"kinds/{s.run.kind}.html.j2").render(sec=s)) for s in sections]
    failed = [f"{s.run.name}: {c.label}" for s in sections for c in s.checks if not c.passed]
    html = env.get_template("page.html.j2").render(
        title="lapicque report: " + ", ".join(r.name for r in runs), failed=failed,
        written=datetime.now(UTC).isoformat(timespec="seconds"), story=Markup(story) if story is not None else None,
        differences=differences(sections) if story is None and len(sections) > 1 else None, sections=sections,
        rendered=rendered, columns=len(sections) if story is None else 1)
    return Page(html, sections)


def render(runs: list[Run], story: str | None = None) -> str:
    return build_page(runs, story).html


def write_report(folders: list[Path], out: Path, story: str | None = None) -> Path:
    """Render the runs in `folders` into `out` (written whole, then renamed); returns `out`."""
    return write_page(folders, out, story)[0]


def write_page(folders: list[Path], out: Path, story: str | None = None) -> tuple[Path, Page]:
    """As write_report, and the page with its sections (their checks decide the verdict)."""
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise LapicqueError(f"cannot write {out}: folder {out.parent} does not exist")
    page = build_page([load_run(Path(f)) for f in folders], story)
    write_atomic(out, page.html)
    return out, page
