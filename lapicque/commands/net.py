"""`lapicque net`: a benchmark network simulated by the float golden model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import Progress

from lapicque.jobs import net as job

from .options import EXIT_FAILED, EXIT_OK, job_arguments, output_folder, seed, whole_in

NAME = "net"
HELP = "simulate a benchmark network (cuba, brunel, lattice): JSON summary and raster PNG"
DESCRIPTION = ("Simulate a network of LIF neurons with exponential current synapses: integrated exactly "
               "(lapicque.golden.network) or bit-exact on its codes (--backend fixed).")
OUTPUTS = "OUT/summary.json, OUT/raster.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="cuba (Brette et al. 2007, benchmark 2: 4000 LIF, p = 0.02), brunel "
                                   "(Brunel 2000, delta synapses, see --regime), lattice (a 2-D sheet with "
                                   "local excitation: a wave from a central patch), or a network file (.toml: "
                                   "populations and projections in codes, docs/networks.md)")
    p.add_argument("--backend", choices=("float", "fixed", "rtl"), default="float",
                   help="float (the golden network, integrated exactly; the default), fixed (the bit-exact "
                        "contract on the network's codes, every quantity's rounding in the summary; cuba, brunel) "
                        "or rtl (the network core in a simulator, every update compared with the fixed model)")
    p.add_argument("--regime", default="AI", help="brunel: SR, AI (default), SI-fast or SI-slow")
    p.add_argument("--duration", type=float, default=1.0, help="biological time in s (default 1)")
    p.add_argument("--neurons", type=whole_in(1, 50_000),
                   help="cuba: neurons (default 4000); brunel: excitatory neurons (default 10000, C_E = 1000); "
                        "lattice: about side^2 (default 1024); allowed 1 to 50000")
    p.add_argument("--scale", type=float,
                   help="cuba: 4000 x SCALE neurons with the full network's in-degree (p = 0.02 / SCALE); "
                        "allowed 0.01 to 4")
    p.add_argument("--seed", type=seed, default=1, help="seed of the connectivity and initial state (default 1)")
    p.add_argument("--dt", type=float, default=0.1, help="time step in ms (default 0.1)")
    p.add_argument("--connectivity", choices=("random", "procedural"),
                   help="random (numpy's generator; the float backend's default) or procedural (lapicque's "
                        "counter-based rows, which the hardware regenerates per spike; cuba, brunel; the fixed "
                        "backend's only)")
    p.add_argument("--lanes", type=whole_in(1, 64),
                   help="rtl: the core's lanes (default 4, 2 or 1, the most that divide the network; a file's "
                        "own)")
    p.add_argument("--sim", default="verilator", help="rtl: verilator (default) or icarus")
    p.add_argument("--core", default="parallel",
                   help="rtl: parallel (default; the network core, lanes side by side) or serial (the iCEBreaker's: "
                        "one lane, state and accumulators in one single-ported memory)")
    p.add_argument("--out", type=output_folder, default=Path("runs/net"), help="results folder (default runs/net)")


def run(args: argparse.Namespace, console) -> int:
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{args.network}: simulating", total=None)
        s = job(**job_arguments(args, job), progress=lambda k, steps: bar.update(task, completed=k, total=steps))
    cv = "n/a" if s["mean_cv"] is None else f"{s['mean_cv']:.2f}"
    console.print(f"{s['network']} ({s['backend']}): {s['neurons']} neurons, {s['synapses']:,} synapses, "
                  f"{s['duration_s']:g} s: "
                  f"{s['spikes']:,} spikes, mean rate {s['mean_rate_hz']:.2f} Hz, mean CV {cv}; the loop ran "
                  f"{s['run_s']:.2f} s (after {s['setup_s']:.2f} s loading it)")
    if "mapping" in s:
        name, entry = max(s["mapping"].items(), key=lambda item: abs(item[1]["relative_error"]))
        console.print(f"codes: widths {s['widths']}; the largest rounding: {name} {entry['target']:g} -> "
                      f"{entry['realised']:.6g} ({100 * entry['relative_error']:+.2f} %); "
                      f"{s['saturated_updates']:,} saturated updates")
    if "rtl" in s:
        r = s["rtl"]
        verdict = "[bold green]PASSED[/]" if s["passed"] else "[bold red]FAILED[/]"
        bound = "" if r.get("cycles_bound_per_step") is None else f"; bound {r['cycles_bound_per_step']:.1f}"
        console.print(f"RTL ({r['simulator']}, {r.get('core', 'parallel')} core, {r['lanes']} lanes): "
                      f"{r['updates_checked']:,} updates checked, "
                      f"{r['bit_exact_mismatches']} bit-exact mismatches; {r['cycles_per_step']:.1f} cycles per "
                      f"step (the core's formula: {r['cycles_expected'] / r['steps']:.1f}{bound}); "
                      f"{r['steps_cycles_differing']} steps whose cycles differ, "
                      f"history overrun: {str(r['history_overflow']).lower()}, beats lost: "
                      f"{str(r['lost_beats']).lower()}; {r['checked_updates_per_s']:,.0f} checked updates/s {verdict}")
    console.print(f"results: {args.out / 'summary.json'}, raster: {args.out / 'raster.png'}")
    return EXIT_OK if s.get("passed", True) else EXIT_FAILED
