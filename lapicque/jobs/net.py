"""A benchmark network of LIF neurons (CUBA, Brunel's model A, a lattice) simulated by the float golden model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.network_spec import PROCEDURAL_RULES

from .folders import owned

NETWORKS = ("cuba", "brunel", "lattice")
MAX_DURATION_S = 3600.0
MIN_DT_MS, MAX_DT_MS = 0.001, 1.0  # below: a typo that runs for days; above: delays and refractoriness lost


BACKENDS = ("float", "fixed", "rtl")
FIXED_NETWORKS = ("cuba", "brunel")  # mapped to codes (lapicque.golden.network_codes)
SIMULATORS = ("verilator", "icarus")
MAX_RTL_STEPS = 65535  # one run of the core
MIN_SCALE, MAX_SCALE = 0.01, 4.0


def make_network(network: str, neurons: int | None = None, regime: str = "AI", seed: int = 1,
                 connectivity: str = "random", p: float = 0.02):
    """The named network: cuba (default 4000 neurons, connection probability p), brunel (`neurons` excitatory,
    default 10000, in-degree C_E = 1000) or lattice (a sheet of about `neurons`, default 1024, with a patch
    that starts a wave); connectivity: random (numpy's generator) or procedural (lapicque's counter-based rows;
    cuba, brunel)."""
    from lapicque.golden.network import brunel, checked_connectivity, cuba, lattice

    if network not in NETWORKS:
        raise LapicqueError(f"unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
    if checked_connectivity(connectivity) != "random" and network == "lattice":
        raise LapicqueError("the lattice's connectivity is its geometry; --connectivity is for cuba and brunel")
    if network == "cuba":
        return cuba(neurons or 4000, seed=seed, p=p, connectivity=connectivity)
    if network == "lattice":
        side = int(round(np.sqrt(neurons or 1024)))
        net = lattice(side)
        y, x = np.divmod(np.arange(net.neurons), side)
        net.v0[(abs(y - side // 2) <= 1) & (abs(x - side // 2) <= 1)] = -40.0  # a patch that starts the wave
        return net
    excitatory = neurons or 10_000
    return brunel(regime, excitatory=excitatory, epsilon=brunel_epsilon(excitatory), seed=seed,
                  connectivity=connectivity)


def brunel_epsilon(excitatory: int) -> float:
    """Brunel's connection probability at `excitatory` neurons: C_E = 1000 inputs (epsilon = 0.1 at his 10,000),
    all of them below 1000 neurons."""
    return min(1.0, 1000 / excitatory)


def _checked(network: str, backend: str, neurons: int | None, scale: float | None,
             connectivity: str | None) -> tuple[int | None, float, str]:
    """(neurons, p, connectivity) from the options, or a one-line LapicqueError."""
    if backend != "float" and network not in FIXED_NETWORKS:
        raise LapicqueError(f"--backend {backend} runs {', '.join(FIXED_NETWORKS)} (mapped to codes); {network} runs "
                            "on --backend float")
    if backend != "float" and connectivity not in (None, "procedural"):
        raise LapicqueError(f"--backend {backend} runs the contract's procedural rows (what the hardware "
                            "regenerates); drop --connectivity or give --connectivity procedural")
    p = 0.02
    if scale is not None:
        if network != "cuba":
            raise LapicqueError("--scale is for cuba; give brunel and lattice --neurons")
        if neurons is not None:
            raise LapicqueError("give --scale or --neurons, not both")
        neurons, p = cuba_scaled(scale)
    return neurons, p, connectivity or ("random" if backend == "float" else "procedural")


def cuba_scaled(scale: float) -> tuple[int, float]:
    """(neurons, p) of CUBA at 4000 x `scale` neurons with the full network's in-degree (p = 0.02 / scale: 64
    excitatory and 16 inhibitory inputs), or a one-line LapicqueError for a scale out of range."""
    if not (np.isfinite(scale) and MIN_SCALE <= scale <= MAX_SCALE):
        raise LapicqueError(f"--scale {scale} is out of range; allowed {MIN_SCALE:g} to {MAX_SCALE:g}")
    return max(2, int(round(4000 * scale))), min(1.0, 0.02 / scale)


def net(*, network: str = "cuba", backend: str = "float", regime: str = "AI", duration: float = 1.0,
        neurons: int | None = None, scale: float | None = None, seed: int = 1, dt: float = 0.1,
        connectivity: str | None = None, lanes: int | None = None, sim: str = "verilator", core: str = "parallel",
        out: Path | str | None = None, progress=None) -> dict:
    """Simulate `network` for `duration` s of biological time at `dt` ms.

    network: cuba, brunel, lattice, or a network file (.toml: populations and projections in codes,
    docs/networks.md; float runs its codes unrounded);
    backend: float (the golden network, integrated exactly), fixed (the bit-exact contract on the network's
    codes, `lapicque.golden.network_codes`; cuba, brunel) or rtl (the network core in a simulator, every update
    compared with the fixed model; `passed` in the summary); lanes: the core's lanes (rtl; default 4, 2 or 1,
    the most that divide the network, 1 on the serial core; a file's own); sim: verilator or icarus (rtl);
    core: parallel (the network core, lanes side by side) or serial (the iCEBreaker's, one lane out of one
    single-ported memory; rtl); regime: brunel's SR, AI,
    SI-fast or SI-slow; neurons: see
    `make_network`; scale: cuba with 4000 x scale neurons and the full network's in-degree (p = 0.02 / scale);
    seed: connectivity and initial state; connectivity: random (numpy's generator; float's default) or
    procedural (lapicque's counter-based rows, which the hardware regenerates per spike; fixed's only);
    out: results folder (summary.json, raster.png); progress(step, steps): called as it runs.

    Returns the summary (`mean_rate_hz`, `mean_cv`, `synchrony`, ...; `run_s` times the simulation loop
    alone, `setup_s` loading its compiled code once per process, `wall_s` the whole run, `build_s` making
    the connectivity; fixed: `mapping`, every physical quantity's target, realised value and error, and
    `saturated_updates`).
    """
    if not (np.isfinite(duration) and 0 < duration <= MAX_DURATION_S):
        raise LapicqueError(f"--duration {duration} s is out of range; allowed 0 < duration <= {MAX_DURATION_S:g}")
    if not (np.isfinite(dt) and MIN_DT_MS <= dt <= MAX_DT_MS):
        raise LapicqueError(f"--dt {dt} ms is out of range; allowed {MIN_DT_MS:g} to {MAX_DT_MS:g} ms")
    if duration * 1000.0 / dt < 1:
        raise LapicqueError(f"--duration {duration} s is shorter than one step of --dt {dt} ms")
    if backend not in BACKENDS:
        raise LapicqueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "rtl":
        steps = int(round(duration * 1000.0 / dt))
        if steps > MAX_RTL_STEPS:
            raise LapicqueError(f"--duration {duration} s is {steps} steps; one RTL run takes at most {MAX_RTL_STEPS}")
        if sim not in SIMULATORS:
            raise LapicqueError(f"unknown simulator {sim!r}; choose one of {', '.join(SIMULATORS)}")
    if lanes is not None and (isinstance(lanes, bool) or not 1 <= lanes <= 64):
        raise LapicqueError(f"--lanes {lanes} is out of range; allowed 1 to 64")
    if lanes is not None and backend != "rtl":
        raise LapicqueError("--lanes is for --backend rtl")
    if core != "parallel" and backend != "rtl":  # (an unknown core: `check_core` below, before any work)
        raise LapicqueError("--core is for --backend rtl")
    if backend == "rtl":  # the simulator's module only when it is wanted
        from lapicque.sim.network import check_core
    build0 = time.perf_counter()
    if network.endswith(".toml"):  # a network file: populations and projections in codes
        from lapicque.network_spec import load_network

        given = [name for name, value in (("--neurons", neurons), ("--scale", scale),
                                          ("--connectivity", connectivity)) if value is not None]
        if given:
            raise LapicqueError(f"{given[0]} is for the named networks; a network file gives its own sizes and rules")
        spec = load_network(network)
        if lanes is not None:
            spec = spec.with_lanes(lanes)  # checks that they divide the network
        if backend == "rtl":
            check_core(spec, core)
        build_s = time.perf_counter() - build0
        with owned(out, "net") as folder:
            return simulate_codes(spec, None, Path(network).stem, backend, duration, seed, dt, folder, progress,
                                  build_s, sim, core)
    neurons, p, connectivity = _checked(network, backend, neurons, scale, connectivity)
    if backend != "float":
        from lapicque.golden.network_codes import brunel_spec, cuba_spec

        if network == "cuba":
            spec, mapping = cuba_spec(neurons or 4000, p=p, seed=seed, dt=dt)  # checks its input
            name = "cuba"
        else:
            excitatory = neurons or 10_000
            spec, mapping = brunel_spec(regime, excitatory, brunel_epsilon(excitatory), seed=seed, dt=dt)
            name = f"brunel-{regime}"
        if lanes is not None:
            spec = spec.with_lanes(lanes)  # checks that they divide the network
        elif backend == "rtl" and core == "parallel":  # four lanes where they divide the network, else two, else one
            spec = spec.with_lanes(next(k for k in (4, 2, 1) if spec.neurons % k == 0))
        if backend == "rtl":
            check_core(spec, core)
        build_s = time.perf_counter() - build0
        with owned(out, "net") as folder:
            return simulate_codes(spec, mapping, name, backend, duration, seed, dt, folder, progress, build_s, sim,
                                  core)
    network_model = make_network(network, neurons, regime, seed, connectivity, p)  # checks its input first
    build_s = time.perf_counter() - build0
    with owned(out, "net") as folder:
        return simulate(network_model, duration, seed, dt, folder, progress, build_s)


def _statistics(result) -> dict:
    from lapicque.golden.network import synchrony

    rates, cvs = result.rates_hz(), result.cvs()
    return {
        "spikes": int(result.spike_times.size),
        "mean_rate_hz": float(rates.mean()),
        "mean_cv": float(np.mean(cvs)) if cvs.size else None,
        "neurons_with_cv": int(cvs.size),
        "synchrony": synchrony(result) if result.duration > 100.0 else None,
    }


def _write(folder: Path | None, result, name: str, neurons: int, summary: dict) -> None:
    if folder is not None:
        from lapicque.files import write_atomic, write_json
        from lapicque.plots import raster_png

        write_atomic(folder / "raster.png", raster_png(result, title=f"{name}, {neurons} neurons"))
        write_json(folder / "summary.json", summary)


def simulate_codes(spec, mapping: dict | None, name: str, backend: str, duration: float, seed: int, dt: float,
                   folder: Path | None, progress, build_s: float, sim: str = "verilator", core: str = "parallel"
                   ) -> dict:
    """Run a NetworkSpec (bit-exact, float64 on the same codes, or on the RTL checked against the bit-exact
    model) and summarise it like the golden network, with its mapping to codes when it was made from physical
    units."""
    from lapicque.golden.network import NetworkResult
    from lapicque.golden.network_model import NetworkModel

    wall0 = time.perf_counter()
    steps = int(round(duration * 1000.0 / dt))
    rtl = None
    run0 = time.perf_counter()
    if backend == "rtl":
        from lapicque.sim.network import run_network

        rtl = run_network(spec, steps, sim=sim, folder=None if folder is None else folder / "sim", progress=progress,
                          core=core)
        out = {"spike_steps": rtl.pop("spike_steps"), "spike_neurons": rtl.pop("spike_neurons"),
               "saturated": rtl.pop("saturated")}
        model = None
    else:
        model = NetworkModel(spec, fixed=backend == "fixed")
        out = model.run(steps, progress=progress)
    run_s = time.perf_counter() - run0
    # a spike of step k is at the end of that step, (k + 1) dt, as the float network stamps them
    result = NetworkResult((out["spike_steps"] + 1) * dt, out["spike_neurons"], steps * dt, spec.neurons,
                           time.perf_counter() - wall0)
    procedural = any(pr.rule in PROCEDURAL_RULES for pr in spec.projections.values())
    summary = {
        "network": name,
        "backend": backend,
        "neurons": spec.neurons,
        "synapses": rtl["synapses"] if rtl else model.synapses,
        "duration_s": duration,
        "dt_ms": dt,
        "seed": seed,
        "connectivity": "procedural" if procedural else "explicit",
        "populations": {pop.name: pop.size for pop in spec.populations.values()},
        **_statistics(result),
        "saturated_updates": out["saturated"],
        "widths": dict(vars(spec.widths)),
        "wall_s": result.wall_s,
        "setup_s": run0 - wall0,
        "run_s": run_s,
        "build_s": build_s,
    }
    if mapping is not None:
        summary["mapping"] = mapping
        if "p" in mapping:
            summary["realised_p"] = mapping["p"]["realised"]
    if rtl is not None:  # every update compared with the fixed model; the statistics are the RTL's own spikes
        summary["rtl"] = rtl
        summary["passed"] = rtl["passed"]
    _write(folder, result, f"{name} ({summary['backend']})", spec.neurons, summary)
    return summary


def simulate(network_model, duration: float, seed: int, dt: float, folder: Path | None, progress,
             build_s: float) -> dict:
    from lapicque.golden.network import run

    result = run(network_model, duration * 1000.0, dt, progress=progress)
    summary = {
        "network": network_model.name,
        "backend": "float",
        "neurons": network_model.neurons,
        "synapses": network_model.synapses,
        "duration_s": duration,
        "dt_ms": dt,
        "seed": seed,
        "connectivity": network_model.notes.get("connectivity", "random"),
        **_statistics(result),
        "wall_s": result.wall_s,
        "setup_s": result.setup_s,
        "run_s": result.run_s,
        "build_s": build_s,
    }
    if "realised_p" in network_model.notes:  # the skip table's quantisation of p
        summary["realised_p"] = network_model.notes["realised_p"]
    _write(folder, result, network_model.name, network_model.neurons, summary)
    return summary
