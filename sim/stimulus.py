"""Stimulus for verification runs: directed edge states plus constrained-random external input.

Directed: some neurons start exactly at their threshold, at the top and bottom of the membrane
range, one step from the end of refractoriness, or inside a hysteresis pulse, and some start where
their first update lands the membrane exactly on theta_hi, on theta_lo (inside a pulse) or on 0:
the edges where `>=` and `>`, `<=` and `<` part, which random input almost never hits.
Constrained random: external input is mostly zero, sometimes small, sometimes the extreme codes,
and comes in per-neuron episodes of sustained drive so that saturation in both directions is
reached, and in storms that drive every neuron at once, so that a step's spikes fill the spike
queues and the stalls behind them are taken.
"""

from __future__ import annotations

import numpy as np

from lapicque.golden.neuron import State, array_step, zero_state
from lapicque.spec import ArraySpec, signed_range

#: directed initial states, one kind per neuron (drawn): the first six are states, the last three
#: are first updates that land exactly on a comparison's edge
EDGE_KINDS = ("random", "at_threshold", "top", "bottom", "refractory_ending", "in_pulse",
              "lands_on_threshold", "lands_on_theta_lo", "lands_on_zero")


def initial_state(spec: ArraySpec, seed: int, first_input: np.ndarray | None = None) -> State:
    """The seeded directed initial state; `first_input` is the external input of the first step
    (default none), which the exact landings are computed with."""
    rng = np.random.default_rng(seed)
    n = spec.neurons
    p = spec.params
    v_lo, v_hi = signed_range(spec.widths.v)
    state = zero_state(n)
    state.v = np.clip(rng.integers(-(np.abs(p["theta_hi"]) + 1), np.abs(p["theta_hi"]) + 1), v_lo, v_hi)
    state.i = rng.integers(-64, 65, n)
    # the neurons of kind "random" (nine in ten of the last lane's, half of the others') make the volley
    # below and start at the top of both ranges; the random membrane and current drawn above stay with
    # the directed kinds that do not set them
    volley_lane = np.arange(n) % spec.lanes == spec.lanes - 1
    edges = np.where(rng.random(n) < np.where(volley_lane, 0.9, 0.5), 0, rng.integers(1, len(EDGE_KINDS), n))
    kind = np.asarray(EDGE_KINDS, dtype=object)[edges]

    def spare(possible):
        """Neurons that may take a directed state instead of a random one, outside the volley's lane first."""
        free = np.flatnonzero(possible & (kind == "random") & ~volley_lane)
        return free if free.size else np.flatnonzero(possible & (kind == "random"))

    # every directed state at least once, where there are neurons enough
    for name in EDGE_KINDS[1:6]:
        free = spare(np.ones(n, dtype=bool))
        if not (kind == name).any() and free.size:
            kind[rng.choice(free)] = name
    hyst = p["hysteresis"] == 1
    i_lo, i_hi = signed_range(spec.widths.i)
    # at the top (bottom) of both ranges, the next update saturates unless the leak takes it back
    state.v = np.where(kind == "at_threshold", p["theta_hi"], state.v)
    state.v = np.where(kind == "top", v_hi, np.where(kind == "bottom", v_lo, state.v))
    state.i = np.clip(np.where(kind == "top", i_hi, np.where(kind == "bottom", i_lo, state.i)), i_lo, i_hi)
    state.ref = np.where(kind == "refractory_ending", np.minimum(1, p["refractory"]), 0)
    state.pulse = np.where((kind == "in_pulse") & hyst, 1, 0)
    first_input = np.zeros(n, dtype=np.int64) if first_input is None else np.asarray(first_input, dtype=np.int64)
    # the landings, each from its own starting pulse (a landing on theta_lo ends one); a neuron whose
    # leak takes its whole membrane cannot land anywhere it chooses
    landings = {"lands_on_threshold": (p["theta_hi"], np.zeros(n, dtype=np.int64)),
                "lands_on_theta_lo": (p["theta_lo"], hyst.astype(np.int64)),
                "lands_on_zero": (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))}
    for name, (target, pulse) in landings.items():
        v, exact = landing(spec, State(state.v, state.i, state.ref, pulse), first_input, target)
        possible = exact & ((pulse == 1) | (name != "lands_on_theta_lo"))
        drawn = (kind == name) & possible
        # every landing at least once where some neuron can take it, in place of a random state if
        # one can, else of a directed one
        free = spare(possible)
        free = free if free.size else np.flatnonzero(possible & ~np.isin(kind, EDGE_KINDS[6:]))
        if not drawn.any() and free.size:
            drawn[rng.choice(free)] = True
        kind = np.where(drawn, name, np.where(kind == name, "random", kind))
        state.v = np.where(drawn, v, state.v)
        state.pulse = np.where(drawn, pulse, state.pulse)
        state.ref = np.where(drawn, 0, state.ref)
    # a volley: every neuron still of kind "random" (most of the last lane's) starts at the top of both
    # ranges, so that they fire together for the first steps and the spike queues fill (propagation
    # takes the lowest lane's spikes first: the last lane's queue fills), taking the stall behind them
    volley = kind == "random"
    state.v = np.where(volley, v_hi, state.v)
    state.i = np.where(volley, i_hi, state.i)
    return state


def landing(spec: ArraySpec, state: State, first_input: np.ndarray,
            target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, a nonzero membrane from which the first update (not refractory, no synaptic input,
    `first_input` external, `state`'s current and pulse) makes v_pre exactly `target`, and whether
    there is one (else the neuron's own membrane).

    v_pre rises monotonically with v (leak and decay take at most all of it), so the smallest v with
    v_pre >= target and the largest with v_pre <= target are found by bisection, all neurons at once.
    """
    v_lo, v_hi = signed_range(spec.widths.v)
    n = spec.neurons

    def v_pre(v):
        trial = State(v, state.i, np.zeros(n, dtype=np.int64), state.pulse)
        return array_step(spec, trial, np.zeros(n, dtype=np.int64), first_input, fixed=True).v_pre

    def bisect(at_least: bool) -> np.ndarray:
        lo, hi = np.full(n, v_lo, dtype=np.int64), np.full(n, v_hi, dtype=np.int64)
        while (lo < hi).any():
            mid = (lo + hi + (0 if at_least else 1)) // 2
            if at_least:  # the smallest v with v_pre(v) >= target
                above = v_pre(mid) >= target
                lo, hi = np.where(above, lo, mid + 1), np.where(above, mid, hi)
            else:  # the largest v with v_pre(v) <= target
                below = v_pre(mid) <= target
                lo, hi = np.where(below, mid, lo), np.where(below, hi, mid - 1)
        return lo

    best, found = state.v.copy(), np.zeros(n, dtype=bool)
    for v in (bisect(True), bisect(False)):
        exact = (v_pre(v) == target) & (v != 0)
        best, found = np.where(exact, v, best), found | exact
    return best, found


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
    # storms: every neuron driven up at once for a while, one early in the run and one per 150 steps
    for storm in range(1 + steps // 150):
        start = rng.integers(0, max(1, steps // 4)) if storm == 0 else rng.integers(0, steps)
        ext[start:start + int(rng.integers(8, 20))] = hi
    return ext.astype(np.int64)


def stimulus(spec: ArraySpec, steps: int, seed: int) -> tuple[State, np.ndarray]:
    """The seeded verification stimulus: the directed initial state and the external input
    [steps, neurons], the state's exact landings computed with the input's first step."""
    ext = external_input(spec, steps, seed)
    return initial_state(spec, seed, first_input=ext[0]), ext
