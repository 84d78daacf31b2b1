"""The report of one run, or of several runs of one kind side by side."""

from __future__ import annotations

from pathlib import Path


def report(*, runs: list[Path | str], out: Path | str | None = None) -> dict:
    """Write the self-contained HTML report of the run folders `runs` to `out` (default RUN/report.html for
    one run, report.html for several).

    Returns {"report": the page's path, "passed": every check of every run holds, "runs": [{"folder",
    "kind", "passed"}]}.
    """
    from lapicque.report import write_page

    folders = [Path(r) for r in runs]
    if out is None:
        out = folders[0] / "report.html" if len(folders) == 1 else Path("report.html")
    path, page = write_page(folders, Path(out))
    return {"report": str(path), "passed": page.passed,
            "runs": [{"folder": str(s.run.folder), "kind": s.run.kind, "passed": s.passed} for s in page.sections]}
