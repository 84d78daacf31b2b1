"""Presets: array specs whose fixed model reproduces another platform's neuron bit for bit.

`loihi`: Intel Lava's bit-accurate LIF (`lava.proc.lif.models.PyLifModelBitAcc`, the model of a
Loihi 1 compartment), from Lava's own parameters. Lava's update per step, and its image here:

    Lava                                              lapicque (`lapicque.spec`)
    u <- trunc(u (4096 - (du + 1)) / 4096) + a_in << 6    i <- decay(i, du + 1) + (acc + ext) << 6
    v <- trunc(v (4096 - dv) / 4096) + u + bias          v <- decay(v, dv) + i + bias   (leak exponential)
    bias = bias_mant << bias_exp                          bias (a code)
    spike when v > vth << 6, then v <- 0                  theta_hi = (vth << 6) + 1, absolute reset to 0

with `rounding = "toward_zero"` (Lava's `sign(x) * (|x| >> 12)`), `weight_exponent = 6` (Lava's
activation shift), 24-bit u and v, 16-bit external input (Lava's `a_in` is int16), no refractory
period, and the current updated before the membrane, as in the array's contract. A spike reaches
its targets one step later in both (Lava's Dense sends what it received the step before).

Lava's parameter ranges (its model's docstring): du, dv 0..4095 (12 bits), bias_mant -4096..4095
(13 bits), bias_exp 0..7 (3 bits), vth 0..131071 (17 bits); a value outside is refused, not
approximated. Two behaviours at the rails differ and are stated, not hidden: Lava wraps the current
modulo 2**24 where the array saturates it, and clips the membrane at -(2**23 - 1) where the array's
floor is -2**23; below either rail the two are identical. Lava's other LIF variants are not presets:
the ternary LIF's negative spikes (vth_lo), LIFRefractory's refractory_period and LIFReset's
reset_interval have no image in the contract, and their names are refused with the reason.
"""

from __future__ import annotations

import numpy as np

from .errors import SpecError
from .spec import ArraySpec, Widths, weights_from_file

PRESETS = ("loihi",)

#: Lava's activation and threshold shift: inputs and thresholds are MSB-aligned by 6 bits
LOIHI_SHIFT = 6
#: Lava's own parameter ranges (PyLifModelBitAcc's docstring and LavaPyType precisions)
LOIHI_RANGES = {"du": (0, 4095), "dv": (0, 4095), "bias_mant": (-4096, 4095), "bias_exp": (0, 7), "vth": (0, 131071)}
LOIHI_DEFAULTS = {"du": 0, "dv": 0, "bias_mant": 0, "bias_exp": 0, "vth": 10}
#: Lava parameters of other LIF variants that the array's contract cannot express, and why
LOIHI_REFUSED = {
    "vth_lo": "Lava's TernaryLIF emits negative spikes below vth_lo; the array's spikes are one-sided",
    "vth_hi": "vth_hi belongs to Lava's TernaryLIF, whose negative spikes the array cannot emit; use vth",
    "refractory_period": "Lava's LIFRefractory is not the preset; its refractory semantics are not the array's",
    "reset_interval": "Lava's LIFReset zeroes u and v on a clock; the array has no periodic reset",
    "reset_offset": "Lava's LIFReset zeroes u and v on a clock; the array has no periodic reset",
}
LOIHI_WEIGHT_BITS = 8


def loihi_widths(weight_bits: int = LOIHI_WEIGHT_BITS) -> Widths:
    """24-bit u and v as on Loihi; the bias holds bias_mant << 7 at most; a_in is int16."""
    return Widths(v=24, i=24, w=weight_bits, bias=24, ext=16, refractory=1)


def _lava_values(name: str, value, neurons: int) -> np.ndarray:
    lo, hi = LOIHI_RANGES[name]
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        raise SpecError(f"{name} must be one whole number or a list of {neurons}") from None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)) \
            or not np.all(arr == np.round(arr)):
        raise SpecError(f"{name} must hold whole numbers (Lava's fixed-point codes)")
    arr = np.broadcast_to(arr, (neurons,)) if arr.ndim == 0 else arr
    if arr.shape != (neurons,):
        raise SpecError(f"{name} has {arr.size} values; expected 1 or {neurons} (one per neuron)")
    bad = np.flatnonzero((arr < lo) | (arr > hi))
    if bad.size:
        k = int(bad[0])
        raise SpecError(f"{name}[{k}] = {int(arr[k])} is outside Lava's range {lo}..{hi} for the bit-accurate LIF; "
                        "the loihi preset does not approximate it")
    return arr.astype(np.int64)


