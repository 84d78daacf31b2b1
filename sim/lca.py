"""`lapicque lca`: solve a LASSO problem by spiking LCA on a backend and score it against the optimum.

Backends:

- `float`: the analog LCA (Euler, dt = 0.1) and the spiking LCA in float64 (unrounded values);
  the summary scores the spiking one, the analog one is under `analog`;
- `fixed`: the bit-exact model of the compiled spec (the float spiking run is under `float`,
  so the summary shows what quantisation cost);
- `rtl`: the compiled spec on the RTL array in cocotb, every state update checked against the
  bit-exact model while it solves (`lapicque.sim.verify`); the RTL's spikes are also compared
  with a separate run of the fixed model, and the answer is scored.

Writes `OUT/summary.json`, `OUT/coefficients.npy` (the backend's code), `OUT/optimum.npy` (the
reference optimum) and `OUT/curves.npz` (relative gap after every step for every model run, the
readout's codes at the end). Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import read_array, write_atomic, write_json, write_npy, write_npz
from lapicque.golden import lasso
from lapicque.golden.lca import (
    DEFAULT_RATE,
    DEFAULT_TARGET_GAP,
    CompiledLCA,
    analog_lca,
    check_rates,
    codes_over_time,
    compile_problem,
    relative_gaps,
    score,
    spiking_lca,
    steps_to_gap,
)
from lapicque.golden.neuron import zero_state
from lapicque.provenance import provenance
from lapicque.spec import ROUNDING_MODES, spec_toml

ARRAY_FILE = "array.toml"

BACKENDS = ("float", "fixed", "rtl")
ANALOG_DT = 0.1
GAP_TARGET = 0.01


def make_problem(name: str, *, atoms: int = 128, dim: int = 64, sparsity: int = 8, lam: float = 0.1, seed: int = 0,
                 nonnegative: bool = False, dictionary: Path | np.ndarray | None = None,
                 signal: Path | np.ndarray | None = None) -> lasso.Problem:
    """The named problem, or the user's own from .npy files or arrays (name "user")."""
    if dictionary is not None or signal is not None:
        if dictionary is None or signal is None:
            raise LapicqueError("give both --dictionary D.npy and --signal y.npy")
        arrays = [x if isinstance(x, np.ndarray) else read_array(x, name)
                  for x, name in ((dictionary, "dictionary"), (signal, "signal"))]
        for array, name, path in zip(arrays, ("dictionary", "signal"), (dictionary, signal), strict=True):
            if isinstance(array, dict):
                raise LapicqueError(f"--{name} {path}: an .npz archive of {len(array)} arrays; give one .npy array")
        return lasso.Problem("user", *arrays, lam, nonnegative)
    if not np.isfinite(lam) or lam < 0:
        raise LapicqueError(f"--lam = {lam} must be a finite number >= 0")
    if name == "identity":
        return lasso.identity_problem(atoms, lam, seed, nonnegative)
    if name == "zero":
        return lasso.zero_problem(dim, atoms, seed, nonnegative)
    if name == "competition":
        return lasso.competition_problem(lam, nonnegative=True)
    if name == "excitation":
        return lasso.excitation_problem(lam, nonnegative=True)
    if name == "bars":
        return lasso.bars_problem(lam=lam, seed=seed)
    if name == "random":
        return lasso.random_problem(dim, atoms, sparsity, lam, seed, nonnegative)
    if name == "patches":
        return lasso.patches_problem(atoms, lam, seed, nonnegative)
    raise LapicqueError(f"unknown problem {name!r}; choose one of {', '.join(lasso.PROBLEMS)}, "
                        "or give --dictionary and --signal")


def _run_model(compiled: CompiledLCA, steps: int, fixed: bool, say) -> tuple[np.ndarray, np.ndarray]:
    kind = "fixed-point" if fixed else "float"
    spikes = spiking_lca(compiled, steps, fixed=fixed,
                         progress=lambda k: say(f"{kind} spiking LCA: step {k:,}/{steps:,}"))
    return spikes, codes_over_time(compiled, spikes)


