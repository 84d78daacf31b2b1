"""The README's first command: the whole story in one run, ending in one report."""

import json
import re

from lapicque.cli import main


def test_demo_solves_verifies_builds_and_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "lca" / "summary.json").read_text())
    assert summary["backend"] == "rtl" and summary["verified"] and summary["bit_exact_mismatches"] == 0
    assert summary["rel_gap"] < 0.01
    build = json.loads((out / "build" / "report.json").read_text())
    assert build["board"] == "icebreaker" and build["neurons"] == summary["neurons"] and build["timing_met"]
    page = (out / "report.html").read_text()
    assert re.findall(r"<section class='run' data-kind='(\w+)'", page) == ["lca", "verify", "build"]
    assert "id='verdict' data-passed='true'" in page
    assert str((out / "report.html").resolve()) in printed.replace("\n", "")  # it says where the report is
