"""The array's cycles per timestep against issue 20's bound: LCA arrays and random arrays, on Verilator.

    python benchmarks/bench_array_cycles.py                      # about 6 minutes
    python benchmarks/bench_array_cycles.py --baseline dcee898   # each case on that revision too, side by side

Every case runs on the RTL with every update checked and no testbench back-pressure (the array's own cycles):
the LCA on random problems of three sizes (`lapicque lca --backend rtl --backpressure 0`, 1 and 4 lanes) and
`lapicque verify`'s random arrays. Printed per case: mean cycles per step, issue 20's bound (the mean over steps
of max(N / lanes, spikes x N / lanes) + pipeline latency), the ratio, and the floor no run beats (the mean of
max(N / lanes, (spikes - 1) x N / lanes); revisions before the overlapping steps do not report it). With
`--baseline REV` each case runs on REV right before this checkout (benchmarks/baseline.py): the same tools, the
same moment.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from contextlib import ExitStack

LCA_CASES = [(64, 32, 4, 1), (64, 32, 4, 4), (128, 64, 8, 1), (128, 64, 8, 4), (256, 128, 16, 4)]
ARRAY_CASES = [(64, 2), (128, 4), (256, 8)]
LCA_STEPS, ARRAY_STEPS = 1000, 300

# one case in a fresh process that imports lapicque from the environment's revision
CASE = """
import json, sys, tempfile
from pathlib import Path
kind, args = sys.argv[1], json.loads(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    if kind == "lca":
        from lapicque.jobs import lca
        atoms, dim, sparsity, lanes, steps = args
        s = lca(atoms=atoms, dim=dim, sparsity=sparsity, lam=0.1, seed=0, backend="rtl", steps=steps, lanes=lanes,
                backpressure=0.0, out=Path(tmp))
        passed = s["verified"]
    else:
        from lapicque.sim.verify import verify
        from lapicque.spec import random_spec
        neurons, lanes, steps = args
        s = verify(random_spec(neurons, lanes, seed=1), steps, Path(tmp), seed=1, backpressure=0.0)
        passed = s["passed"]
print(json.dumps({"passed": bool(passed), "cycles": s["cycles_per_step"], "bound": s["cycles_per_step_bound"],
                  "floor": s.get("cycles_per_step_floor")}))
"""


def run_case(kind: str, args: list, shim) -> dict:
    from baseline import environment

    done = subprocess.run([sys.executable, "-c", CASE, kind, json.dumps(args)], env=environment(shim),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="run each case on this git revision too")
    args = parser.parse_args(argv)
    cases = ([("lca", f"LCA {a} atoms x {lanes} lane(s)", [a, d, k, lanes, LCA_STEPS]) for a, d, k, lanes in LCA_CASES]
             + [("verify", f"random {n} x {lanes} lanes", [n, lanes, ARRAY_STEPS]) for n, lanes in ARRAY_CASES])
    failed = False
    with ExitStack() as stack:
        revisions = [("this", None)]
        if args.baseline:
            from baseline import checkout

            _, shim = stack.enter_context(checkout(args.baseline))
            revisions.insert(0, (args.baseline, shim))
        print(f"{'case':>26} {'revision':>9} {'cycles/step':>12} {'bound':>8} {'/ bound':>8} {'floor':>8} "
              f"{'verified':>9}")
        for kind, name, case in cases:
            for label, shim in revisions:
                r = run_case(kind, case, shim)
                failed |= not r["passed"]
                floor = f"{r['floor']:.1f}" if r["floor"] is not None else "-"
                print(f"{name:>26} {label:>9} {r['cycles']:>12.1f} {r['bound']:>8.1f} {r['cycles'] / r['bound']:>8.3f} "
                      f"{floor:>8} {str(r['passed']):>9}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