def solve(problem: lasso.Problem, backend: str, steps: int, out: Path, *, weight_bits: int = 8,
          rate: float = DEFAULT_RATE, lanes: int = 1, sim: str = "verilator", seed: int = 0,
          target_gap: float | None = DEFAULT_TARGET_GAP, weight_exponent: int | None = None,
          rounding: str | None = None, backpressure: float | None = None, status=None) -> dict:
    """Solve `problem` on `backend` for `steps` timesteps; writes OUT and returns the summary.

    `backpressure` (rtl): the testbench's back-pressure on the array's output streams (default verify's 0.02,
    which exercises the stalls); 0 measures the array's own cycles, as a board that keeps up would run it.

    The compilation predicts the gap its rounding costs before anything runs (`target_gap`, the
    weight exponent: `lapicque.golden.lca.compile_problem`); the summary shows it beside the measured one."""
    if backend not in BACKENDS:
        raise LapicqueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not 1 <= steps <= 65535:
        raise LapicqueError(f"--steps = {steps} is out of range; allowed 1..65535")
    if rounding is not None and rounding not in ROUNDING_MODES:
        raise LapicqueError(f"unknown rounding {rounding!r}; choose one of {', '.join(ROUNDING_MODES)}")
    if backpressure is not None:
        from .verify import check_backpressure

        if backend != "rtl":
            raise LapicqueError("--backpressure is for --backend rtl (the testbench's back-pressure)")
        check_backpressure(backpressure)

    def say(text):
        if status is not None:
            status(text)

    wall0 = time.perf_counter()
    say("solving the reference optimum (FISTA)")
    reference = lasso.fista(problem)
    say("compiling: choosing the weight exponent by the predicted gap")
    compiled = compile_problem(problem, weight_bits=weight_bits, rate=rate, lanes=lanes, target_gap=target_gap,
                               weight_exponent=weight_exponent, reference=reference)
    if rounding is not None:
        from dataclasses import replace

        compiled = replace(compiled, spec=replace(compiled.spec, rounding=rounding))
    predicted = compiled.quantisation["predicted_gap"]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves, runs = {}, {}

    def record(name, codes, spikes=None):
        gaps = relative_gaps(problem, reference.objective, codes)
        curves[f"gap_{name}"] = gaps
        curves[f"code_{name}"] = codes[-1]
        entry = score(problem, reference, codes[-1])
        entry["steps_to_1pct_gap"] = steps_to_gap(gaps, GAP_TARGET)
        if spikes is not None:
            entry["spikes"] = int(spikes.sum())
        runs[name] = entry
        return entry

    say("float spiking LCA")
    float_spikes, float_codes = _run_model(compiled, steps, False, say)
    record("float", float_codes, float_spikes)
    extra = {}
    if backend == "float":
        say("analog LCA")
        record("analog", analog_lca(problem, steps, ANALOG_DT))
        spikes, main = float_spikes, "float"
    else:
        fixed_spikes, fixed_codes = _run_model(compiled, steps, True, say)
        record("fixed", fixed_codes, fixed_spikes)["predicted_gap"] = predicted
        spikes, main = fixed_spikes, "fixed"
        if backend == "rtl":
            from .verify import DEFAULT_BACKPRESSURE, verify

            say(f"RTL spiking LCA on {compiled.neurons} neurons x {lanes} lane(s)")
            checked = verify(compiled.spec, steps, out / "rtl", seed=seed, sim=sim, status=say,
                             backpressure=DEFAULT_BACKPRESSURE if backpressure is None else backpressure,
                             state=zero_state(compiled.neurons),
                             ext=np.zeros((steps, compiled.neurons), dtype=np.int64))
            rtl_spikes = np.load(out / "rtl" / "sim" / "traces.npz")["spike"].astype(bool)
            record("rtl", codes_over_time(compiled, rtl_spikes), rtl_spikes)["predicted_gap"] = predicted
            differ = rtl_spikes.shape != fixed_spikes.shape or bool(np.any(rtl_spikes != fixed_spikes))
            extra = {
                "bit_exact_mismatches": checked["bit_exact_mismatches"],
                "updates_checked": checked["updates_checked"],
                "float_bound_violations": checked["float_bound_violations"],
                "rtl_spikes_equal_fixed": not differ,
                "verified": bool(checked["passed"]) and not differ,
                "cycles": int(checked["stats"]["busy_cycles"]),
                "cycles_per_step": checked["cycles_per_step"],
                "cycles_per_step_bound": checked["cycles_per_step_bound"],
                "cycles_per_step_floor": checked["cycles_per_step_floor"],
                "backpressure": checked["backpressure"],
                "simulator": sim,
                "verification": str(out / "rtl" / "summary.json"),
            }
            spikes, main = rtl_spikes, "rtl"

    result = runs[main]
    summary = {
        "problem": problem.name,
        "backend": backend,
        "atoms": problem.atoms,
        "dim": problem.dim,
        "lam": problem.lam,
        "nonnegative": problem.nonnegative,
        "neurons": compiled.neurons,
        "signed_pairs": compiled.signed,
        "lanes": lanes,
        "seed": seed,
        **{k: result[k] for k in ("objective", "objective_opt", "rel_gap", "rel_recon_error", "support_precision",
                                  "support_recall", "steps_to_1pct_gap")},
        "predicted_gap": predicted if main != "float" else None,
        "weight_exponent": compiled.spec.weight_exponent,
        "rounding": compiled.spec.rounding,
        "timesteps": steps,
        "spikes": int(spikes.sum()),
        "reference_solver": "fista",
        "reference_wall_s": reference.wall_s,
        "reference_duality_gap": reference.duality_gap,
        "rate_warning": check_rates(compiled, spikes),
        # the array this problem compiled to, as a spec file: `lapicque build --spec OUT/array.toml` puts it on
        # a board, `lapicque verify --spec` checks it (a sweep's board stage builds it)
        "array": ARRAY_FILE,
        "quantisation": compiled.quantisation,
        "runs": runs,
        **extra,
        "patch_shape": list(problem.patch_shape) if problem.patch_shape else None,
        "wall_s": time.perf_counter() - wall0,
        "provenance": provenance(),
    }
    final_code = curves[f"code_{main}"]
    write_npy(out / "coefficients.npy", final_code)
    write_npy(out / "optimum.npy", reference.code)
    write_npz(out / "curves.npz", **curves, signal=problem.signal, dictionary=problem.dictionary)
    write_atomic(out / ARRAY_FILE, spec_toml(compiled.spec))
    write_json(out / "summary.json", summary)
    return summary
