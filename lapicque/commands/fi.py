"""`lapicque fi`: the f-I curve of a model of the integrate-and-fire family."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.table import Table

from lapicque.errors import LapicqueError
from lapicque.jobs import fi as job
from lapicque.jobs.fi import MAX_POINTS

from .options import EXIT_OK, job_arguments, output_folder, real_in

NAME = "fi"
HELP = "f-I curve of a neuron model (JSON and PNG)"
DESCRIPTION = ("Steady firing rate against constant input current for one of the integrate-and-fire family "
               "(lapicque.golden.models), with the closed form where one exists (lif, qif).")
OUTPUTS = "OUT/summary.json, OUT/fi.png; with --sigma OUT/noise.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="lif", help="perfect-if, lif (default), qif, qif-adapt, eif, adex, izhikevich, "
                                                  "fitzhugh-nagumo, hodgkin-huxley")
    p.add_argument("--currents", help="LOW:HIGH:COUNT in the model's current unit (default: the model's range)")
    p.add_argument("--duration", type=float, default=1000.0, help="simulated ms per current (default 1000)")
    p.add_argument("--dt", type=float, default=0.05, help="time step in ms (default 0.05)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model parameter (repeatable), e.g. --param tau_m=20")
    p.add_argument("--sigma", type=real_in(1e-6, 1000.0),
                   help="lif only: add white noise of this amplitude (mV, Brunel's convention; up to 1000); the "
                        "summary and noise.png add the Siegert rate, the simulated noisy rates and the linear response")
    p.add_argument("--out", type=output_folder, default=Path("runs/fi"), help="results folder (default runs/fi)")


def parse_currents(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    try:
        low, high, count = text.split(":")
        low, high, count = float(low), float(high), int(count)
    except ValueError:
        raise LapicqueError(f"--currents {text!r} must be LOW:HIGH:COUNT, e.g. 0:1000:26") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high and 2 <= count <= MAX_POINTS):
        raise LapicqueError(f"--currents {text!r}: need finite LOW < HIGH and 2 <= COUNT <= {MAX_POINTS}")
    return np.linspace(low, high, count)


def parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise LapicqueError(f"--param {item!r} must be NAME=NUMBER, e.g. tau_m=20")
    return params


def arguments(args: argparse.Namespace) -> dict:
    """The job's arguments: --currents LOW:HIGH:COUNT as values, each --param NAME=VALUE into params."""
    return {**job_arguments(args, job), "currents": parse_currents(args.currents),
            "params": parse_params(args.param) or None}


def run(args: argparse.Namespace, console) -> int:
    with console.status("starting") as spinner:
        summary = job(**arguments(args), status=spinner.update)
    currents, rates, closed = summary["currents"], summary["rates_hz"], summary["closed_form_rates_hz"]
    table = Table(title=f"f-I curve: {summary['model']} ({summary['method']}, dt {args.dt:g} ms)")
    table.add_column("current", justify="right")
    table.add_column("rate (Hz)", justify="right")
    if closed:
        table.add_column("closed form (Hz)", justify="right")
    for k in range(0, len(currents), max(1, len(currents) // 8)):
        row = [f"{currents[k]:g}", f"{rates[k]:.3f}"]
        if closed:
            row.append(f"{closed[k]:.3f}")
        table.add_row(*row)
    console.print(table)
    console.print(f"rheobase: {summary['rheobase']}; results: {args.out / 'summary.json'}, plot: {args.out / 'fi.png'}")
    return EXIT_OK
