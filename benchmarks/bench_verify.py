"""Verification throughput and cycles per timestep, Verilator and Icarus side by side in one run.

    python benchmarks/bench_verify.py            # the configurations below, 5 repeats, medians
    python benchmarks/bench_verify.py --quick    # one repeat, short runs
    python benchmarks/bench_verify.py --split    # and, per configuration, where a run's wall time went (medians)

Prints, per simulator and array shape: checked neuron updates per second (median over repeats, the
testbench's run and check phase; builds are cached and not counted), and mean cycles per timestep
against the lower bound max(N / lanes, spikes x N / lanes) + pipeline latency, measured without
back-pressure (back-pressure adds stall cycles on purpose).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from lapicque.sim import runner
from lapicque.sim.verify import verify
from lapicque.spec import ROUNDING_MODES, random_spec

CONFIGS = [(64, 2, 500), (128, 4, 300), (256, 8, 200), (64, 8, 500)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, a fifth of the steps")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sim", choices=runner.SIMULATORS, action="append",
                        help="only this simulator (repeatable); default every installed one")
    parser.add_argument("--rounding", choices=ROUNDING_MODES, default="toward_zero",
                        help="the arrays' rounding (default toward_zero; BENCHMARKS' table was measured with floor)")
    parser.add_argument("--split", action="store_true",
                        help="print each configuration's time split (summary.json's time_split; medians)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    wanted = args.sim or list(runner.SIMULATORS)
    sims = [s for s in wanted if runner.simulator_missing(s) is None]
    missing = [f"{s} ({runner.simulator_missing(s)})" for s in wanted if s not in sims]
    if missing:
        print("skipped:", "; ".join(missing))
    header = f"{'sim':10} {'neurons':>7} {'lanes':>5} {'steps':>5} {'updates/s':>11} {'(min-max)':>17} " \
             f"{'cyc/step':>9} " \
             f"{'bound':>8} {'ratio':>6} {'spikes/step':>11}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for sim in sims:
            for neurons, lanes, steps in CONFIGS:
                if sim == "icarus":
                    steps = max(20, steps // 10)  # an event-driven simulator is far slower per cycle
                if args.quick:
                    steps = max(20, steps // 5)
                spec = random_spec(neurons, lanes, seed=7, rounding=args.rounding)
                rates, splits, last = [], [], None
                for k in range(repeats):
                    last = verify(spec, steps, Path(tmp) / f"{sim}-{neurons}-{lanes}-{k}", seed=7, sim=sim,
                                  backpressure=0.0)
                    if not last["passed"]:
                        print(f"verification FAILED for {sim} {neurons}x{lanes}: {last['first_mismatch']}")
                        return 1
                    rates.append(last["checked_updates_per_s"])
                    splits.append(last["time_split"])
                ratio = last["cycles_per_step"] / last["cycles_per_step_bound"]
                spread = f"{min(rates):,.0f}-{max(rates):,.0f}"
                print(f"{sim:10} {neurons:7d} {lanes:5d} {steps:5d} {statistics.median(rates):11,.0f} {spread:>17} "
                      f"{last['cycles_per_step']:9.1f} {last['cycles_per_step_bound']:8.1f} {ratio:6.3f} "
                      f"{last['spikes'] / steps:11.2f}")
                if args.split:
                    print("    " + ", ".join(f"{key.removesuffix('_s')} {statistics.median(x[key] for x in splits):.3f}"
                                             for key in splits[0]) + " (s)")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
