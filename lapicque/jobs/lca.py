"""Sparse approximation by the spiking LCA on the float model, the bit-exact model or the verified RTL."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .folders import output_folder, write_run_report


def lca(*, problem: str = "random", dictionary: Path | str | np.ndarray | None = None,
        signal: Path | str | np.ndarray | None = None, atoms: int = 128, dim: int = 64, sparsity: int = 8,
        lam: float = 0.1, nonnegative: bool = False, seed: int = 0, backend: str = "fixed", steps: int = 2000,
        weight_bits: int = 8, rate: float = 0.25, target_gap: float | None = 0.01, weight_exponent: int | None = None,
        lanes: int = 1, sim: str = "verilator", rounding: str | None = None, backpressure: float | None = None,
        out: Path | str | None = None, report: bool = False, status=None) -> dict:
    """Solve min 0.5 ||y - Phi a||^2 + lam ||a||_1 by the spiking LCA and score it against FISTA's optimum.

    problem: identity, zero, competition, excitation, bars, random or patches; or your own `dictionary`
    (dim x atoms, unit-norm columns) and `signal` (length dim), as .npy files or arrays;
    backend: float, fixed or rtl (the RTL verified bit-exact while it solves); weight_bits: the array's
    weight width; rate: spikes per step of the strongest drive; target_gap: the relative objective gap the
    rounding may cost, predicted before anything runs (a compilation that cannot meet it is refused with the
    weight bits it needs; None: no limit); weight_exponent: the input's shift (default: the smallest whose
    predicted gap is a tenth of target_gap); lanes, sim: the RTL's; rounding: the array's decay rounding (default
    toward_zero; the LCA's decays are exact, so it changes the datapath's logic, not the results); backpressure:
    the RTL testbench's back-pressure (default 0.02; 0: the array's own cycles per step); out: results folder
    (summary.json, coefficients.npy, optimum.npy, curves.npz; report.html with report=True).

    Returns the summary (`rel_gap`, `steps_to_1pct_gap`, `runs`, ...; docs/lca.md).
    """
    from lapicque.sim.lca import make_problem, solve

    lasso_problem = make_problem(problem, atoms=atoms, dim=dim, sparsity=sparsity, lam=lam, seed=seed,
                                 nonnegative=nonnegative, dictionary=dictionary, signal=signal)
    with output_folder(out, "lca", report) as folder:
        summary = solve(lasso_problem, backend, steps, folder, weight_bits=weight_bits, rate=rate, lanes=lanes,
                        sim=sim, seed=seed, target_gap=target_gap, rounding=rounding,
                        weight_exponent=weight_exponent, backpressure=backpressure, status=status)
    if report:  # once the run is complete: the report refuses a folder whose run is not
        write_run_report(folder)
    return summary
