"""Spiking LCA: relative gap against timesteps, time to a 1 % gap on the array, and the reference solvers.

    python benchmarks/bench_lca.py            # three sizes, 10 seeds, RTL cycles for 1 and 4 lanes
    python benchmarks/bench_lca.py --quick    # 3 seeds, no RTL runs

For random problems (unit-norm Gaussian dictionary, planted k-sparse signed code, lam = 0.1, 8-bit
weights unless --weight-bits) of three sizes it prints:

1. the median relative objective gap of the float and fixed spiking LCA after 100 ... 2000 steps;
2. the median steps to a 1 % gap (the step after which it stays below), and the cycles the RTL
   array takes for exactly those steps, measured by running the RTL (cocotb + Verilator, every
   update verified, no back-pressure) on the median seed, for 1 lane and for 4 lanes, converted to
   microseconds at the clocks the board flow met (iCEBreaker 1 lane 32.25 MHz, ULX3S-85F 4 lanes
   90 MHz; BENCHMARKS.md, issue 3);
3. FISTA's wall time to a certified 1 % gap and to the optimum (duality gap 1e-12), and
   scikit-learn's Lasso (coordinate descent, default tolerance), medians of repeats in this run;
4. the quantisation cost: median gap of the fixed model at 2000 steps against weight bits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from lapicque.golden import lasso
from lapicque.golden.lca import codes_over_time, compile_problem, relative_gaps, spiking_lca, steps_to_gap
from lapicque.golden.neuron import zero_state

SIZES = [(32, 64, 4), (64, 128, 8), (128, 256, 16)]
CHECKPOINTS = [100, 200, 500, 1000, 2000]
BOARD_CLOCKS = {1: ("iCEBreaker", 32.25), 4: ("ULX3S-85F", 90.0)}


def median_wall(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rtl_cycles(compiled, steps: int, lanes: int) -> int:
    from lapicque.sim.verify import verify

    spec = compiled.spec.with_lanes(lanes)
    with tempfile.TemporaryDirectory() as tmp:
        s = verify(spec, steps, Path(tmp), backpressure=0.0, state=zero_state(spec.neurons),
                   ext=np.zeros((steps, spec.neurons), dtype=np.int64))
    if not s["passed"]:
        raise SystemExit(f"RTL verification failed during the benchmark: {s['first_mismatch']}")
    return int(s["stats"]["busy_cycles"])


def bench_size(dim, atoms, k, seeds, weight_bits, steps, with_rtl, repeats):
    gaps = {"float": [], "fixed": []}
    to_1pct = {"float": [], "fixed": []}
    problems = []
    for seed in range(seeds):
        problem = lasso.random_problem(dim, atoms, k, lam=0.1, seed=seed)
        ref = lasso.fista(problem)
        compiled = compile_problem(problem, weight_bits=weight_bits)
        for name, fixed in (("float", False), ("fixed", True)):
            codes = codes_over_time(compiled, spiking_lca(compiled, steps, fixed))
            curve = relative_gaps(problem, ref.objective, codes)
            gaps[name].append(curve)
            to_1pct[name].append(steps_to_gap(curve))
        problems.append((problem, compiled))
    row = {"dim": dim, "atoms": atoms, "sparsity": k, "neurons": problems[0][1].neurons, "seeds": seeds}
    for name in gaps:
        row[f"{name}_gap"] = {t: float(np.median([g[t - 1] for g in gaps[name]])) for t in CHECKPOINTS if t <= steps}
        reached = [s for s in to_1pct[name] if s is not None]
        row[f"{name}_reached"] = len(reached)
        row[f"{name}_steps_to_1pct"] = float(np.median(reached)) if reached else None
    # the seed whose fixed steps-to-1 % is the median one runs on the RTL
    order = sorted(range(seeds), key=lambda s: (to_1pct["fixed"][s] is None, to_1pct["fixed"][s] or 0))
    median_seed = order[(len([s for s in to_1pct["fixed"] if s is not None]) - 1) // 2]
    target = to_1pct["fixed"][median_seed]
    row["rtl"] = {}
    if with_rtl and target is not None:
        for lanes, (board, mhz) in BOARD_CLOCKS.items():
            cycles = rtl_cycles(problems[median_seed][1], target, lanes)
            row["rtl"][lanes] = {"seed": median_seed, "steps": target, "cycles": cycles, "board": board,
                                 "clock_mhz": mhz, "us": cycles / mhz}
    problem = problems[median_seed][0]
    from sklearn.linear_model import Lasso

    row["fista_1pct_s"] = median_wall(lambda: lasso.fista(problem, tol=0.01), repeats)
    row["fista_opt_s"] = median_wall(lambda: lasso.fista(problem), repeats)
    sk = Lasso(alpha=problem.lam / problem.dim, fit_intercept=False)
    row["sklearn_s"] = median_wall(lambda: sk.fit(problem.dictionary, problem.signal), repeats)
    row["sklearn_rel_gap"] = float(relative_gaps(problem, lasso.fista(problem).objective, sk.coef_[None])[0])
    return row


def quantisation_cost(seeds, steps, bits_list):
    out = {}
    problems = [lasso.random_problem(64, 128, 8, lam=0.1, seed=s) for s in range(seeds)]
    refs = [lasso.fista(p) for p in problems]
    for bits in bits_list:
        fixed, flt = [], []
        for p, r in zip(problems, refs, strict=True):
            c = compile_problem(p, weight_bits=bits, target_gap=None)  # the cost itself, never refused
            fixed.append(relative_gaps(p, r.objective, codes_over_time(c, spiking_lca(c, steps, True))[-1:])[0])
            flt.append(relative_gaps(p, r.objective, codes_over_time(c, spiking_lca(c, steps, False))[-1:])[0])
        out[bits] = {"fixed": float(np.median(fixed)), "float": float(np.median(flt))}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 1000 steps, no RTL runs")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--weight-bits", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7, help="repeats of the reference solvers' timing")
    parser.add_argument("--no-rtl", action="store_true", help="skip the RTL cycle measurements")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    seeds, steps = (3, 1000) if args.quick else (args.seeds, args.steps)
    with_rtl = not (args.quick or args.no_rtl)

    rows = []
    for dim, atoms, k in SIZES:
        t0 = time.perf_counter()
        rows.append(bench_size(dim, atoms, k, seeds, args.weight_bits, steps, with_rtl, args.repeats))
        print(f"# {dim}x{atoms} k={k}: {time.perf_counter() - t0:.0f} s", flush=True)

    print(f"\nmedian relative gap over {seeds} seeds, {args.weight_bits}-bit weights (float / fixed)")
    cps = [t for t in CHECKPOINTS if t <= steps]
    print(f"{'problem':>14} {'neurons':>7} " + " ".join(f"{'t=' + str(t):>19}" for t in cps))
    for r in rows:
        cells = " ".join(f"{r['float_gap'][t]:9.2e}/{r['fixed_gap'][t]:9.2e}" for t in cps)
        print(f"{r['dim']:>5}x{r['atoms']:<4}k={r['sparsity']:<2} {r['neurons']:>7} {cells}")

    print("\nto a 1 % gap: median steps (seeds that got there), RTL cycles of the median seed, wall time there")
    print(f"{'problem':>14} {'float steps':>12} {'fixed steps':>12} {'1 lane cycles':>14} {'us @32.25MHz':>13} "
          f"{'4 lanes cycles':>15} {'us @90MHz':>10} {'FISTA 1%':>10} {'FISTA opt':>10} {'sklearn':>10}")
    for r in rows:
        rtl = []
        for lanes in BOARD_CLOCKS:
            m = r["rtl"].get(lanes)
            rtl += [str(m["cycles"]) if m else "-", f"{m['us']:.1f}" if m else "-"]
        print(f"{r['dim']:>5}x{r['atoms']:<4}k={r['sparsity']:<2} "
              f"{r['float_steps_to_1pct']!s:>8} ({r['float_reached']:>2}) {r['fixed_steps_to_1pct']!s:>8} "
              f"({r['fixed_reached']:>2}) {rtl[0]:>14} {rtl[1]:>13} {rtl[2]:>15} {rtl[3]:>10} "
              f"{r['fista_1pct_s'] * 1e6:>8.0f}us {r['fista_opt_s'] * 1e6:>8.0f}us {r['sklearn_s'] * 1e6:>8.0f}us")

    cost = quantisation_cost(seeds, steps, [6, 8, 10, 12, 16])
    print(f"\nquantisation cost, 64x128 k=8, {steps} steps: median gap (float / fixed) against weight bits")
    for bits, c in cost.items():
        print(f"  {bits:>2} bits: {c['float']:.2e} / {c['fixed']:.2e}")
    if args.json:
        args.json.write_text(json.dumps({"sizes": rows, "quantisation": cost}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
