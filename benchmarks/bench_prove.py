"""How long `lapicque prove` takes: every property (the datapath's per rounding, at the reduced widths; the
stream converters'; the whole array's; the UART's; the host bridge's), and the solvers.

    python benchmarks/bench_prove.py                  # both roundings, every latency, one at a time
    python benchmarks/bench_prove.py --parts streams,array   # only the converters and the whole array
    python benchmarks/bench_prove.py --parts uart,bridge     # only the UART and the host bridge
    python benchmarks/bench_prove.py --z3             # also Z3 on the combinational floor property (minutes;
                                                      # needs: python -m pip install z3-solver)
    python benchmarks/bench_prove.py --z3 --solvers-only   # only the solver comparison

Each property runs alone (no other proof in parallel), so its seconds are its own; `lapicque prove`
runs them one per core.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from lapicque.formal.prove import properties
from lapicque.formal.sby import run_property
from lapicque.spec import ArraySpec


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--z3", action="store_true", help="also time Z3 on the combinational floor property")
    parser.add_argument("--solvers-only", action="store_true", help="skip the per-property table")
    parser.add_argument("--parts", type=lambda text: text.split(","),
                        default=["datapath", "streams", "array", "uart", "bridge"],
                        help="comma-separated parts of the per-property table (default all: the datapath for both "
                             "roundings, the others once)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per solver run (default 1800)")
    args = parser.parse_args(argv)
    print(f"{'rounding':>12} {'property':>55} {'kind':>6} {'depth':>5} {'result':>7} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for rounding in () if args.solvers_only else ("toward_zero", "floor"):
            parts = [part for part in args.parts if part == "datapath" or rounding == "toward_zero"]
            if not parts:
                continue
            for k, prop in enumerate(properties(ArraySpec(8, 2, rounding=rounding), latencies="all", parts=parts)):
                outcome = run_property(prop.design(), prop.kind, prop.depth, Path(tmp) / f"{rounding}_{k}",
                                       flat_memories=prop.flat_memories)
                print(f"{rounding:>12} {prop.name:>55} {prop.kind:>6} {prop.depth:>5} {outcome.status:>7} "
                      f"{outcome.seconds:8.1f}", flush=True)
        if args.z3:
            prop = properties(ArraySpec(8, 2, rounding="floor"), parts=("datapath",))[0]
            for solver in ("boolector", "z3"):
                outcome = run_property(prop.design(), "prove", prop.depth, Path(tmp) / solver, solver=solver,
                                       timeout=args.timeout)
                print(f"solver {solver}: {prop.name}: {outcome.status} in {outcome.seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
