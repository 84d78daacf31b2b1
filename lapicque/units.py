"""From physical units (ms, mV, MOhm, nA) to the array's codes and back, with the mapping's own error.

A leaky integrate-and-fire neuron, tau_m dV/dt = -(V - E_L) + R I, integrated exactly over a step dt,
is v[n+1] = v[n] (1 - a) + a R I with a = 1 - exp(-dt / tau_m), where v = V - E_L. The array computes
v - (v * leak >> 12) + i + bias, so

    leak  = round(4096 a)                 the realised tau_m is -dt / ln(1 - leak / 4096)
    bias  = round(leak / 4096 * R I / lsb)  membrane codes are (V - E_L) / lsb
    decay = round(4096 (1 - exp(-dt / tau_syn)))   for the synaptic current

Every rounding is reported (`Mapping.errors`) as the relative error of the realised value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import SpecError
from .spec import DECAY_ONE, Widths, signed_range


@dataclass(frozen=True)
class PhysicalLIF:
    """A current-based LIF neuron in physical units."""

    tau_m_ms: float = 20.0
    tau_syn_ms: float = 5.0
    r_mohm: float = 100.0
    e_l_mv: float = -65.0
    v_th_mv: float = -50.0
    v_reset_mv: float = -65.0
    i_bias_na: float = 0.2
    refractory_ms: float = 2.0
    dt_ms: float = 0.1

    def validate(self) -> None:
        for name in ("tau_m_ms", "tau_syn_ms", "r_mohm", "dt_ms"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise SpecError(f"{name} = {value} must be a positive number")
        if self.v_th_mv <= self.e_l_mv:
            raise SpecError(f"v_th_mv = {self.v_th_mv} must be above e_l_mv = {self.e_l_mv}")
        if self.refractory_ms < 0:
            raise SpecError(f"refractory_ms = {self.refractory_ms} must not be negative")

    @property
    def leak_fraction(self) -> float:
        return -math.expm1(-self.dt_ms / self.tau_m_ms)

    @property
    def decay_fraction(self) -> float:
        return -math.expm1(-self.dt_ms / self.tau_syn_ms)

    def float_params(self, lsb_mv: float = 1.0) -> dict[str, float]:
        """Unquantised parameters for the float model (membrane in units of `lsb_mv`)."""
        a = self.leak_fraction
        return {
            "bias": a * self.r_mohm * self.i_bias_na / lsb_mv,
            "leak": DECAY_ONE * a,
            "decay": DECAY_ONE * self.decay_fraction,
            "theta_hi": (self.v_th_mv - self.e_l_mv) / lsb_mv,
            "theta_lo": 0.0,
            "refractory": round(self.refractory_ms / self.dt_ms),
            "v_reset": (self.v_reset_mv - self.e_l_mv) / lsb_mv,
            "reset_current": 0.0,
            "leak_mode": 0,
            "reset_mode": 0,
            "hysteresis": 0,
        }


@dataclass
class Mapping:
    """The codes of one neuron, the physical values they realise, and the relative error of each."""

    codes: dict[str, int]
    realised: dict[str, float]
    errors: dict[str, float] = field(default_factory=dict)

    @property
    def worst(self) -> tuple[str, float]:
        name = max(self.errors, key=lambda k: abs(self.errors[k]))
        return name, self.errors[name]


def to_codes(neuron: PhysicalLIF, lsb_mv: float = 0.01, widths: Widths | None = None) -> Mapping:
    """Quantise a physical LIF onto the array's codes; raises SpecError if a value does not fit."""
    neuron.validate()
    widths = widths or Widths()
    if not lsb_mv > 0:
        raise SpecError(f"lsb_mv = {lsb_mv} must be positive")
    exact = neuron.float_params(lsb_mv)
    codes = {k: int(round(v)) for k, v in exact.items()}
    if codes["leak"] == 0:
        raise SpecError(f"tau_m_ms = {neuron.tau_m_ms} is too long for dt_ms = {neuron.dt_ms}: "
                        "the 12-bit leak rounds to 0; use a larger dt")
    a = codes["leak"] / DECAY_ONE
    codes["bias"] = int(round(a * neuron.r_mohm * neuron.i_bias_na / lsb_mv))
    checks = {"bias": widths.bias, "theta_hi": widths.v, "v_reset": widths.v}
    for name, bits in checks.items():
        lo, hi = signed_range(bits)
        if not lo <= codes[name] <= hi:
            raise SpecError(f"{name} = {codes[name]} codes does not fit {bits} bits ({lo}..{hi}); "
                            f"choose a larger lsb_mv than {lsb_mv}")
    if codes["refractory"] > (1 << widths.refractory) - 1:
        raise SpecError(f"refractory of {codes['refractory']} steps does not fit widths.refractory = "
                        f"{widths.refractory}")
    realised = from_codes(codes, lsb_mv, neuron.dt_ms, neuron.r_mohm, neuron.e_l_mv)
    requested = {"tau_m_ms": neuron.tau_m_ms, "tau_syn_ms": neuron.tau_syn_ms, "v_th_mv": neuron.v_th_mv,
                 "v_reset_mv": neuron.v_reset_mv, "i_bias_na": neuron.i_bias_na,
                 "refractory_ms": neuron.refractory_ms}
    errors = {}
    for k, want in requested.items():
        got = realised[k]
        errors[k] = (got - want) / abs(want) if want else got
    return Mapping(codes, realised, errors)


def from_codes(codes: dict[str, int], lsb_mv: float, dt_ms: float, r_mohm: float, e_l_mv: float) -> dict:
    """The physical values that codes realise (inverse of `to_codes`)."""
    a = codes["leak"] / DECAY_ONE
    d = codes["decay"] / DECAY_ONE
    tau_m = -dt_ms / math.log1p(-a) if 0 < a < 1 else (math.inf if a == 0 else 0.0)
    tau_syn = -dt_ms / math.log1p(-d) if 0 < d < 1 else (math.inf if d == 0 else 0.0)
    return {
        "tau_m_ms": tau_m,
        "tau_syn_ms": tau_syn,
        "v_th_mv": e_l_mv + codes["theta_hi"] * lsb_mv,
        "v_reset_mv": e_l_mv + codes["v_reset"] * lsb_mv,
        "i_bias_na": codes["bias"] * lsb_mv / (a * r_mohm) if a else math.inf,
        "refractory_ms": codes["refractory"] * dt_ms,
    }


def lif_dc_voltage(t_ms: np.ndarray, neuron: PhysicalLIF) -> np.ndarray:
    """Analytic membrane under DC input from rest: V(t) = E_L + R I (1 - exp(-t / tau_m))."""
    return neuron.e_l_mv + neuron.r_mohm * neuron.i_bias_na * -np.expm1(-np.asarray(t_ms) / neuron.tau_m_ms)


def lif_first_spike_ms(neuron: PhysicalLIF) -> float:
    """Analytic first spike time from rest: t* = -tau ln(1 - (V_th - E_L) / (R I)); inf if never."""
    drive = neuron.r_mohm * neuron.i_bias_na
    gap = neuron.v_th_mv - neuron.e_l_mv
    if drive <= gap:
        return math.inf
    return -neuron.tau_m_ms * math.log1p(-gap / drive)
