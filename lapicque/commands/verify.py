"""`lapicque verify`: prove an array's RTL equal to its fixed-point and float models, update by update."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import verify as job

from .options import (
    EXIT_FAILED,
    EXIT_OK,
    add_report_option,
    duration,
    output_folder,
    positive,
    print_where,
    run_checked,
    run_with_status,
    seed,
    whole_in,
)

NAME = "verify"
HELP = "prove the RTL array equal to the fixed and float models"
DESCRIPTION = ("Build the RTL of a neuron array, simulate it with cocotb and check every state update against the "
               "bit-exact and float models.")
OUTPUTS = "OUT/summary.json, OUT/sim/ (traces, stimulus, logs), OUT/build.log; with --waves a waveform; with " \
          "--report OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", type=Path, help="array description (TOML); default: a random array")
    p.add_argument("--neurons", type=whole_in(1, 8192),
                   help="neurons of the random array (default 64); allowed 1 to 8192")
    p.add_argument("--lanes", type=positive, help="parallel lanes (default 2, or the spec's)")
    p.add_argument("--steps", type=positive, help="timesteps to simulate (default 500)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the random array and stimulus (default 0)")
    p.add_argument("--sim", default="verilator", help="simulator: verilator (default) or icarus")
    p.add_argument("--waves", action="store_true", help="write a waveform file next to the summary")
    p.add_argument("--backpressure", type=float, default=None,
                   help="probability per cycle that a back-pressure burst starts on each stream (default 0.02)")
    p.add_argument("--out", type=output_folder, default=Path("runs/verify"),
                   help="results folder (default runs/verify)")
    p.add_argument("--require-coverage", action="store_true",
                   help="fail the run when a coverage bin is missed (by default a missed bin is a warning)")
    p.add_argument("--soak", type=duration, metavar="DURATION",
                   help="verify seeded random arrays and networks one after another for DURATION (seconds, or "
                        "90s, 10m, 8h), every update checked; a mismatch stops it and leaves OUT/reproducer/")
    add_report_option(p)
    # test-only: build a deliberately wrong datapath to show that the harness catches it
    p.add_argument("--inject-bug", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, console) -> int:
    if args.soak is None:
        return run_checked(args, console, job, print_summary)
    summary = run_with_status(args, console, job)
    print_soak(summary, console)
    print_where(args, console)
    return EXIT_OK if summary["passed"] else EXIT_FAILED


def print_soak(s: dict, console) -> None:
    verdict = "[bold green]PASSED[/]" if s["passed"] else "[bold red]FAILED[/]"
    console.print(f"soak: {s['cases']} cases, {s['updates_checked']:,} updates checked, "
                  f"{s['bit_exact_mismatches']} bit-exact mismatches in {s['wall_s']:.0f} s "
                  f"({s['checked_updates_per_s']:,.0f} checked updates/s, {s['simulator']}): {verdict}")
    failed = s.get("failed_case")
    if failed:
        console.print(f"[red]case {failed['index']} failed[/]: {failed['what']}")
        if failed.get("first_mismatch"):
            console.print(f"first mismatch: {failed['first_mismatch']}")
        if failed.get("error"):
            console.print(f"error: {failed['error']}")
        console.print(f"replay it: {s['reproducer']['command']}")


def print_summary(s: dict, console) -> None:
    verdict = "[bold green]PASSED[/]" if s["passed"] else "[bold red]FAILED[/]"
    table = Table(title=f"verify: {s['neurons']} neurons x {s['lanes']} lanes, {s['steps']} steps, "
                        f"{s['simulator']}: {verdict}")
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_column("bound", justify="right")
    table.add_row("updates checked", f"{s['updates_checked']:,}", f"{s['neurons'] * s['steps']:,}")
    table.add_row("bit-exact mismatches", str(s["bit_exact_mismatches"]), "0")
    table.add_row("float bound violations", str(s["float_bound_violations"]), "0")
    table.add_row("max float error (LSB)", f"{s['max_float_error_lsb']:.3f}", f"< {s['float_bound_lsb']}")
    unreachable = s.get("coverage_unreachable", [])
    reachable = len(s["coverage"]) - len(unreachable)
    table.add_row("coverage bins hit", f"{reachable - len(s['coverage_missed'])}/{reachable}",
                  "missed: " + (", ".join(s["coverage_missed"]) or "none"))
    table.add_row("cycles per step (mean)", f"{s['cycles_per_step']:.1f}",
                  f"bound {s['cycles_per_step_bound']:.1f} (issue 20), floor {s['cycles_per_step_floor']:.1f}")
    table.add_row("checked updates per s", f"{s['checked_updates_per_s']:,.0f}", "")
    table.add_row("wall time (s)", f"{s['wall_s']:.1f}", "build cached" if s["build_cached"] else "built")
    console.print(table)
    split = s.get("time_split")
    if split:  # the three largest parts: what bounds this run
        largest = sorted(split.items(), key=lambda item: -item[1])[:3]
        console.print("where the time went: " + ", ".join(f"{key.removesuffix('_s').replace('_', ' ')} {seconds:.2f} s"
                                                         for key, seconds in largest)
                      + " (summary.json: time_split)")
    for key, label in (("first_mismatch", "first bit-exact mismatch"),
                       ("first_float_violation", "first float bound violation")):
        m = s.get(key)
        if m:
            console.print(f"[red]{label}[/]: step {m['step']}, neuron {m['neuron']}, field {m['field']}: "
                          f"expected {m['expected']}, got {m['got']}")
    if s.get("timed_out"):
        console.print("[red]the RTL stopped making progress: the run timed out[/]")
    if s.get("records_left_over"):
        console.print(f"[red]the simulator stopped mid-transfer: {s['records_left_over']} bytes of a partial record "
                      "left unchecked[/]")
    if s["coverage_missed"]:
        colour, consequence = (("red", "the run fails (--require-coverage)") if s.get("coverage_required") else
                               ("yellow", "run longer, or add --require-coverage to fail on it"))
        console.print(f"[{colour}]coverage[/]: {len(s['coverage_missed'])} bin(s) never hit: "
                      f"{', '.join(s['coverage_missed'])}; {consequence}")
    if unreachable:
        console.print(f"coverage: {', '.join(unreachable)} cannot be hit by this spec (no neuron has the rule); "
                      "not counted")
    if s.get("waves"):
        console.print(f"waveform: {s['waves']}")
