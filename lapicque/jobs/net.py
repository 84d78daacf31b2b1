"""A benchmark network of LIF neurons (CUBA, Brunel's model A, a lattice) simulated by the float golden model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError

from .folders import owned

NETWORKS = ("cuba", "brunel", "lattice")
MAX_DURATION_S = 3600.0
MIN_DT_MS, MAX_DT_MS = 0.001, 1.0  # below: a typo that runs for days; above: delays and refractoriness lost


def make_network(network: str, neurons: int | None = None, regime: str = "AI", seed: int = 1,
                 connectivity: str = "random"):
    """The named network: cuba (default 4000 neurons), brunel (`neurons` excitatory, default 10000, in-degree
    C_E = 1000) or lattice (a sheet of about `neurons`, default 1024, with a patch that starts a wave);
    connectivity: random (numpy's generator) or procedural (lapicque's counter-based rows; cuba, brunel)."""
    from lapicque.golden.network import brunel, checked_connectivity, cuba, lattice

    if network not in NETWORKS:
        raise LapicqueError(f"unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
    if checked_connectivity(connectivity) != "random" and network == "lattice":
        raise LapicqueError("the lattice's connectivity is its geometry; --connectivity is for cuba and brunel")
    if network == "cuba":
        return cuba(neurons or 4000, seed=seed, connectivity=connectivity)
    if network == "lattice":
        side = int(round(np.sqrt(neurons or 1024)))
        net = lattice(side)
        y, x = np.divmod(np.arange(net.neurons), side)
        net.v0[(abs(y - side // 2) <= 1) & (abs(x - side // 2) <= 1)] = -40.0  # a patch that starts the wave
        return net
    excitatory = neurons or 10_000
    return brunel(regime, excitatory=excitatory, epsilon=min(1.0, 1000 / excitatory), seed=seed,
                  connectivity=connectivity)


def net(*, network: str = "cuba", regime: str = "AI", duration: float = 1.0, neurons: int | None = None,
        seed: int = 1, dt: float = 0.1, connectivity: str = "random", out: Path | str | None = None,
        progress=None) -> dict:
    """Simulate `network` for `duration` s of biological time at `dt` ms, integrated exactly.

    regime: brunel's SR, AI, SI-fast or SI-slow; neurons: see `make_network`; seed: connectivity and initial
    state; connectivity: random (numpy's generator) or procedural (lapicque's counter-based rows, which the
    hardware regenerates per spike; cuba and brunel); out: results folder (summary.json, raster.png);
    progress(step, steps): called as it runs.

    Returns the summary (`mean_rate_hz`, `mean_cv`, `synchrony`, ...; `run_s` times the simulation loop
    alone, `setup_s` loading its compiled code once per process, `wall_s` the whole run, `build_s` making
    the connectivity).
    """
    if not (np.isfinite(duration) and 0 < duration <= MAX_DURATION_S):
        raise LapicqueError(f"--duration {duration} s is out of range; allowed 0 < duration <= {MAX_DURATION_S:g}")
    if not (np.isfinite(dt) and MIN_DT_MS <= dt <= MAX_DT_MS):
        raise LapicqueError(f"--dt {dt} ms is out of range; allowed {MIN_DT_MS:g} to {MAX_DT_MS:g} ms")
    if duration * 1000.0 / dt < 1:
        raise LapicqueError(f"--duration {duration} s is shorter than one step of --dt {dt} ms")
    build0 = time.perf_counter()
    network_model = make_network(network, neurons, regime, seed, connectivity)  # checks its input first
    build_s = time.perf_counter() - build0
    with owned(out, "net") as folder:
        return simulate(network_model, duration, seed, dt, folder, progress, build_s)


def simulate(network_model, duration: float, seed: int, dt: float, folder: Path | None, progress,
             build_s: float) -> dict:
    from lapicque.golden.network import run, synchrony

    result = run(network_model, duration * 1000.0, dt, progress=progress)
    rates, cvs = result.rates_hz(), result.cvs()
    summary = {
        "network": network_model.name,
        "neurons": network_model.neurons,
        "synapses": network_model.synapses,
        "duration_s": duration,
        "dt_ms": dt,
        "seed": seed,
        "connectivity": network_model.notes.get("connectivity", "random"),
        "spikes": int(result.spike_times.size),
        "mean_rate_hz": float(rates.mean()),
        "mean_cv": float(np.mean(cvs)) if cvs.size else None,
        "neurons_with_cv": int(cvs.size),
        "synchrony": synchrony(result) if result.duration > 100.0 else None,
        "wall_s": result.wall_s,
        "setup_s": result.setup_s,
        "run_s": result.run_s,
        "build_s": build_s,
    }
    if "realised_p" in network_model.notes:  # the skip table's quantisation of p
        summary["realised_p"] = network_model.notes["realised_p"]
    if folder is not None:
        from lapicque.files import write_atomic, write_json
        from lapicque.plots import raster_png

        write_atomic(folder / "raster.png", raster_png(result, title=f"{network_model.name}, "
                                                                  f"{network_model.neurons} neurons"))
        write_json(folder / "summary.json", summary)
    return summary
