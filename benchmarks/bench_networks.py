"""Networks on the RTL and on the boards (issue 20): full-size CUBA, an explicit sparse network and Brunel's
model A scaled to 500 neurons, every update checked on Verilator, then built for the boards with the speed
against biological time.

    python benchmarks/bench_networks.py rtl       # CUBA 4000 x 8 lanes, 2000 steps; sparse-2048, 1000 steps;
                                                  # Brunel AI and SR, 400 + 100 neurons x 4 lanes, 2000 steps;
                                                  # CUBA 4000 on the serial core (the iCEBreaker's), 2000 steps
    python benchmarks/bench_networks.py rtl --networks brunel-AI,brunel-SR     # some of them
    python benchmarks/bench_networks.py builds    # the board builds (about 10 minutes each)
    python benchmarks/bench_networks.py           # both

`rtl` prints, per network, the updates checked, the bit-exact mismatches, the RTL's cycles per step against the
core's cycle replay and the bound max(N / lanes, fan-out / lanes) + latency (the parallel core's; the serial
core's cycles are its replay's only), and the wall time. `builds` prints
Fmax, resources and the real-time factor (the replay over 2000 steps of the fixed model at the met clock).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPARSE = REPO / "examples" / "networks" / "sparse-2048.toml"


def networks():
    """(name, NetworkSpec) of the benchmark networks: CUBA and sparse-2048 at full size; Brunel at N_E = 400 with
    C_E = 400 (its 250,000 connections stored, a quarter of what a simulated core holds); CUBA on the serial core
    (one lane; a name ending in -serial runs on it)."""
    from lapicque.golden.network_codes import brunel_spec, cuba_spec
    from lapicque.network_spec import load_network

    cuba, _ = cuba_spec(4000, lanes=8)
    return [("cuba", cuba), ("sparse-2048", load_network(SPARSE).with_lanes(8)),
            *((f"brunel-{regime}", brunel_spec(regime, 400, 1.0, lanes=4)[0]) for regime in ("AI", "SR")),
            ("cuba-serial", cuba_spec(4000, lanes=1)[0])]


def rtl(steps: dict[str, int], only: list[str] | None = None) -> list[dict]:
    from lapicque.sim.network import run_network

    rows = []
    for name, net in networks():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        s = run_network(net, steps.get(name, 2000), core="serial" if name.endswith("-serial") else "parallel")
        bound = s["cycles_bound_per_step"]
        rows.append({"network": name, "neurons": net.neurons, "lanes": net.lanes, "synapses": s["synapses"],
                     "steps": s["steps"], "updates_checked": s["updates_checked"],
                     "bit_exact_mismatches": s["bit_exact_mismatches"], "passed": s["passed"],
                     "cycles_per_step": round(s["cycles_per_step"], 2),
                     "replay_per_step": round(s["cycles_expected"] / s["steps"], 2),
                     "bound_per_step": round(bound, 2) if bound else None,
                     "over_bound": round(s["cycles_per_step"] / bound - 1, 4) if bound else None,
                     "spikes_per_step": round(s["spikes"] / s["steps"], 2),
                     "build_s": round(s["build_s"], 1), "simulate_s": round(s["simulate_s"], 1),
                     "wall_s": round(time.perf_counter() - t0, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def builds() -> list[dict]:
    from lapicque.boards.board import get_board
    from lapicque.boards.network import build_network
    from lapicque.golden.network_codes import cuba_spec
    from lapicque.golden.network_model import hardware_rows

    cases = [("ulx3s-85f", name, net) for name, net in networks() if name in ("cuba", "sparse-2048")]
    cases.append(("icebreaker", "cuba", cuba_spec(4000, lanes=1)[0]))  # the serial core, at its 24 MHz
    rows = []
    for board, name, net in cases:
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            r = build_network(get_board(board), net, hardware_rows(net), Path(out), name=name)
        rows.append({"board": board, "network": name, "neurons": net.neurons, "lanes": net.lanes,
                     "synapses": r["synapses"], "clock_mhz": r["clock_mhz"], "fmax_mhz": r["fmax_mhz"],
                     "timing_met": r["timing_met"], "core": r["core"],
                     "resources": {k: v["used"] for k, v in r["resources"].items()},
                     "cycles_per_step": r["cycles_per_step"], "realtime_factor": r["realtime_factor"],
                     "build_s": round(time.perf_counter() - t0)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=("rtl", "builds"), help="one part (default: both)")
    parser.add_argument("--cuba-steps", type=int, default=2000)
    parser.add_argument("--sparse-steps", type=int, default=1000)
    parser.add_argument("--networks", help="comma-separated names (rtl): cuba, sparse-2048, brunel-AI, brunel-SR, "
                        "cuba-serial")
    args = parser.parse_args(argv)
    results = {}
    if args.part in (None, "rtl"):
        steps = {"cuba": args.cuba_steps, "cuba-serial": args.cuba_steps, "sparse-2048": args.sparse_steps}
        results["rtl"] = rtl(steps, args.networks.split(",") if args.networks else None)
    if args.part in (None, "builds"):
        results["builds"] = builds()
    failed = [r for r in results.get("rtl", []) if not r["passed"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
