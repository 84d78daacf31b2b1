"""`lapicque fit`: a GIF (or LIF) neuron fitted to a recording of current and voltage."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import fit as job

from .options import EXIT_OK, job_arguments, output_folder, real_in, seed, whole_in

NAME = "fit"
HELP = "fit a GIF (or LIF) neuron to a recording of current and voltage"
DESCRIPTION = ("Fit the generalized integrate-and-fire model (Pozzorini et al. 2015) to a current-clamp recording: "
               "reset from the spike-triggered average, subthreshold parameters and the spike-triggered current by "
               "linear regression, the escape threshold and its movement by maximum likelihood "
               "(lapicque.golden.gif). The last --holdout of the recording scores spike prediction; the neuron is "
               "exported to the array's codes.")
OUTPUTS = "OUT/summary.json, OUT/fit.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--current", type=Path, help="injected current, pA (.npy, 1-D), or a .npz with current, "
                                                "voltage and dt")
    p.add_argument("--voltage", type=Path, help="recorded membrane potential, mV (.npy, 1-D)")
    p.add_argument("--dt", type=real_in(1e-6, 100.0), help="sample interval in ms (needed for .npy files)")
    p.add_argument("--synthetic", type=real_in(0.1, 600.0), metavar="SECONDS",
                   help="instead of files: simulate lapicque's own GIF neuron under noisy current for this long "
                        "and fit it (the report shows the true parameters beside the fitted ones); allowed 0.1 to "
                        "600")
    p.add_argument("--model", default="gif", help="gif (default: spike-triggered current and threshold) or lif")
    p.add_argument("--t-ref", type=real_in(0.0, 1000.0), default=4.0,
                   help="refractory period in ms (default 4; up to 1000)")
    p.add_argument("--bins", type=whole_in(1, 100), default=6,
                   help="gif: rectangular bins per kernel (default 6); allowed 1 to 100")
    p.add_argument("--kernel-ms", type=real_in(1.0, 100_000.0), default=300.0,
                   help="gif: kernel length in ms (default 300; 1 to 100000)")
    p.add_argument("--spike-threshold", type=real_in(-1000.0, 1000.0), default=0.0,
                   help="mV that marks a spike (default 0)")
    p.add_argument("--holdout", type=float, default=0.2, help="fraction held out for scoring (default 0.2)")
    p.add_argument("--repeats", type=whole_in(1, 1000), default=10,
                   help="simulated trials per score (default 10); allowed 1 to 1000")
    p.add_argument("--seed", type=seed, default=0, help="seed of the simulations (default 0)")
    p.add_argument("--out", type=output_folder, default=Path("runs/fit"), help="results folder (default runs/fit)")


def run(args: argparse.Namespace, console) -> int:
    with console.status("starting") as spinner:
        s = job(**job_arguments(args, job), status=spinner.update)
    table = Table(title=f"fit {s['model']}: {s['spikes_fitted']} spikes fitted, {s['duration_s']:g} s")
    table.add_column("parameter")
    table.add_column("fitted", justify="right")
    table.add_column("+- std. error", justify="right")
    if s.get("true"):
        table.add_column("true", justify="right")
    for name, value in s["params"].items():
        if isinstance(value, dict):
            continue
        row = [name, f"{value:.4g}", f"{s['stderr'][name]:.2g}" if name in s["stderr"] else ""]
        if s.get("true"):
            row.append(f"{s['true'][name]:.4g}" if name in s["true"] else "")
        table.add_row(*row)
    console.print(table)
    console.print(f"variance explained: dV/dt {s['variance_explained_dvdt']:.4f}, V {s['variance_explained_v']:.4f}; "
                  f"held-out coincidence factor {s['coincidence_factor']:.3f}"
                  + (f" (the true model's own: {s['intrinsic_coincidence_factor']:.3f})"
                     if s.get("intrinsic_coincidence_factor") is not None else ""))
    worst, error = s["export"]["worst_error"]
    console.print(f"on the array: {len(s['export']['codes'])} codes, worst quantisation error {error:+.2%} ({worst})")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'fit.png'}")
    return EXIT_OK
