"""The field's benchmark networks in codes: `NetworkSpec`s made from the physical parameters of
`lapicque.golden.network`, with every realised quantity and its error.

The float network integrates exactly: per step v <- v e^{-dt/tau_m} + g P(dt) and g <- g e^{-dt/tau_s} +
arrivals, with P the propagator of `lapicque.golden.network.propagator`. The contract's step
i <- decay(i) + acc, v <- leak(v) + sum of i is the same recursion with the current measured in what it adds
to the membrane over a step, so

    leak = round(4096 (1 - e^{-dt/tau_m}))      decay_c = round(4096 (1 - e^{-dt/tau_c}))
    weight code = round(w P(dt, tau_m, tau_c) / lsb)   membrane codes = (V - E_L) / lsb
    theta_hi = floor((V_th - E_L) / lsb) + 1    (the float model's strict v > V_th on integers)

and the rounding of each is what the fixed model changes: `mapping` reports target, realised value and
relative error of every quantity (the 12-bit leak turns tau_m = 20 ms at dt = 0.1 ms into 20.43 ms).
"""

from __future__ import annotations

import math

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.network_spec import NetworkSpec, Population, Projection
from lapicque.spec import DECAY_ONE, PARAM_NAMES, Widths, default_params

from .connectivity import realised_p, skip_table
from .network import CUBA, propagator

DEFAULT_LSB_MV = 2.0**-14  # the current of one w_e spike adds 131 codes per step: weights within 0.4 %


def _fraction(dt: float, tau: float) -> int:
    return int(round(DECAY_ONE * -math.expm1(-dt / tau)))


def _tau(code: int, dt: float) -> float:
    return -dt / math.log1p(-code / DECAY_ONE) if 0 < code < DECAY_ONE else math.inf


def _entry(target: float, realised: float) -> dict:
    target, realised = float(target), float(realised)
    return {"target": target, "realised": realised,
            "relative_error": (realised - target) / abs(target) if target else realised}


def _width_for(codes) -> int:
    """The narrowest signed width (at least 2 bits) that holds every code (+-top needs top's bits and a sign)."""
    return max(2, max(abs(int(c)) for c in codes).bit_length() + 1)


def cuba_spec(neurons: int = 4000, p: float = 0.02, seed: int = 1, dt: float = 0.1, lsb_mv: float = DEFAULT_LSB_MV,
              v_bits: int = 20, i_bits: int = 16, lanes: int = 1) -> tuple[NetworkSpec, dict]:
    """CUBA (`lapicque.golden.network.cuba`'s parameters) as a NetworkSpec: populations exc (80 %) and inh,
    channels exc (tau_e) and inh (tau_i), four procedural Bernoulli projections ee, ei, ie, ii of
    probability p (indices 0-3, this seed), delay 1; the membrane starts where the float network's does
    (the same draw, rounded to codes). Returns (spec, mapping)."""
    c = CUBA
    if neurons < 2:
        raise LapicqueError(f"--neurons = {neurons} is too small; a network needs at least 2")
    if not (math.isfinite(lsb_mv) and lsb_mv > 0):
        raise LapicqueError(f"lsb_mv = {lsb_mv} must be a positive number")
    n_exc = int(round(neurons * c["excitatory_fraction"]))
    n_inh = neurons - n_exc
    leak = _fraction(dt, c["tau_m"])
    decay = {"exc": _fraction(dt, c["tau_e"]), "inh": _fraction(dt, c["tau_i"])}
    if leak == 0 or 0 in decay.values():
        raise LapicqueError(f"dt = {dt} ms is too short for 12-bit decays of CUBA's time constants (one rounds "
                            "to 0)")
    gain = {channel: propagator(dt, c["tau_m"], c[tau]) / lsb_mv  # membrane codes per mV of synaptic current
            for channel, tau in (("exc", "tau_e"), ("inh", "tau_i"))}
    w = {"exc": int(round(c["w_e"] * gain["exc"])), "inh": int(round(c["w_i"] * gain["inh"]))}
    theta = math.floor((c["v_th"] - c["e_l"]) / lsb_mv) + 1
    v_reset = int(round((c["v_reset"] - c["e_l"]) / lsb_mv))
    refractory = int(round(c["t_ref"] / dt))
    v0_mv = -60.0 + np.random.default_rng(seed).random(neurons) * 10.0  # procedural cuba()'s draw
    v0 = np.round((v0_mv - c["e_l"]) / lsb_mv).astype(np.int64)
    widths = Widths(v=v_bits, i=i_bits, w=_width_for(w.values()), bias=16, ext=8,
                    refractory=max(1, refractory.bit_length()))
    base = default_params() | {"bias": 0, "leak": leak, "theta_hi": theta, "theta_lo": 0, "refractory": refractory,
                               "v_reset": v_reset, "leak_mode": 0, "reset_mode": 0, "hysteresis": 0}

    def population(name: str, start: int, size: int) -> Population:
        params = {k: np.full(size, base[k], np.int64) for k in PARAM_NAMES if k != "decay"}
        return Population(name, size, params, {ch: np.full(size, d, np.int64) for ch, d in decay.items()},
                          v0[start:start + size])

    populations = {"exc": population("exc", 0, n_exc), "inh": population("inh", n_exc, n_inh)}
    projections = {}
    for name, (src, dst) in {"ee": ("exc", "exc"), "ei": ("exc", "inh"), "ie": ("inh", "exc"),
                             "ii": ("inh", "inh")}.items():
        projections[name] = Projection(name, src, dst, "bernoulli", np.array(w[src]), src, 1, seed, p=p)
    spec = NetworkSpec(populations, projections, ("exc", "inh"), lanes, widths, "toward_zero", 0)
    mapping = {
        "tau_m_ms": _entry(c["tau_m"], _tau(leak, dt)),
        "tau_e_ms": _entry(c["tau_e"], _tau(decay["exc"], dt)),
        "tau_i_ms": _entry(c["tau_i"], _tau(decay["inh"], dt)),
        "w_e_mv": _entry(c["w_e"], w["exc"] / gain["exc"]),
        "w_i_mv": _entry(c["w_i"], w["inh"] / gain["inh"]),
        "v_th_mv": _entry(c["v_th"], c["e_l"] + (theta - 1) * lsb_mv),  # v >= theta is v > this, on the grid
        "v_reset_mv": _entry(c["v_reset"], c["e_l"] + v_reset * lsb_mv),
        "t_ref_ms": _entry(c["t_ref"], refractory * dt),
        "p": _entry(p, realised_p(skip_table(p))),
    }
    return spec, mapping


