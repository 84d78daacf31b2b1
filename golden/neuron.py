"""The neuron contract as executable models: bit-exact fixed point and float64, vectorised over neurons.

Both models run the one function `array_step`, so the only difference between them is quantisation:
the fixed model rounds every exponential decay as the spec's `rounding` says (`floor`: the decrement
shifted right by 12, so a positive state stops short of rest; `toward_zero`: the kept part truncated
toward zero, so both signs reach rest), the float model does not round at all. Both saturate to the
same ranges (saturation is a design rule, not a rounding). The update equations are those of
`lapicque.spec`.

Widths: all arithmetic is int64 (fixed) or float64 (float); products `x * d` are at most
2**31 * 4096 < 2**44, so neither overflows nor loses precision before the explicit saturation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lapicque.spec import DECAY_ONE, DECAY_SHIFT, FLAG_NAMES, ArraySpec, signed_range


@dataclass
class State:
    """Per-neuron state: membrane v, synaptic current i, refractory counter, hysteresis pulse bit."""

    v: np.ndarray
    i: np.ndarray
    ref: np.ndarray
    pulse: np.ndarray

    def copy(self) -> State:
        return State(self.v.copy(), self.i.copy(), self.ref.copy(), self.pulse.copy())

    def as_float(self) -> State:
        return State(self.v.astype(np.float64), self.i.astype(np.float64), self.ref.copy(), self.pulse.copy())


#: what every update reports, in the order models, testbench and scoreboard exchange them
UPDATE_FIELDS = ("v", "i", "ref", "pulse", "spike", "flags")


@dataclass
class StepResult:
    state: State
    spike: np.ndarray  # bool
    flags: np.ndarray  # int64 bit set, bit k = FLAG_NAMES[k]
    v_pre: np.ndarray  # membrane after integration, before threshold and reset
    fired: np.ndarray  # bool: threshold crossed (normal) or pulse started (hysteresis)
    released: np.ndarray  # bool: hysteresis pulse ended

    def fields(self) -> tuple:
        """The update's fields in UPDATE_FIELDS order."""
        return self.state.v, self.state.i, self.state.ref, self.state.pulse, self.spike, self.flags


def zero_state(n: int) -> State:
    z = np.zeros(n, dtype=np.int64)
    return State(z.copy(), z.copy(), z.copy(), z.copy())


def _decay(x, d, fixed: bool, rounding: str = "floor"):
    if not fixed:
        return x - x * d / DECAY_ONE
    product = x * d
    if rounding == "floor":
        return x - (product >> DECAY_SHIFT)
    # toward zero: trunc(x (4096 - d) / 4096) = x - ceil(x d / 4096) for x >= 0, x - floor(x d / 4096) below
    return x - ((product + np.where(x >= 0, DECAY_ONE - 1, 0)) >> DECAY_SHIFT)


def _linear_leak(x, d):
    return np.where(x > 0, np.maximum(x - d, 0), np.minimum(x + d, 0))


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)  # cheaper than np.clip on small arrays


_FLAG_WEIGHTS = np.int64(1) << np.arange(len(FLAG_NAMES), dtype=np.int64)


def array_step(spec: ArraySpec, state: State, acc, ext, fixed: bool, params=None, channels: bool = False
               ) -> StepResult:
    """One timestep of every neuron. `acc` is the synaptic input (sum of weights of last step's spikes).

    State arrays may carry leading batch axes ([steps, neurons]): each row is stepped independently.
    `params` overrides the spec's codes (the float model may run unquantised values, see
    `lapicque.units.PhysicalLIF.float_params`). With `channels` (a network's several synaptic currents,
    `lapicque.network_spec`), `state.i`, `acc` and `params["decay"]` are [channels, neurons], `ext` enters
    channel 0, and the membrane takes the sum of the channels' currents; `spec` needs only widths, rounding and
    weight_exponent.
    """
    p = spec.params if params is None else params
    i_lo, i_hi = signed_range(spec.widths.i)
    v_lo, v_hi = signed_range(spec.widths.v)
    v, i, ref, pulse = state.v, state.i, state.ref, state.pulse != 0
    hyst = p["hysteresis"] == 1
    theta_hi = p["theta_hi"]

    # 1. synaptic current (integrates during refractory too)
    # the input is in units of 2**weight_exponent current LSBs: a shift, exact in both models
    if channels:
        drive = acc.copy()
        drive[0] = drive[0] + ext
    else:
        drive = acc + ext
    i_raw = _decay(i, p["decay"], fixed, spec.rounding) + drive * (1 << spec.weight_exponent)
    i_new = _clip(i_raw, i_lo, i_hi)
    i_sum = i_new.sum(axis=0) if channels else i_new
    i_high, i_low = ((i_raw > i_hi).any(axis=0), (i_raw < i_lo).any(axis=0)) if channels else (i_raw > i_hi,
                                                                                               i_raw < i_lo)

    # 2. membrane, unless refractory
    refractory = ref > 0
    active = ~refractory
    leaked = np.where(p["leak_mode"] == 0, _decay(v, p["leak"], fixed, spec.rounding), _linear_leak(v, p["leak"]))
    v_raw = leaked + i_sum + p["bias"] - np.where(hyst & pulse, p["reset_current"], 0)
    v_pre = _clip(v_raw, v_lo, v_hi)

    # 3. threshold, reset, refractory
    crossed = active & (v_pre >= theta_hi)
    fired = crossed & ~hyst
    sub_raw = v_pre - theta_hi
    subtract = fired & (p["reset_mode"] == 1)
    v_new = np.where(refractory, v, np.where(fired, np.where(subtract, _clip(sub_raw, v_lo, v_hi),
                                                             p["v_reset"]), v_pre))
    # 4. axon-hillock hysteresis: the pulse starts at theta_hi and ends at theta_lo
    started = crossed & hyst & ~pulse
    released = active & hyst & pulse & (v_pre <= p["theta_lo"])
    pulse_new = hyst & ((pulse & ~released) | started)
    spike = fired | pulse_new
    ended = fired | released
    ref_new = np.where(refractory, ref - 1, np.where(ended, p["refractory"], 0))

    flag_bits = np.stack((
        i_high | (active & (v_raw > v_hi)) | (subtract & (sub_raw > v_hi)),
        i_low | (active & (v_raw < v_lo)) | (subtract & (sub_raw < v_lo)),
        active & (v != 0) & (leaked == 0),
        ended & (p["refractory"] > 0),
        refractory & (ref == 1),
        released,
    ), axis=-1)
    flags = flag_bits.astype(np.int64) @ _FLAG_WEIGHTS
    new = State(v_new, i_new, ref_new.astype(np.int64), pulse_new.astype(np.int64))
    return StepResult(new, spike, flags, v_pre, fired | started, released)


