"""The membrane-potential density of a noisy LIF population with network feedback (Fokker-Planck, NNLIF)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError

from .folders import owned, quiet


def density(*, mu: float = 1.2, sigma: float = 0.5, coupling: float = 0.0, tau_m: float = 20.0, t_ref: float = 0.0,
            duration: float = 0.5, dt: float = 0.02, cells: int = 200, init: str = "gaussian",
            init_mean: float | None = None, init_std: float = 0.1, monte_carlo: int = 0, seed: int = 0,
            out: Path | str | None = None, status=None) -> dict:
    """Solve the density by conservative finite volumes (lapicque.golden.density); voltages in units of
    theta - v_reset (threshold 1, reset 0).

    mu, sigma: mean input and noise; coupling: J, the drift gains J tau_m nu (> 0 excitatory); tau_m, t_ref,
    dt: ms; duration: s; cells: between reset and threshold; init: gaussian (init_mean, default the reset,
    and init_std) or reset; monte_carlo: also simulate this many neurons and compare the rates (seeded by
    seed); out: results folder (summary.json, density.png).

    Returns the summary (`final_rate_hz`, `stationary_rate_hz`, `siegert_rate_hz`, `blow_up`, ...).
    """
    from lapicque.golden import density as fp

    pop = fp.Population(mu, sigma, coupling, tau_m, t_ref=t_ref)
    pop.check()
    if monte_carlo < 0:
        raise LapicqueError(f"--monte-carlo = {monte_carlo} must be 0 (off) or a number of neurons")
    grid = fp.make_grid(pop, cells)
    initial = fp.initial_density(grid, init, init_mean, init_std)
    with owned(out, "density") as folder:
        return solve(pop, duration, dt, grid, initial, monte_carlo, seed, folder, quiet(status))


def solve(pop, duration: float, dt: float, grid, initial, monte_carlo: int, seed: int, folder: Path | None,
          say) -> dict:
    from lapicque.golden import density as fp

    wall0 = time.perf_counter()
    say("solving the density")
    run = fp.evolve(pop, duration * 1000.0, dt, grid, initial,
                    progress=lambda k, n: say(f"solving the density: step {k:,}/{n:,}"))
    say("stationary state")
    stationary_hz = fp.self_consistent_rate(pop, grid)
    summary = {
        "mu": pop.mu, "sigma": pop.sigma, "coupling": pop.coupling, "tau_m_ms": pop.tau_m, "t_ref_ms": pop.t_ref,
        "theta": pop.theta, "v_reset": pop.v_reset, "duration_s": duration, "dt_ms": dt,
        "cells": len(grid.centres),
        "v_min": float(grid.edges[0]), "scheme": "finite volumes, Scharfetter-Gummel fluxes, backward Euler",
        "final_rate_hz": float(run.rate_hz[-1]),
        "max_mass_error_per_step": float(np.max(np.abs(np.diff(np.concatenate([[1.0], run.mass]))))),
        "blow_up": run.blow_up,
        "stationary_rate_hz": stationary_hz,
    }
    if stationary_hz is not None:
        mu_eff = pop.mu + pop.coupling * pop.tau_m * stationary_hz / 1000.0
        summary["stationary_mu_eff"] = mu_eff
        summary["siegert_rate_hz"] = pop.siegert_hz(mu_eff)
        summary["stationary_vs_siegert"] = stationary_hz / summary["siegert_rate_hz"] - 1
    if monte_carlo and run.blow_up is None:
        say(f"Monte-Carlo: {monte_carlo:,} neurons")
        counts, _ = fp.monte_carlo(pop, duration * 1000.0, dt, monte_carlo, seed, initial, grid)
        summary["monte_carlo"] = fp.compare_rates(run.rate_hz, counts, dt, monte_carlo)
    summary["wall_s"] = time.perf_counter() - wall0
    if folder is not None:
        from lapicque.files import write_atomic, write_json
        from lapicque.plots import density_png

        write_atomic(folder / "density.png", density_png(run, summary))
        write_json(folder / "summary.json", summary)
    return summary
