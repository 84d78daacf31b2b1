"""`lapicque demo`: the whole story in one run, ending in one report."""

from __future__ import annotations

import argparse
from pathlib import Path

from lapicque.jobs import demo as job
from lapicque.jobs.demo import PROBLEM

from . import build, lca
from .options import EXIT_FAILED, EXIT_OK, job_arguments, output_folder

NAME = "demo"
HELP = "the whole story in one run: LCA on float, fixed and RTL (verified), an iCEBreaker build, one report " \
       "(runs/demo/report.html)"
DESCRIPTION = ("A LASSO problem solved by the spiking LCA in float, in the bit-exact fixed-point model and on the "
               "RTL (every update verified while it solves), the same array built for the iCEBreaker, and one "
               "report.")
OUTPUTS = "OUT/report.html, OUT/lca/ (the lca run, OUT/lca/rtl/ its verification), OUT/build/ (the board build)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=output_folder, default=Path("runs/demo"), help="results folder (default runs/demo)")
    p.add_argument("--sim", default="verilator", help="simulator: verilator (default) or icarus")
    p.add_argument("--no-build", action="store_true", help="leave out the iCEBreaker build")


def run(args: argparse.Namespace, console) -> int:
    console.print(f"lapicque demo: sparse approximation of a {PROBLEM['dim']}-sample signal on {PROBLEM['atoms']} "
                  f"atoms (spiking LCA, {2 * PROBLEM['atoms']} neurons), solved by the float, fixed-point and RTL "
                  f"models with the RTL verified update by update while it solves, then the same array built for "
                  f"the iCEBreaker, all in one report")
    with console.status("starting") as spinner:
        result = job(**job_arguments(args, job), status=spinner.update, console=console)
    lca.print_summary(result["lca"], console)
    if result["build"] is not None:
        build.print_report(result["build"], console)
    console.print(f"results: {args.out / 'lca' / 'summary.json'}")
    console.print(f"[bold]report: {Path(result['report']).resolve()}[/] (open it in a browser)")
    return EXIT_OK if result["passed"] else EXIT_FAILED
