"""The verification stimulus reaches the edges random input misses: checked with the bit-exact model."""

import numpy as np
import pytest

from lapicque.golden import ArrayModel
from lapicque.golden.neuron import array_step
from lapicque.sim.scoreboard import EDGE_BINS, FIELDS, Scoreboard
from lapicque.sim.stimulus import initial_state, landing, stimulus
from lapicque.spec import load_spec, random_spec, signed_range


def first_step(spec, state, ext):
    return array_step(spec, state, np.zeros(spec.neurons, dtype=np.int64), ext[0], fixed=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("neurons", "lanes", "rounding"), [(16, 2, "toward_zero"), (24, 3, "floor"), (9, 1, "floor")])
def test_the_first_step_lands_exactly_on_every_edge(seed, neurons, lanes, rounding):
    spec = random_spec(neurons, lanes, seed=seed, rounding=rounding)
    state, ext = stimulus(spec, 50, seed)
    p = spec.params
    step = first_step(spec, state, ext)
    active = state.ref == 0
    assert (active & (step.v_pre == p["theta_hi"])).any()
    assert (active & (state.v != 0) & (step.v_pre == 0)).any()
    if (p["hysteresis"] == 1).any():
        assert (active & (state.pulse == 1) & (step.v_pre == p["theta_lo"])).any()
    # the directed extremes are there too (with neurons enough for every kind and the volley)
    v_lo, v_hi = signed_range(spec.widths.v)
    if neurons >= 16:
        assert (state.v == v_hi).any() and (state.v == v_lo).any()
        assert (state.ref == 1).any() or not (p["refractory"] > 0).any()


def test_the_hysteresis_example_lands_on_theta_lo():
    spec = load_spec("examples/hysteresis.toml")
    state, ext = stimulus(spec, 50, 0)
    step = first_step(spec, state, ext)
    assert ((state.pulse == 1) & (state.ref == 0) & (step.v_pre == spec.params["theta_lo"])).any()


def test_landing_is_exact_where_it_says_so_and_never_from_zero():
    spec = random_spec(64, 2, seed=3)
    state = initial_state(spec, 3)
    rng = np.random.default_rng(0)
    target = rng.integers(-3000, 3000, spec.neurons)
    v, exact = landing(spec, state, np.zeros(spec.neurons, dtype=np.int64), target)
    assert exact.mean() > 0.5  # the others cannot reach the target: checked below
    trial = type(state)(v, state.i, np.zeros(spec.neurons, dtype=np.int64), state.pulse)
    got = first_step(spec, trial, np.zeros((1, spec.neurons), dtype=np.int64)).v_pre
    assert np.array_equal(got[exact], target[exact]) and (v[exact] != 0).all()
    # where it says none exists, no membrane in the whole range lands there
    v_lo, v_hi = signed_range(spec.widths.v)
    for k in np.flatnonzero(~exact)[:4]:
        everything = np.arange(v_lo, v_hi + 1)
        rows = type(state)(everything, np.full(everything.size, state.i[k]), np.zeros(everything.size, dtype=np.int64),
                           np.full(everything.size, state.pulse[k]))
        one = random_spec(1, 1, seed=3)
        one.params.update({name: np.full(1, values[k]) for name, values in spec.params.items()})
        reached = array_step(one, rows, np.zeros(everything.size, dtype=np.int64),
                             np.zeros(everything.size, dtype=np.int64), fixed=True).v_pre
        assert not ((reached == target[k]) & (everything != 0)).any()


@pytest.mark.parametrize("seed", range(4))
def test_random_arrays_reach_every_parameter_range(seed):
    p = random_spec(32, 2, seed=seed).params
    assert ((p["decay"] % 256) != 0).any()
    assert ((p["leak_mode"] == 0) & (p["leak"] % 256 != 0)).any()
    assert (p["theta_hi"] < 0).any() and (p["theta_hi"] > 0).any()
    assert (p["refractory"] >= 8).any() and (p["refractory"] < 8).any()
    hyst = p["hysteresis"] == 1
    assert (p["theta_lo"][hyst] < p["theta_hi"][hyst]).all()


def test_storms_drive_every_neuron_at_once():
    spec = random_spec(32, 2, seed=1)
    for steps in (40, 300):
        _, ext = stimulus(spec, steps, 1)
        hi = signed_range(spec.widths.ext)[1]
        assert (ext == hi).all(axis=1).any()  # a step where every neuron is driven to the top


def test_edge_bins_count_the_model_run():
    spec = random_spec(32, 2, seed=2)
    state, ext = stimulus(spec, 80, 2)
    trace = ArrayModel(spec, state=state).run(ext)
    sb = Scoreboard(spec, state, len(ext))
    for t in range(len(ext)):
        sb.check_step({f: np.array(trace[f][t], dtype=np.int64) for f in FIELDS}, ext[t])
    sb.finish(ext)
    cov = sb.coverage()
    assert all(cov[name] > 0 for name in EDGE_BINS), {name: cov[name] for name in EDGE_BINS}
    # the hand count of one bin from the model's own pre-threshold membranes
    model, exact = ArrayModel(spec, state=state), 0
    for t in range(len(ext)):
        active = model.state.ref == 0
        exact += int((active & (model.step(ext[t]).v_pre == spec.params["theta_hi"])).sum())
    assert cov["threshold_exact"] == exact