BRUNEL_LSB_MV = 2.0**-11  # J = 0.1 mV is 205 codes (+0.1 %); 20-bit membranes and currents hold +-256 mV


def brunel_spec(regime: str = "AI", excitatory: int = 10_000, epsilon: float = 0.1, j: float = 0.1, seed: int = 1,
                dt: float = 0.1, lsb_mv: float = BRUNEL_LSB_MV, v_bits: int = 20, i_bits: int = 20,
                lanes: int = 1) -> tuple[NetworkSpec, dict]:
    """Brunel's model A (`lapicque.golden.network.brunel`'s parameters) as a NetworkSpec: populations exc
    (`excitatory`) and inh (a quarter of it) with the same neurons, one channel of delta synapses (decay 4096:
    the current is the step's input, so a weight jumps the membrane), four fixed-in-degree projections ee, ei
    (C_E = epsilon N_E each, weight J) and ie, ii (C_I, -g J), indices 0-3 of this seed, delay 1.5 ms, and every
    neuron's external Poisson input of mean C_E nu_ext dt per step, weight J (`lapicque.golden.external`, seed
    + 1); the membrane starts where the float network's does. Returns (spec, mapping)."""
    from .external import External, poisson_table, realised_mean
    from .network import BRUNEL_REGIMES, brunel_sizes

    if not (math.isfinite(lsb_mv) and lsb_mv > 0):
        raise LapicqueError(f"lsb_mv = {lsb_mv} must be a positive number")
    g, eta = BRUNEL_REGIMES[regime] if regime in BRUNEL_REGIMES else (None, None)
    n_e, n_i, c_e, c_i = brunel_sizes(regime, excitatory, epsilon)
    tau, theta, reset, t_ref, delay_ms = 20.0, 20.0, 10.0, 2.0, 1.5
    leak = _fraction(dt, tau)
    delay = int(round(delay_ms / dt))
    if leak == 0 or not 1 <= delay <= 64:
        raise LapicqueError(f"dt = {dt} ms does not map Brunel's network to codes (a 12-bit leak of tau = 20 ms and "
                            "a delay of 1.5 ms in 1..64 steps)")
    mean = eta * theta * dt / (j * tau)  # C_E nu_ext dt with nu_ext = eta theta / (J C_E tau)
    w = {"exc": int(round(j / lsb_mv)), "inh": int(round(-g * j / lsb_mv))}
    table = poisson_table(mean)
    theta_code = math.floor(theta / lsb_mv) + 1
    v_reset = int(round(reset / lsb_mv))
    refractory = int(round(t_ref / dt))
    v0_mv = np.random.default_rng(seed).uniform(0.0, theta, n_e + n_i)  # procedural brunel()'s draw
    v0 = np.round(v0_mv / lsb_mv).astype(np.int64)
    widths = Widths(v=v_bits, i=i_bits, w=_width_for(w.values()), bias=16, ext=_width_for([len(table) * w["exc"]]),
                    refractory=max(1, refractory.bit_length()))
    base = default_params() | {"bias": 0, "leak": leak, "theta_hi": theta_code, "theta_lo": 0,
                               "refractory": refractory, "v_reset": v_reset, "leak_mode": 0, "reset_mode": 0,
                               "hysteresis": 0}
    external = External(mean, w["exc"], seed + 1)

    def population(name: str, start: int, size: int) -> Population:
        params = {k: np.full(size, base[k], np.int64) for k in PARAM_NAMES if k != "decay"}
        return Population(name, size, params, {"syn": np.full(size, DECAY_ONE, np.int64)}, v0[start:start + size],
                          external)

    populations = {"exc": population("exc", 0, n_e), "inh": population("inh", n_e, n_i)}
    degree = {"exc": c_e, "inh": c_i}
    projections = {name: Projection(name, src, dst, "fixed_in_degree", np.array(w[src]), "syn", delay, seed,
                                    degree=degree[src])
                   for name, (src, dst) in {"ee": ("exc", "exc"), "ei": ("exc", "inh"), "ie": ("inh", "exc"),
                                            "ii": ("inh", "inh")}.items()}
    spec = NetworkSpec(populations, projections, ("syn",), lanes, widths, "toward_zero", 0)
    mapping = {
        "tau_m_ms": _entry(tau, _tau(leak, dt)),
        "j_mv": _entry(j, w["exc"] * lsb_mv),
        "g_j_mv": _entry(-g * j, w["inh"] * lsb_mv),
        "v_th_mv": _entry(theta, (theta_code - 1) * lsb_mv),
        "v_reset_mv": _entry(reset, v_reset * lsb_mv),
        "t_ref_ms": _entry(t_ref, refractory * dt),
        "delay_ms": _entry(delay_ms, delay * dt),
        "external_per_step": _entry(mean, realised_mean(table)),
    }
    return spec, mapping
