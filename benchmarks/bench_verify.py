"""Verification throughput and cycles per timestep: arrays on Verilator and Icarus, and a 4000-neuron network.

    python benchmarks/bench_verify.py                        # the configurations below, 5 repeats, medians
    python benchmarks/bench_verify.py --quick                # one repeat, short runs
    python benchmarks/bench_verify.py --split                # and, per array, where a run's wall time went
    python benchmarks/bench_verify.py --baseline b2058ef     # each configuration on that revision too, side by side
    python benchmarks/bench_verify.py --network              # and full-size CUBA (4000 neurons, 8 lanes, 2000 steps)

Prints, per simulator and array shape: checked neuron updates per second (median over repeats, the
testbench's run and check phase; builds are cached and not counted), and mean cycles per timestep
against the lower bound max(N / lanes, spikes x N / lanes) + pipeline latency, measured without
back-pressure (back-pressure adds stall cycles on purpose). For the network: the same rate over its run
phase where the revision reports one, and over the whole job (simulator start, run and every comparison; the
build cached) in every case. With `--baseline REV` every configuration is measured on REV (a git worktree, the
same tools) right before this checkout, one configuration after the other (benchmarks/baseline.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
CONFIGS = [(64, 2, 500), (128, 4, 300), (256, 8, 200), (64, 8, 500)]
NETWORK = ("cuba", 4000, 8, 2000)


def measure(kind: str, sim: str, neurons: int, lanes: int, steps: int, repeats: int, rounding: str) -> dict:
    """Medians over `repeats` runs of one configuration, with the lapicque this process imports."""
    from lapicque.sim.verify import verify
    from lapicque.spec import random_spec

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "network":
            from lapicque.golden.network_codes import cuba_spec
            from lapicque.sim.network import run_network

            net, _ = cuba_spec(neurons, lanes=lanes)
            run_network(net, 20)  # the build, not counted
            for _ in range(repeats):
                start = time.perf_counter()
                s = run_network(net, steps)
                wall = time.perf_counter() - start
                rows.append({"passed": s["passed"], "rate": s.get("checked_updates_per_s"),
                             "whole_job_rate": s["updates_checked"] / wall, "cycles_per_step": s["cycles_per_step"],
                             "bound": s["cycles_bound_per_step"]})
        else:
            spec = random_spec(neurons, lanes, seed=7, rounding=rounding)
            for k in range(repeats):
                s = verify(spec, steps, Path(tmp) / f"{k}", seed=7, sim=sim, backpressure=0.0)
                rows.append({"passed": s["passed"], "rate": s["checked_updates_per_s"],
                             "whole_job_rate": s["updates_checked"] / (s["wall_s"] - s["build_s"]),
                             "cycles_per_step": s["cycles_per_step"], "bound": s["cycles_per_step_bound"],
                             "split": s.get("time_split")})
    rates = [r["rate"] for r in rows if r["rate"] is not None]
    out = {"passed": all(r["passed"] for r in rows),
           "rate": statistics.median(rates) if rates else None,
           "range": [min(rates), max(rates)] if rates else None,
           "whole_job_rate": statistics.median(r["whole_job_rate"] for r in rows),
           "cycles_per_step": rows[-1]["cycles_per_step"], "bound": rows[-1]["bound"]}
    if rows[-1].get("split"):
        out["split"] = {key: statistics.median(r["split"][key] for r in rows) for key in rows[-1]["split"]}
    return out


def measured_elsewhere(shim, args: list[str]) -> dict:
    """`measure` in a fresh process importing the lapicque of `shim` (None: this checkout's)."""
    sys.path.insert(0, str(HERE.parent))
    from baseline import environment

    done = subprocess.run([sys.executable, str(HERE), "--measure", *args], env=environment(shim), text=True,
                          capture_output=True)
    if done.returncode:
        raise SystemExit(f"measuring {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def arrays(text: str) -> list[tuple[int, int, int]]:
    try:
        return [tuple(int(x) for x in item.split("x")) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not NxPxSTEPS,...") from None


def main(argv=None) -> int:
    from lapicque.sim import runner
    from lapicque.spec import ROUNDING_MODES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, a fifth of the steps")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sim", choices=runner.SIMULATORS, action="append",
                        help="only this simulator (repeatable); default every installed one")
    parser.add_argument("--rounding", choices=ROUNDING_MODES, default="toward_zero",
                        help="the arrays' rounding (default toward_zero; BENCHMARKS' first table: floor)")
    parser.add_argument("--split", action="store_true",
                        help="print each array's time split (summary.json's time_split; medians)")
    parser.add_argument("--network", action="store_true", help="also full-size CUBA on Verilator")
    parser.add_argument("--arrays", type=arrays, help="only these arrays, NxPxSTEPS,... (e.g. 64x2x500)")
    parser.add_argument("--baseline", metavar="REV", help="measure each configuration on this git revision too")
    parser.add_argument("--measure", nargs=6, help=argparse.SUPPRESS)  # kind sim neurons lanes steps repeats
    args = parser.parse_args(argv)
    if args.measure:
        kind, sim, neurons, lanes, steps, repeats = args.measure
        print(json.dumps(measure(kind, sim, int(neurons), int(lanes), int(steps), int(repeats), args.rounding)))
        return 0
    repeats = 1 if args.quick else args.repeats
    wanted = args.sim or list(runner.SIMULATORS)
    sims = [s for s in wanted if runner.simulator_missing(s) is None]
    missing = [f"{s} ({runner.simulator_missing(s)})" for s in wanted if s not in sims]
    if missing:
        print("skipped:", "; ".join(missing))
    jobs = []
    for sim in sims:
        for neurons, lanes, steps in args.arrays or CONFIGS:
            if sim == "icarus":
                steps = max(20, steps // 10)  # an event-driven simulator is far slower per cycle
            if args.quick:
                steps = max(20, steps // 5)
            jobs.append(("array", sim, neurons, lanes, steps))
    if args.network and "verilator" in sims:
        name, neurons, lanes, steps = NETWORK
        jobs.append(("network", "verilator", neurons, lanes, steps // 5 if args.quick else steps))
    header = (f"{'code':10} {'kind':8} {'sim':9} {'neurons':>7} {'lanes':>5} {'steps':>5} {'updates/s':>11} "
              f"{'(min-max)':>19} {'whole job/s':>11} {'cyc/step':>9} {'bound':>8}")
    print(header)
    print("-" * len(header))
    from contextlib import ExitStack

    with ExitStack() as stack:
        shim = None
        if args.baseline:
            sys.path.insert(0, str(HERE.parent))
            from baseline import checkout

            _, shim = stack.enter_context(checkout(args.baseline))
        for kind, sim, neurons, lanes, steps in jobs:
            which = [(args.baseline, shim), ("this", None)] if args.baseline else [("this", None)]
            for label, where in which:
                options = [kind, sim, str(neurons), str(lanes), str(steps), str(repeats), "--rounding", args.rounding]
                r = measured_elsewhere(where, options) if args.baseline else \
                    measure(kind, sim, neurons, lanes, steps, repeats, args.rounding)
                if not r["passed"]:
                    print(f"verification FAILED: {label} {kind} {sim} {neurons} x {lanes}")
                    return 1
                rate = f"{r['rate']:11,.0f}" if r["rate"] is not None else f"{'-':>11}"
                spread = f"{r['range'][0]:,.0f}-{r['range'][1]:,.0f}" if r["range"] else "-"
                print(f"{label:10} {kind:8} {sim:9} {neurons:7d} {lanes:5d} {steps:5d} {rate} {spread:>19} "
                      f"{r['whole_job_rate']:11,.0f} {r['cycles_per_step']:9.1f} {r['bound']:8.1f}")
                if args.split and r.get("split"):
                    parts = ", ".join(f"{key.removesuffix('_s')} {value:.3f}" for key, value in r["split"].items())
                    print(f"    {parts} (s)")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
