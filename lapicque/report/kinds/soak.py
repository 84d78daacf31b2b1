"""`lapicque verify --soak` runs: the updates checked across the cases, the failing case and its reproducer."""

from __future__ import annotations

import json

from ..sections import Check, Run, Section

FILE = "summary.json"
#: the cases shown in the table (a night's soak has hundreds): the first ones, and the failing one
SHOWN_CASES = 100


def matches(data: dict) -> bool:
    return data.get("soak") is True


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    sec.checks = [
        Check.equals("bit_exact_mismatches", "bit-exact mismatches over every case", s["bit_exact_mismatches"], 0),
        Check.at_least("cases", "cases run", s["cases"], 1),
        Check("stopped", "what ended the soak (time: its duration ran out)", s["stopped"], "time",
              s["stopped"] == "time"),
    ]
    sec.numbers = {k: s[k] for k in ("cases", "updates_checked", "bit_exact_mismatches", "checked_updates_per_s",
                                     "wall_s")}
    sec.config = [("simulator", s["simulator"]), ("seed", str(s["seed"])), ("duration", f"{s['duration_s']:g} s"),
                  ("seeded bug", str(s.get("inject_bug")))]
    sec.extra["by_kind"] = sorted(s.get("updates_by_kind", {}).items())
    cases_file = run.folder / "cases.jsonl"
    cases = [json.loads(line) for line in cases_file.read_text().splitlines()] if cases_file.exists() else []
    if not cases:
        sec.notes.append("cases.jsonl is missing from this folder: the table of cases is left out.")
    elif len(cases) != s["cases"]:
        sec.checks.append(Check.equals("cases_listed", "cases in cases.jsonl", len(cases), s["cases"]))
    shown = cases[:SHOWN_CASES] + [c for c in cases[SHOWN_CASES:] if not c["passed"]]
    sec.extra["cases"] = shown
    sec.extra["cases_left_out"] = len(cases) - len(shown)
    sec.extra["failed"] = s.get("failed_case")
    sec.extra["reproducer"] = (s.get("reproducer") or {}).get("command")
    return sec
