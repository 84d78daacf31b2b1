"""`lapicque density`: the Fokker-Planck density of a noisy LIF population with network feedback."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import density as job

from .options import EXIT_OK, job_arguments, output_folder, real_in, seed, whole_in

NAME = "density"
HELP = "Fokker-Planck density of a noisy LIF population (JSON and PNG)"
DESCRIPTION = ("Solve the membrane-potential density of a population of noisy LIF neurons with network feedback "
               "(the NNLIF model) by conservative finite volumes (lapicque.golden.density): the rate over time, "
               "the stationary state against Siegert's rate, and a blow-up when excitation wins. Voltages in "
               "units of theta - v_reset (theta 1, reset 0).")
OUTPUTS = "OUT/summary.json, OUT/density.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mu", type=real_in(-100.0, 100.0), default=1.2,
                   help="mean input (default 1.2; 1 is threshold); allowed -100.0 to 100.0")
    p.add_argument("--sigma", type=real_in(1e-3, 100.0), default=0.5,
                   help="noise amplitude (default 0.5); allowed 1e-3 to 100.0")
    p.add_argument("--coupling", type=real_in(-100.0, 100.0), default=0.0,
                   help="network coupling J: the drift gains J tau_m nu (default 0; > 0 excitatory); allowed -100 "
                        "to 100")
    p.add_argument("--tau-m", type=real_in(0.1, 1000.0), default=20.0,
                   help="membrane time constant in ms (default 20); allowed 0.1 to 1000.0")
    p.add_argument("--t-ref", type=real_in(0.0, 1000.0), default=0.0, help="refractory period in ms, a whole number of "
                                                           "steps (default 0); allowed 0.0 to 1000.0")
    p.add_argument("--duration", type=float, default=0.5, help="seconds (default 0.5)")
    p.add_argument("--dt", type=float, default=0.02, help="time step in ms (default 0.02)")
    p.add_argument("--cells", type=whole_in(10, 20_000), default=200,
                   help="cells between reset and threshold (default 200); allowed 10 to 20000")
    p.add_argument("--init", default="gaussian", help="initial density: gaussian (default) or reset")
    p.add_argument("--init-mean", type=float, help="gaussian: its mean (default: the reset)")
    p.add_argument("--init-std", type=real_in(1e-4, 10.0), default=0.1,
                   help="gaussian: its width (default 0.1); allowed 1e-4 to 10.0")
    p.add_argument("--monte-carlo", type=whole_in(0, 1_000_000), default=0, metavar="N",
                   help="also simulate N neurons directly and compare the rates (e.g. 10000); allowed 0 to 1000000")
    p.add_argument("--seed", type=seed, default=0, help="seed of the Monte-Carlo run (default 0)")
    p.add_argument("--out", type=output_folder, default=Path("runs/density"),
                   help="results folder (default runs/density)")


def run(args: argparse.Namespace, console) -> int:
    with console.status("starting") as spinner:
        s = job(**job_arguments(args, job), status=spinner.update)
    stationary = s["stationary_rate_hz"]
    table = Table(title=f"density: mu {s['mu']:g}, sigma {s['sigma']:g}, J {s['coupling']:g}, {s['duration_s']:g} s")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("final rate", f"{s['final_rate_hz']:.3f} Hz")
    table.add_row("stationary rate (self-consistent)", "none" if stationary is None else f"{stationary:.3f} Hz")
    if "siegert_rate_hz" in s:
        table.add_row("Siegert at the same drift", f"{s['siegert_rate_hz']:.3f} Hz ({s['stationary_vs_siegert']:+.1e})")
    table.add_row("largest mass change per step", f"{s['max_mass_error_per_step']:.1e}")
    mc = s.get("monte_carlo")
    if mc and not mc["bins"]:
        table.add_row(f"Monte-Carlo ({args.monte_carlo:,} neurons)", "too few spikes per 1 ms bin to compare")
    elif mc:
        table.add_row(f"Monte-Carlo ({args.monte_carlo:,} neurons)", f"chi2/dof {mc['chi2_per_bin']:.2f}, "
                                                                     f"max |z| {mc['max_abs_z']:.2f}")
    console.print(table)
    blow_up = s["blow_up"]
    if blow_up:
        console.print(f"[yellow]blow-up at {blow_up['time_ms']:.2f} ms (rate {blow_up['rate_hz']:.0f} Hz): "
                      f"{blow_up['reason']}[/]")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'density.png'}")
    return EXIT_OK
