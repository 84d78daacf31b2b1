"""Spiking LCA at 8-bit weights on hard problems: the weight exponent's before / after, predicted against measured.

    python benchmarks/bench_lca_fidelity.py            # 20 seeds per problem class, 2000 steps (about 1 min)
    python benchmarks/bench_lca_fidelity.py --seeds 5

For each problem class of issue 17 (random 64 x 128, k = 8, at lam 0.1 and 0.05; `patches`, the
overcomplete 2-D DCT dictionary on natural 8 x 8 patches, at lam 0.05), signed codes, 8-bit weights,
rate 0.25, it compiles every seed twice: `before`, weight exponent 0 (the compiler before issue 17:
theta, and with it the bias's resolution, set by the weights' range), and `after`, the exponent the
compiler chooses (the smallest whose predicted gap is a tenth of the 1 % target). It prints the median
and worst relative objective gap of the fixed model after 2000 steps, the median gap the compiler
predicted before running (the optimum of the LASSO with the rounded Gram matrix and drive, which the
fixed model's rates converge to), the float spiking LCA's median gap (unrounded values), and the
exponents chosen. The optimum is FISTA's, certified to a 1e-12 relative duality gap.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from lapicque.golden import lasso
from lapicque.golden.lca import codes_over_time, compile_problem, relative_gaps, spiking_lca

CLASSES = [("random", 0.1), ("random", 0.05), ("patches", 0.05)]


def make(kind: str, lam: float, seed: int) -> lasso.Problem:
    if kind == "random":
        return lasso.random_problem(64, 128, 8, lam=lam, seed=seed)
    return lasso.patches_problem(128, lam=lam, seed=seed)


def final_gap(problem, reference, compiled, steps: int, fixed: bool) -> float:
    codes = codes_over_time(compiled, spiking_lca(compiled, steps, fixed=fixed))
    return float(relative_gaps(problem, reference.objective, codes[-1:])[0])


def bench_class(kind: str, lam: float, seeds: int, steps: int) -> dict:
    rows = {"before": {"measured": [], "predicted": []}, "after": {"measured": [], "predicted": []},
            "float": [], "exponents": []}
    for seed in range(seeds):
        problem = make(kind, lam, seed)
        reference = lasso.fista(problem)
        for name, exponent in (("before", 0), ("after", None)):
            compiled = compile_problem(problem, weight_bits=8, weight_exponent=exponent, reference=reference,
                                       target_gap=None if exponent == 0 else 0.01)
            rows[name]["measured"].append(final_gap(problem, reference, compiled, steps, True))
            rows[name]["predicted"].append(compiled.quantisation["predicted_gap"])
            if name == "after":
                rows["exponents"].append(compiled.spec.weight_exponent)
                rows["float"].append(final_gap(problem, reference, compiled, steps, False))
    summary = {"class": f"{kind} lam {lam:g}", "seeds": seeds, "steps": steps,
               "float_median": statistics.median(rows["float"]), "exponents": rows["exponents"]}
    for name in ("before", "after"):
        summary[name] = {"median": statistics.median(rows[name]["measured"]), "worst": max(rows[name]["measured"]),
                         "predicted_median": statistics.median(rows[name]["predicted"]),
                         "predicted_worst": max(rows[name]["predicted"])}
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = [bench_class(kind, lam, args.seeds, args.steps) for kind, lam in CLASSES]
    print(f"fixed model's relative gap after {args.steps} steps, 8-bit weights, {args.seeds} seeds: "
          "median (worst) measured / median (worst) predicted")
    print(f"{'problem':>18} {'before: exponent 0':>42} {'after: chosen exponent':>42} {'float':>9} exponents")
    for r in results:
        cells = [f"{r[n]['median']:.2e} ({r[n]['worst']:.2e}) / {r[n]['predicted_median']:.2e} "
                 f"({r[n]['predicted_worst']:.2e})" for n in ("before", "after")]
        print(f"{r['class']:>18} {cells[0]:>42} {cells[1]:>42} {r['float_median']:9.2e} "
              f"{min(r['exponents'])}-{max(r['exponents'])} (median {statistics.median(r['exponents']):g})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
