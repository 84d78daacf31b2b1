"""FPGA sweep: resources and Fmax over neurons x lanes x weight bits on an iCE40 and an ECP5 board,
the largest dense-weight array each board fits, and synaptic events per cycle against the limit.

    python benchmarks/bench_boards.py --quick     # the issue's two targets and one small build each
    python benchmarks/bench_boards.py             # the whole sweep (about an hour on 2 cores)
    python benchmarks/bench_boards.py --board icebreaker --builds-only   # one board's part of it

Every build is a real `lapicque build` (YoWASP yosys + nextpnr) into a temporary folder; the table
prints what each report.json says. Fmax is nextpnr's estimate for the placed and routed design.

Synaptic events per cycle come from simulation (`lapicque verify`, Verilator): a strongly driven
array whose neurons fire often, so that propagation dominates; events = spikes x N (every spike
adds a weight to every neuron), cycles = the array's busy cycles, limit = one weight per cycle per
lane's weight port (= lanes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

from lapicque.boards.board import get_board
from lapicque.boards.estimate import largest_fit
from lapicque.boards.flow import build
from lapicque.sim.verify import verify
from lapicque.spec import ArraySpec, Widths, random_spec

SWEEP = {
    "icebreaker": [(64, 1, 8), (128, 1, 8), (256, 1, 8), (256, 1, 4), (128, 2, 8), (64, 4, 8)],
    "ulx3s-85f": [(128, 2, 8), (256, 4, 8), (512, 4, 8), (512, 4, 4), (512, 8, 8), (1024, 8, 8)],
}
QUICK = {"icebreaker": [(64, 1, 8), (256, 1, 8)], "ulx3s-85f": [(128, 2, 8), (512, 4, 8)]}
TARGET_MHZ = {"icebreaker": 32, "ulx3s-85f": 100}


def sweep(configs: dict, out: Path | None, console: Console) -> list[dict]:
    rows = []
    header = (f"{'board':11} {'N':>5} {'P':>2} {'w':>2} {'logic':>13} {'FF':>13} {'BRAM':>9} {'SPRAM':>5} "
              f"{'DSP':>5} {'clock':>6} {'Fmax':>6} {'met':>3} {'Mupd/s':>7} {'Mev/s':>6}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name, shapes in configs.items():
            board = get_board(name)
            for neurons, lanes, wbits in shapes:
                spec = ArraySpec(neurons, lanes=lanes, widths=Widths(w=wbits), monitor=True)
                folder = Path(tmp) / f"{name}_{neurons}_{lanes}_{wbits}"
                try:
                    result = build(board, spec, folder, clock_mhz=TARGET_MHZ[name], console=console)
                except Exception as exc:  # a size that does not fit is a result too
                    print(f"{name:11} {neurons:>5} {lanes:>2} {wbits:>2}  {exc}")
                    rows.append({"board": name, "neurons": neurons, "lanes": lanes, "weight_bits": wbits,
                                 "error": str(exc)})
                    continue
                r = result.report
                res = r["resources"]

                def used(key, res=res):
                    u = res.get(key)
                    return f"{u['used']}/{u['available']}" if u else "-"

                logic = used("logic_cells") if "logic_cells" in res else used("luts")
                print(f"{name:11} {neurons:>5} {lanes:>2} {wbits:>2} {logic:>13} {used('flip_flops'):>13} "
                      f"{used('bram'):>9} {used('spram'):>5} {used('dsp'):>5} {r['clock_mhz']:>6.2f} "
                      f"{r['fmax_mhz']:>6.1f} {'yes' if r['timing_met'] else 'no':>3} "
                      f"{r['neuron_updates_per_s'] / 1e6:>7.1f} {r['synaptic_events_per_s'] / 1e6:>6.1f}")
                rows.append(r)
    if out:
        out.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def largest(console: Console) -> None:
    print("\nlargest dense-weight array each board fits (the estimate `lapicque build` checks first):")
    for name in ("icebreaker", "icesugar", "ulx3s-12f", "ulx3s-25f", "ulx3s-45f", "ulx3s-85f"):
        board = get_board(name)
        for lanes in (1, 2, 4, 8):
            for wbits in (8, 4):
                n = largest_fit(board, ArraySpec(lanes, lanes=lanes, widths=Widths(w=wbits)))
                print(f"  {name:11} lanes {lanes}  {wbits}-bit weights: {n:>5} neurons")


def events_per_cycle(steps: int) -> None:
    print("\nsynaptic events per cycle (simulation, busy array) against one per weight port:")
    print(f"  {'N':>4} {'P':>2} {'spikes/step':>11} {'events/cycle':>12} {'limit':>5} {'fraction':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for neurons, lanes in ((64, 1), (64, 2), (64, 4), (128, 8)):
            spec = random_spec(neurons, lanes, seed=11)
            # strong bias, low threshold, no refractory period: most neurons fire every few steps
            spec.params["bias"][:] = 400
            spec.params["theta_hi"][:] = 1000
            spec.params["refractory"][:] = 0
            spec.params["hysteresis"][:] = 0
            spec.weights[:] = np.clip(spec.weights, -8, 8)
            summary = verify(spec, steps, Path(tmp) / f"{neurons}_{lanes}", seed=11, backpressure=0.0)
            events = summary["spikes"] * neurons
            busy = summary["stats"]["busy_cycles"]
            per_cycle = events / busy
            print(f"  {neurons:>4} {lanes:>2} {summary['spikes'] / steps:>11.1f} {per_cycle:>12.2f} {lanes:>5} "
                  f"{per_cycle / lanes:>8.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two issue targets and one small build each")
    parser.add_argument("--json", type=Path, help="also write the reports to this file")
    parser.add_argument("--skip-builds", action="store_true", help="only the fit table and events per cycle")
    parser.add_argument("--board", action="append", choices=sorted(SWEEP),
                        help="sweep only this board (repeat for more)")
    parser.add_argument("--shape", action="append", metavar="N,P,W",
                        help="build only these neurons,lanes,weight-bits of the sweep (repeat for more)")
    parser.add_argument("--builds-only", action="store_true", help="skip the fit table and events per cycle")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    configs = QUICK if args.quick else SWEEP
    if args.board:
        configs = {name: shapes for name, shapes in configs.items() if name in args.board}
    if args.shape:
        wanted = {tuple(int(x) for x in shape.split(",")) for shape in args.shape}
        configs = {name: [s for s in shapes if s in wanted] for name, shapes in configs.items()}
    if not args.skip_builds:
        sweep(configs, args.json, console)
    if not args.builds_only:
        largest(console)
        events_per_cycle(100 if args.quick else 300)
    return 0


if __name__ == "__main__":
    sys.exit(main())
