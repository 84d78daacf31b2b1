"""`lapicque explore`: a neuron model under sliders, in a window or rendered to a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.jobs import explore as job

from .options import EXIT_OK, job_arguments, real_in

NAME = "explore"
HELP = "a neuron model under sliders (matplotlib window)"
DESCRIPTION = ("Open a window with a model's membrane trace under a current step and a slider for every parameter "
               "and the current; --save renders it to a PNG instead (headless machines).")
OUTPUTS = "a window; with --save the PNG"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="adex", help="a model of lapicque fi --help (default adex)")
    p.add_argument("--current", type=real_in(-1e9, 1e9), help="the current step (default: the model's)")
    p.add_argument("--duration", type=real_in(1.0, 1e5), default=500.0, help="window in ms (default 500); allowed 1 "
                                                                               "to 100000")
    p.add_argument("--save", type=Path, help="write the figure to this PNG instead of opening a window")


def run(args: argparse.Namespace, console) -> int:
    from lapicque.explore import has_display

    window = args.save is None
    if window and not has_display():
        raise LapicqueError("no display for the explorer's window here; use --save explorer.png to render it "
                            "to a file")
    with console.status(f"simulating {args.model}"):
        job(**job_arguments(args, job), window=window)
    if not window:
        console.print(f"explorer figure: {args.save}")
        return EXIT_OK
    import matplotlib.pyplot as plt

    plt.show()
    return EXIT_OK
