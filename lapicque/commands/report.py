"""`lapicque report`: one HTML page of one run, or of several runs of one kind side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from lapicque.jobs import report as job

from .options import EXIT_FAILED, EXIT_OK, job_arguments

NAME = "report"
HELP = "one HTML page of one run, or of several runs side by side"
DESCRIPTION = ("Write the verification report (self-contained HTML) of run folders written by verify, lca, tem, "
               "build, prove, fi, net, density, fit or nir import; several runs of one kind go side by side with "
               "their differences called out. Exit 1 when a check of any run fails.")
OUTPUTS = "the HTML file (--out)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", type=Path, help="run folders")
    p.add_argument("--out", type=Path, help="the HTML file (default RUN/report.html for one run, else report.html)")


def run(args: argparse.Namespace, console) -> int:
    with console.status("writing the report"):
        result = job(**job_arguments(args, job))
    for r in result["runs"]:
        console.print(f"{r['kind']} {r['folder']}: " + ("[green]passed[/]" if r["passed"] else "[red]FAILED[/]"))
    console.print(f"report: {result['report']}")
    return EXIT_OK if result["passed"] else EXIT_FAILED