def loihi_lif(neurons: int = 1, *, du=LOIHI_DEFAULTS["du"], dv=LOIHI_DEFAULTS["dv"],
              bias_mant=LOIHI_DEFAULTS["bias_mant"], bias_exp=LOIHI_DEFAULTS["bias_exp"], vth=LOIHI_DEFAULTS["vth"],
              weights=None, lanes: int = 1, weight_bits: int = LOIHI_WEIGHT_BITS, monitor: bool = True) -> ArraySpec:
    """A spec whose fixed model is Lava's `PyLifModelBitAcc` with these parameters (Lava's names and codes).

    Each parameter is one value or one per neuron. `weights[src, dst]` is what a spike of `src` adds
    to `dst`'s `a_in` (before Lava's shift by 6), as `weight_bits`-bit codes; the external input
    (`ext` of `lapicque verify`, `ArrayModel.step`) is Lava's `a_in` itself, int16. See the module
    docstring for the mapping and the two stated differences at the rails.
    """
    if isinstance(neurons, bool) or not isinstance(neurons, int | np.integer) or neurons < 1:
        raise SpecError(f"neurons = {neurons!r} must be a whole number of at least 1")
    lava = {name: _lava_values(name, value, neurons)
            for name, value in (("du", du), ("dv", dv), ("bias_mant", bias_mant), ("bias_exp", bias_exp),
                                ("vth", vth))}
    params = {
        "decay": lava["du"] + 1,  # Lava's ds_offset: du = 4095 is a full decay (4096)
        "leak": lava["dv"],  # dm_offset is 0
        "leak_mode": "exponential",
        "bias": lava["bias_mant"] << lava["bias_exp"],
        "theta_hi": (lava["vth"] << LOIHI_SHIFT) + 1,  # v > vth << 6 on integers
        "theta_lo": 0,
        "refractory": 0,
        "reset_mode": "absolute",
        "v_reset": 0,
        "reset_current": 0,
        "hysteresis": 0,
    }
    return ArraySpec(neurons, lanes, loihi_widths(weight_bits), params, weights, monitor=monitor,
                     rounding="toward_zero", weight_exponent=LOIHI_SHIFT)


def spec_from_preset(preset, data: dict, source: str, neurons: int, lanes: int, monitor: bool) -> ArraySpec:
    """The spec file's `preset = "..."`: its `[params]` take the platform's names; widths, rounding and
    weight_exponent are the preset's (only `widths.w` may be chosen)."""
    if preset not in PRESETS:
        raise SpecError(f"{source}: preset = {preset!r} is not one of {', '.join(PRESETS)}")
    for key in ("rounding", "weight_exponent"):
        if key in data:
            raise SpecError(f"{source}: preset = 'loihi' fixes {key} (toward_zero, 6 as on Loihi); remove {key}")
    widths = data.get("widths", {})
    if not isinstance(widths, dict) or set(widths) - {"w"}:
        raise SpecError(f"{source}: preset = 'loihi' fixes the widths (24-bit u and v, 16-bit input); only "
                        "widths.w (the weights' bits) may be set")
    weight_bits = widths.get("w", LOIHI_WEIGHT_BITS)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise SpecError(f"{source}: params must be a table ([params] with one key per line), not {params!r}")
    for name in params:
        if name in LOIHI_REFUSED:
            raise SpecError(f"{source}: params.{name}: {LOIHI_REFUSED[name]}")
        if name not in LOIHI_RANGES:
            raise SpecError(f"{source}: unknown parameter {name!r} for preset = 'loihi'; allowed: Lava's "
                            f"{', '.join(LOIHI_RANGES)}")
    weights = weights_from_file(data.get("weights"), neurons, source)  # drawn once the rest is checked
    try:
        return loihi_lif(neurons, **params, weights=weights, lanes=lanes, weight_bits=weight_bits, monitor=monitor)
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None
