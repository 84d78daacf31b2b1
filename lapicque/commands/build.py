"""`lapicque build`: synthesise the array for an FPGA board with the open tools from PyPI."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import build as job
from lapicque.jobs.board_run import DEFAULT_BAUD

from .options import (
    EXIT_FAILED,
    EXIT_OK,
    add_report_option,
    add_shape_options,
    job_arguments,
    output_folder,
    positive,
    positive_real,
)

NAME = "build"
HELP = "synthesise the array for an FPGA board (bitstream and report.json)"
DESCRIPTION = ("Build the array with its UART host bridge for a board, with the YoWASP tools from PyPI. Exit 1 "
               "when timing fails, 2 when the array cannot fit (decided before any tool runs).")
OUTPUTS = "OUT/report.json (resources, Fmax, throughput), the bitstream (OUT/lapicque.bin or .bit), OUT/work/ " \
          "(the tools' files and log); with --report OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--list-boards", action="store_true", help="list the boards and exit")
    p.add_argument("--board", help="board name (see --list-boards)")
    add_shape_options(p)
    p.add_argument("--network", help="build the network core instead of an array: cuba (4000 neurons, its rows "
                                     "regenerated on the chip) or a network file (.toml, docs/networks.md)")
    p.add_argument("--scale", type=positive_real, help="--network cuba: 4000 x SCALE neurons, the full in-degree")
    p.add_argument("--clock", type=positive_real,
                   help="clock in MHz (default: the board's; a --network build on the iCEBreaker 24)")
    p.add_argument("--baud", type=positive, help=f"UART baud rate of an array's host bridge (default {DEFAULT_BAUD})")
    p.add_argument("--seed", type=positive, help="nextpnr's placement seed (default: nextpnr's own); Fmax "
                                                 "moves a few per cent with it")
    p.add_argument("--out", type=output_folder, help="output folder (default build/BOARD)")
    add_report_option(p)


def run(args: argparse.Namespace, console) -> int:
    if args.list_boards:
        return list_boards(console)
    r = job(**job_arguments(args, job), console=console)
    if "network" in r:
        print_network_report(r, console)
    else:
        print_report(r, console)
    out = args.out or Path("build") / r["board"]
    console.print(f"report: {out / 'report.json'}  bitstream: {r['bitstream']}")
    if args.report:
        console.print(f"report: {out / 'report.html'}")
    if not r["timing_met"]:
        console.print(f"[red]timing failed[/]: {r['clock_mhz']:g} MHz not met, Fmax {r['fmax_mhz']:g} MHz "
                      f"(slack {r['slack_ns']:g} ns); try --clock {int(r['fmax_mhz'])} or another --seed")
        return EXIT_FAILED
    return EXIT_OK


def list_boards(console) -> int:
    from lapicque.boards.board import all_boards

    table = Table(title="boards (lapicque build --board NAME)")
    for column in ("board", "device", "default array", "default clock", "notes"):
        table.add_column(column)
    for b in all_boards():
        table.add_row(b.name, b.device, f"{b.default_neurons} neurons x {b.default_lanes} lane(s)",
                      f"{b.default_clock_mhz:g} MHz", b.notes)
    console.print(table)
    return EXIT_OK


def print_network_report(r: dict, console) -> None:
    verdict = "[bold green]timing met[/]" if r["timing_met"] else "[bold red]timing FAILED[/]"
    table = Table(title=f"build: {r['board']} ({r['device']}), network {r['network']}: {r['neurons']} neurons, "
                        f"{r['synapses']:,} synapses, {r['lanes']} lane(s): {verdict}")
    table.add_column("resource")
    table.add_column("used", justify="right")
    table.add_column("available", justify="right")
    for name, u in r["resources"].items():
        table.add_row(name, str(u["used"]), str(u["available"]))
    console.print(table)
    console.print(f"Fmax {r['fmax_mhz']:g} MHz (clock {r['clock_mhz']:g} MHz); {r['cycles_per_step']:g} cycles per "
                  f"step over {r['steps_simulated']} steps of the fixed model: {r['timesteps_per_s']:,.0f} steps/s, "
                  f"{r['realtime_factor']:g} x real time at dt {r['dt_ms']:g} ms")


def print_report(r: dict, console) -> None:
    from lapicque.boards.flow import memory_kinds

    verdict = "[bold green]timing met[/]" if r["timing_met"] else "[bold red]timing FAILED[/]"
    table = Table(title=f"build: {r['board']} ({r['device']}), {r['neurons']} neurons x {r['lanes']} lane(s), "
                        f"{r['weight_bits']}-bit weights: {verdict}")
    table.add_column("resource")
    table.add_column("used", justify="right")
    table.add_column("available", justify="right")
    table.add_column("%", justify="right")
    for name, use in r["resources"].items():
        pct = 100 * use["used"] / use["available"] if use["available"] else 0
        table.add_row(name, f"{use['used']:,}", f"{use['available']:,}", f"{pct:.0f}")
    table.add_section()
    table.add_row("clock (MHz)", f"{r['clock_mhz']:g}", f"Fmax {r['fmax_mhz']:g}",
                  f"slack {r['slack_ns']:g} ns" if r["slack_ns"] is not None else "")
    table.add_row("neuron updates/s", f"{r['neuron_updates_per_s']:,}", "", "")
    table.add_row("synaptic events/s (peak)", f"{r['synaptic_events_per_s']:,}", "", "")
    console.print(table)
    console.print("memories: " + "; ".join(
        f"{kind}: " + ", ".join(f"{n} in {prim}" for prim, n in sorted(counts.items()))
        for kind, counts in memory_kinds(r["memories"]).items()))
