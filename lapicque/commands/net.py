"""`lapicque net`: a benchmark network simulated by the float golden model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import Progress

from lapicque.jobs import net as job

from .options import EXIT_OK, job_arguments, output_folder, seed, whole_in

NAME = "net"
HELP = "simulate a benchmark network (cuba, brunel, lattice): JSON summary and raster PNG"
DESCRIPTION = ("Simulate a network of LIF neurons with exponential current synapses, integrated exactly "
               "(lapicque.golden.network).")
OUTPUTS = "OUT/summary.json, OUT/raster.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="cuba (Brette et al. 2007, benchmark 2: 4000 LIF, p = 0.02), brunel "
                                   "(Brunel 2000, delta synapses, see --regime) or lattice (a 2-D sheet with "
                                   "local excitation: a wave from a central patch)")
    p.add_argument("--regime", default="AI", help="brunel: SR, AI (default), SI-fast or SI-slow")
    p.add_argument("--duration", type=float, default=1.0, help="biological time in s (default 1)")
    p.add_argument("--neurons", type=whole_in(1, 50_000),
                   help="cuba: neurons (default 4000); brunel: excitatory neurons (default 10000, C_E = 1000); "
                        "lattice: about side^2 (default 1024); allowed 1 to 50000")
    p.add_argument("--seed", type=seed, default=1, help="seed of the connectivity and initial state (default 1)")
    p.add_argument("--dt", type=float, default=0.1, help="time step in ms (default 0.1)")
    p.add_argument("--connectivity", choices=("random", "procedural"), default="random",
                   help="random (numpy's generator, the default) or procedural (lapicque's counter-based rows, "
                        "which the hardware regenerates per spike; cuba, brunel)")
    p.add_argument("--out", type=output_folder, default=Path("runs/net"), help="results folder (default runs/net)")


def run(args: argparse.Namespace, console) -> int:
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{args.network}: simulating", total=None)
        s = job(**job_arguments(args, job), progress=lambda k, steps: bar.update(task, completed=k, total=steps))
    cv = "n/a" if s["mean_cv"] is None else f"{s['mean_cv']:.2f}"
    console.print(f"{s['network']}: {s['neurons']} neurons, {s['synapses']:,} synapses, {s['duration_s']:g} s: "
                  f"{s['spikes']:,} spikes, mean rate {s['mean_rate_hz']:.2f} Hz, mean CV {cv}; the loop ran "
                  f"{s['run_s']:.2f} s (after {s['setup_s']:.2f} s loading it)")
    console.print(f"results: {args.out / 'summary.json'}, raster: {args.out / 'raster.png'}")
    return EXIT_OK