def synaptic_input(spec: ArraySpec, spikes: np.ndarray) -> np.ndarray:
    """The input each neuron receives next step: the sum of weights of the spiking sources (exact)."""
    return np.asarray(spikes, dtype=np.int64) @ spec.weights


class ArrayModel:
    """A model of the whole array that keeps its own state and the pending synaptic input.

    `fixed=True` is the bit-exact contract; `fixed=False` the float64 model of the same equations,
    which may run unquantised `params` and `weights` (the values the codes were rounded from).
    """

    def __init__(self, spec: ArraySpec, fixed: bool = True, state: State | None = None, params=None,
                 weights=None):
        if fixed and (params is not None or weights is not None):
            raise ValueError("the fixed model runs the spec's codes; params and weights overrides are for the "
                             "float model")
        self.spec = spec
        self.fixed = fixed
        self.params = None if params is None else {
            k: np.broadcast_to(np.asarray(v, dtype=np.float64 if k not in ("leak_mode", "reset_mode", "hysteresis")
                                          else np.int64), (spec.neurons,)) for k, v in params.items()}
        state = state if state is not None else zero_state(spec.neurons)
        self.state = state.copy() if fixed else state.as_float()
        self.weights = spec.weights if weights is None else np.asarray(weights, dtype=np.float64)
        self.acc = np.zeros(spec.neurons, dtype=self.weights.dtype)
        self.timestep = 0

    def step(self, ext) -> StepResult:
        # the float model takes unrounded input too (a NIR graph's drive, lapicque.golden.nir_graph)
        ext = np.asarray(ext, dtype=np.int64 if self.fixed else np.float64)
        result = array_step(self.spec, self.state, self.acc, ext, self.fixed, self.params)
        self.state = result.state
        if self.fixed:  # integer codes: summing the spiking rows is exact and far cheaper than an int matmul
            self.acc = self.weights[np.flatnonzero(result.spike)].sum(axis=0)
        else:
            self.acc = np.asarray(result.spike, dtype=self.weights.dtype) @ self.weights
        self.timestep += 1
        return result

    def run(self, ext_steps: np.ndarray) -> dict[str, np.ndarray]:
        """Run len(ext_steps) steps; returns traces [steps, neurons] of v, i, ref, pulse, spike, flags."""
        out = {k: [] for k in UPDATE_FIELDS}
        for ext in ext_steps:
            for k, x in zip(UPDATE_FIELDS, self.step(ext).fields(), strict=True):
                out[k].append(x)
        return {k: np.array(v) for k, v in out.items()}


def quantisation_bound(spec: ArraySpec) -> dict[str, np.ndarray]:
    """Per-neuron bound on |fixed - float| after one step from the same integer state, in LSB.

    Each rounded decay adds an error of magnitude below 1: in [0, 1) for `floor` (the decrement is
    rounded down, so fixed >= float), and for `toward_zero` in (-1, 0] where the state is positive and
    [0, 1) where it is negative (the kept part is truncated toward zero, so |fixed| <= |float|);
    saturation is 1-Lipschitz and keeps it.
    The current sees one decay; the membrane sees its own leak (exponential mode) plus the current's.
    A decay of 0 or 4096 is exact, as is the linear leak, so those neurons must match the float
    model exactly (bound 0). The scoreboard checks 0 <= fixed - float < bound for `floor` and
    |fixed - float| < bound for `toward_zero` (or == 0 for bound 0).
    """
    p = spec.params

    def inexact(d):
        return ((d != 0) & (d != DECAY_ONE)).astype(np.int64)

    b_i = inexact(p["decay"])
    b_v = b_i + np.where(p["leak_mode"] == 0, inexact(p["leak"]), 0)
    return {"i": b_i, "v": b_v}
