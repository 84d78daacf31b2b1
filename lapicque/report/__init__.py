"""The verification report: one self-contained HTML page per run, or several runs side by side.

`lapicque verify/lca/build/tem --report` and `lapicque report RUN... --out FILE` call `write_report`.
The page has a verdict (every check with its value and bound, the verdict computed from the value), the
configuration and provenance, and figures embedded as PNG data; it needs no network and no other file.
Each check row carries its numbers as data attributes (`data-check`, `data-value`, `data-bound`,
`data-passed`) so that tests and scripts read them without parsing prose.

Each kind of run is a module of `lapicque.report.kinds` with a template in `templates/kinds/`; what a
run folder holds decides its kind.
"""

from .kinds import all_kinds
from .page import Page, build_page, render, section, write_page, write_report
from .runs import load_run, read_json
from .sections import Check, Run, Section

__all__ = ["Check", "Page", "Run", "Section", "all_kinds", "build_page", "load_run", "read_json", "render", "section",
           "write_page", "write_report"]
