"""Stimulus for verification runs: directed edge states plus constrained-random external input.

Directed: some neurons start exactly at their threshold, at the top and bottom of the membrane
range, one step from the end of refractoriness, or inside a hysteresis pulse. Constrained random:
external input is mostly zero, sometimes small, sometimes the extreme codes, and comes in
per-neuron episodes of sustained drive so that saturation in both directions is reached.
"""

from __future__ import annotations

import numpy as np

from lapicque.golden.neuron import State, zero_state
from lapicque.spec import ArraySpec, signed_range


def initial_state(spec: ArraySpec, seed: int) -> State:
    rng = np.random.default_rng(seed)
    n = spec.neurons
    p = spec.params
    v_lo, v_hi = signed_range(spec.widths.v)
    state = zero_state(n)
    state.v = np.clip(rng.integers(-(abs(p["theta_hi"]) + 1), abs(p["theta_hi"]) + 1), v_lo, v_hi)
    state.i = rng.integers(-64, 65, n)
    edges = rng.integers(0, 6, n)
    state.v = np.where(edges == 0, p["theta_hi"], state.v)
    state.v = np.where(edges == 1, v_hi, state.v)
    state.v = np.where(edges == 2, v_lo, state.v)
    state.ref = np.where(edges == 3, np.minimum(1, p["refractory"]), 0)
    state.pulse = np.where((edges == 4) & (p["hysteresis"] == 1), 1, 0)
    i_lo, i_hi = signed_range(spec.widths.i)
    state.i = np.clip(state.i, i_lo, i_hi)
    return state


def external_input(spec: ArraySpec, steps: int, seed: int) -> np.ndarray:
    """ext[step, neuron]: integer codes within widths.ext."""
    rng = np.random.default_rng(seed + 1)
    n = spec.neurons
    lo, hi = signed_range(spec.widths.ext)
    kind = rng.random((steps, n))
    small = rng.integers(lo // 8, hi // 4 + 1, (steps, n))
    extreme = np.where(rng.random((steps, n)) < 0.5, lo, hi)
    ext = np.where(kind < 0.55, 0, np.where(kind < 0.95, small, extreme))
    # sustained episodes: a neuron is driven at full scale one way for a while
    episodes = max(1, steps // 20)
    for _ in range(episodes * max(1, n // 16)):
        who = rng.integers(0, n)
        start = rng.integers(0, steps)
        length = rng.integers(10, 60)
        ext[start:start + length, who] = hi if rng.random() < 0.5 else lo
    return ext.astype(np.int64)
