"""`lapicque prove`: the datapath proved equal to the neuron contract for every input."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import prove as job

from .options import (
    add_report_option,
    output_folder,
    positive,
    positive_real,
    run_checked,
    whole_in,
)


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())

NAME = "prove"
HELP = "prove the RTL equal to the neuron contract: datapath, stream converters, a whole array"
DESCRIPTION = ("Prove with SymbiYosys and Boolector (from PyPI) that the pipelined RTL datapath computes the "
               "contract's update for every state, parameter and input (k-induction at reduced widths, for the "
               "combinational datapath and the array's own pipeline; every latency with --latencies all; the "
               "spec's own widths too with --full-widths), that the stream width converters lose, duplicate, "
               "reorder or alter nothing and never deadlock (k-induction), and that a small whole array feeds "
               "every update the contract's inputs and emits every spike once (BMC). A failure shows its "
               "counterexample. docs/prove.md.")
OUTPUTS = "OUT/summary.json, OUT/jobs/ (every SymbiYosys run, a failure's counterexample VCD); with --report " \
          "OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", type=Path, help="array description (TOML); its rounding, weight exponent and widths")
    p.add_argument("--neurons", type=whole_in(1, 8192), help="neurons of the default array (default 8)")
    p.add_argument("--lanes", type=positive, help="lanes of the default array (default 2, or the spec's)")
    p.add_argument("--latencies", default="array",
                   help="array (default: the combinational datapath and the array's pipeline) or all (every "
                        "latency 1..7 too)")
    p.add_argument("--full-widths", action="store_true",
                   help="also prove at the spec's own widths (minutes per property)")
    p.add_argument("--parts", type=comma_list, default=None,
                   help="what to prove, comma-separated: datapath, streams, array, uart (default all four)")
    p.add_argument("--timeout", type=positive_real, help="seconds per property; past it the status is unknown")
    p.add_argument("--out", type=output_folder, default=Path("runs/prove"), help="results folder (default runs/prove)")
    add_report_option(p)
    # test-only: a deliberately wrong datapath, to show that the proof fails with a counterexample
    p.add_argument("--inject-bug", help=argparse.SUPPRESS)
    p.add_argument("--swap-rounding", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, console) -> int:
    return run_checked(args, console, job, print_summary)


def print_summary(s: dict, console) -> None:
    verdict = "[bold green]PROVED[/]" if s["passed"] else "[bold red]NOT PROVED[/]"
    table = Table(title=f"prove: rounding {s['spec']['rounding']}, weight exponent {s['spec']['weight_exponent']}: "
                        f"{verdict}")
    for column in ("property", "kind", "depth", "result", "seconds"):
        table.add_column(column, justify="left" if column == "property" else "right")
    for p in s["properties"]:
        colour = {"pass": "green", "fail": "red"}.get(p["status"], "yellow")
        table.add_row(p["name"], p["kind"], str(p["depth"]), f"[{colour}]{p['status']}[/]", f"{p['seconds']:.1f}")
    console.print(table)
    for p in s["properties"]:
        cex = p.get("counterexample")
        if cex:
            differing = [f"{o['signal']} expected {o['expected']} got {o['got']}"
                         for o in cex["outputs"] if o["signal"] in cex["differs"]]
            # a broken promise with no wrong value (a record too early, a byte read too soon): the assertion says it
            broken = [] if differing else [f"failed at step {cex['step']}: {line}"
                                           for line in cex.get("assertions", [])]
            console.print(f"[red]counterexample[/] for {p['name']} ({p['counterexample_vcd']}): "
                          + "; ".join(differing or broken))
