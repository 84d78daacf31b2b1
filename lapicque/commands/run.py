"""`lapicque run`: an array on a programmed board, checked against the bit-exact model."""

from __future__ import annotations

import argparse
from pathlib import Path

from lapicque.jobs import run_on_board as job
from lapicque.jobs.board_run import DEFAULT_BAUD

from .options import EXIT_FAILED, EXIT_OK, add_shape_options, job_arguments, output_folder, positive, seed

NAME = "run"
HELP = "load an array onto a programmed board, run it, check it against the model"
DESCRIPTION = ("Speak the UART protocol (docs/protocol.md) to a board programmed by lapicque build: load "
               "parameters, state and weights, run, and compare the spikes and watched states with the bit-exact "
               "model. Exit 1 when they differ.")
OUTPUTS = "OUT/summary.json, OUT/spikes.npy"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", required=True, help="board name (see lapicque build --list-boards)")
    p.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    add_shape_options(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of the random array and initial state (default 0)")
    p.add_argument("--steps", type=positive, default=100, help="timesteps to run (default 100)")
    p.add_argument("--watch", default="", help="neurons whose states stream back, e.g. 0,5,9")
    p.add_argument("--baud", type=positive, default=DEFAULT_BAUD, help=f"UART baud rate (default {DEFAULT_BAUD})")
    p.add_argument("--out", type=output_folder, default=Path("runs/board"), help="results folder (default runs/board)")


def run(args: argparse.Namespace, console) -> int:
    with console.status("connecting") as spinner:
        s = job(**job_arguments(args, job), status=spinner.update)
    verdict = "[green]bit-exact with the model[/]" if s["matches_model"] else \
        "[red]differs from the model[/]: " + "; ".join(s["problems"])
    console.print(f"{s['spikes']} spikes; {verdict}")
    console.print(f"results: {args.out / 'summary.json'}")
    return EXIT_OK if s["matches_model"] else EXIT_FAILED
