"""`lapicque sweep`: a sweep file's points through their stages on Dask, cached, with their Pareto fronts."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import sweep as job

from .options import EXIT_OK, add_report_option, output_folder, positive, run_with_status, whole_in

NAME = "sweep"
HELP = "explore widths, lanes, boards and workloads together on Dask; Pareto fronts"
DESCRIPTION = ("Run every point of a sweep file (a workload, the axes to explore, the stages each point runs and "
               "the objectives) as cached tasks on a Dask cluster: a local one by default, or yours with "
               "--scheduler. A rerun resumes from the cache and reruns nothing done.")
OUTPUTS = "OUT/sweep.json (every point), OUT/pareto.json (the fronts), OUT/summary.json, OUT/cache/ (every " \
          "task's run folder); with --report OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="the sweep file (TOML; examples/sweeps/)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.add_argument("--scheduler-file", type=Path, metavar="FILE",
                   help="the scheduler file a Dask scheduler wrote (dask scheduler --scheduler-file, dask-jobqueue)")
    p.add_argument("--workers", type=positive,
                   help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--retries", type=whole_in(0, 100), default=0,
                   help="times a crashed task is run again (default 0; a task that fails on its input is not)")
    p.add_argument("--cache", type=output_folder,
                   help="the task cache (default OUT/cache); on a cluster, a folder every worker can write")
    p.add_argument("--out", type=output_folder, default=Path("runs/sweep"), help="results folder (default runs/sweep)")
    add_report_option(p)


def run(args: argparse.Namespace, console) -> int:
    summary = run_with_status(args, console, job)
    print_summary(summary, console)
    console.print(f"results: {args.out / 'sweep.json'}, {args.out / 'pareto.json'}")
    if args.report:
        console.print(f"report: {args.out / 'report.html'}")
    return EXIT_OK


def print_summary(s: dict, console) -> None:
    table = Table(title=f"sweep {s['name']} ({s['kind']}): {s['points']} points, stages {', '.join(s['stages'])}")
    for column in ("points done", "failed", "from the cache", "tasks computed", "tasks from the cache", "wall (s)"):
        table.add_column(column, justify="right")
    table.add_row(str(s["done"]), str(s["failed"]), str(s["from_cache"]), str(s["tasks"]["computed"]),
                  str(s["tasks"]["from_cache"]), f"{s['wall_s']:.1f}")
    console.print(table)
    for failure in s["failed_points"][:10]:
        console.print(f"[yellow]failed[/] point {failure['index']} {failure['params']}: {failure['reason']}")
    if len(s["failed_points"]) > 10:
        console.print(f"and {len(s['failed_points']) - 10} more failed points (sweep.json)")
