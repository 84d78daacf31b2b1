"""The network models (golden/network_model.py): the array as a network is the array bit for bit, delays and
channels by hand, every rule's rows are the contract's, ext enters channel 0."""

import numpy as np
import pytest

from lapicque.golden import connectivity as cn
from lapicque.golden.network_model import NetworkModel, compile_network, realise
from lapicque.golden.neuron import ArrayModel
from lapicque.network_spec import MAX_DELAY, NetworkSpec, Population, Projection
from lapicque.spec import PARAM_NAMES, Widths, default_params, random_spec


def population(name, size, channels=("syn",), v0=0, **codes):
    base = default_params() | codes
    params = {k: np.full(size, base[k], np.int64) for k in PARAM_NAMES if k != "decay"}
    decay = codes.get("decay", base["decay"])
    decays = decay if isinstance(decay, dict) else dict.fromkeys(channels, decay)
    return Population(name, size, params, {c: np.full(size, decays[c], np.int64) for c in channels},
                      np.full(size, v0, np.int64))


def projection(name, source, target, rule, weight, channel="syn", **kw):
    return Projection(name, source, target, rule, np.asarray(weight, np.int64), channel, **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("fixed", [True, False])
def test_the_array_as_a_network_is_the_array_update_for_update(seed, fixed):
    spec = random_spec(48, seed=seed, rounding=("floor", "toward_zero")[seed % 2], weight_exponent=seed)
    ext = np.random.default_rng(seed).integers(-20, 60, (300, 48))
    array = ArrayModel(spec, fixed=fixed)
    network = NetworkModel(NetworkSpec.from_array(spec), fixed=fixed)
    spikes = 0
    for k in range(300):
        a, b = array.step(ext[k]), network.step(ext[k])
        assert np.array_equal(a.state.v, b.state.v) and np.array_equal(a.state.i, b.state.i[0])
        assert np.array_equal(a.spike, b.spike) and np.array_equal(a.flags, b.flags)
        assert np.array_equal(a.state.ref, b.state.ref) and np.array_equal(a.state.pulse, b.state.pulse)
        spikes += int(a.spike.sum())
    assert spikes > 1000  # the comparison saw an active array


def relay(delays, weight=5, decay=4096, leak=4096):
    """A source that fires at every step (threshold below rest) -> one target per delay, each through its own
    projection; the targets' current keeps nothing (decay 4096) and never fires, so i is the arriving input."""
    targets = {f"t{d}": population(f"t{d}", 1, decay=decay, leak=leak, theta_hi=30000) for d in delays}
    pops = {"src": population("src", 1, theta_hi=-5, refractory=0), **targets}
    projs = {f"p{d}": projection(f"p{d}", "src", f"t{d}", "dense", weight, delay=d) for d in delays}
    return NetworkSpec(pops, projs)


def test_a_spike_reaches_its_targets_exactly_delay_steps_later():
    delays = (1, 2, 5, 15, MAX_DELAY)
    model = NetworkModel(relay(delays))
    currents = np.array([model.step().state.i[0].copy() for _ in range(MAX_DELAY + 10)])
    for column, d in enumerate(delays, start=1):
        # the source fires at steps 0, 1, 2, ...: the first input arrives at step d, then every step
        assert currents[:d, column].tolist() == [0] * d, d
        assert currents[d:, column].tolist() == [5] * (MAX_DELAY + 10 - d), d


def test_one_spike_arrives_once_in_its_own_step():
    # the source fires once (refractory longer than the run): the target's current is w at step d only
    spec = relay((3, 7))
    spec.populations["src"].params["refractory"][:] = 15
    model = NetworkModel(spec)
    currents = np.array([model.step().state.i[0].copy() for _ in range(12)])
    assert currents[:, 1].tolist() == [0, 0, 0, 5] + [0] * 8
    assert currents[:, 2].tolist() == [0] * 7 + [5] + [0] * 4


def test_each_channel_decays_with_its_own_factor_and_the_membrane_takes_their_sum():
    # one spike of the source (refractory 15) onto exc (+4000, decay 1024) and inh (-2000, decay 2048) of one
    # target whose membrane keeps all (leak 0) and never fires
    pops = {"src": population("src", 1, channels=("exc", "inh"), theta_hi=-5, refractory=15),
            "dst": population("dst", 1, channels=("exc", "inh"), decay={"exc": 1024, "inh": 2048}, leak=0,
                              theta_hi=30000)}
    projs = {"e": projection("e", "src", "dst", "dense", 4000, "exc"),
             "i": projection("i", "src", "dst", "dense", -2000, "inh")}
    model = NetworkModel(NetworkSpec(pops, projs, ("exc", "inh"), widths=Widths(v=24, i=16, w=16)))
    steps = [model.step() for _ in range(5)]
    i_exc = [int(s.state.i[0, 1]) for s in steps]
    i_inh = [int(s.state.i[1, 1]) for s in steps]
    # toward zero: 4000 -> 4000 * 3072 / 4096 = 3000 -> 2250 -> 1687.5 -> 1687; -2000 -> -1000 -> -500 -> -250
    assert i_exc == [0, 4000, 3000, 2250, 1687]
    assert i_inh == [0, -2000, -1000, -500, -250]
    assert [int(s.state.v[1]) for s in steps] == list(np.cumsum(np.add(i_exc, i_inh)))


def test_external_input_enters_the_first_channel_only():
    pops = {"a": population("a", 3, channels=("exc", "inh"), decay=0, leak=0, theta_hi=30000)}
    model = NetworkModel(NetworkSpec(pops, {}, ("exc", "inh")))
    state = model.step(np.array([7, -3, 0])).state
    assert state.i[0].tolist() == [7, -3, 0] and state.i[1].tolist() == [0, 0, 0]
    assert state.v.tolist() == [7, -3, 0]


@pytest.mark.parametrize("fixed", [True, False])
def test_a_populations_external_input_is_its_drawn_counts_times_its_weight(fixed):
    """Each step's input is the contract's counts (the same in both models) added to any given ext; a network
    driven by its own input equals the same network without it, given the counts as ext."""
    import dataclasses

    from lapicque.golden.external import External, external_counts

    pops = {"a": population("a", 30, leak=100, theta_hi=900, refractory=2), "b": population("b", 20, leak=100)}
    net = NetworkSpec(pops, {"ab": projection("ab", "a", "b", "dense", 40)}, widths=Widths(ext=12))
    driven = dataclasses.replace(net, populations={"a": dataclasses.replace(pops["a"], external=External(3.0, 25, 8)),
                                                   "b": pops["b"]})
    model, plain = NetworkModel(driven, fixed=fixed), NetworkModel(net, fixed=fixed)
    extra = np.random.default_rng(1).integers(-5, 5, (200, 50))
    spikes = 0
    for t in range(200):
        counts = external_counts(driven.populations["a"].external, t, 50, 0, 30)
        assert np.array_equal(model.external_input(t), np.concatenate([counts * 25, np.zeros(20, np.int64)]))
        got = model.step(extra[t])
        want = plain.step(extra[t] + np.concatenate([counts * 25, np.zeros(20, np.int64)]))
        assert np.array_equal(got.state.v, want.state.v) and np.array_equal(got.spike, want.spike)
        spikes += int(got.spike.sum())
    assert spikes > 100


def two_populations(rule, **kw):
    pops = {"a": population("a", 300), "b": population("b", 500)}
    return NetworkSpec(pops, {"other": projection("other", "b", "a", "dense", 1),
                              "this": projection("this", "a", "b", rule, kw.pop("weight", 3), seed=9, **kw)})


@pytest.mark.parametrize(("rule", "options", "rows"), [
    ("bernoulli", {"p": 0.05}, lambda: cn.bernoulli_rows(300, 500, 0.05, 9, 1)),
    ("fixed_out_degree", {"degree": 12}, lambda: cn.fixed_out_degree_rows(300, 500, 12, 9, 1)),
    ("fixed_in_degree", {"degree": 7}, lambda: cn.fixed_in_degree_rows(300, 500, 7, 9, 1)),
])
def test_procedural_rows_are_the_contracts_keyed_by_seed_and_projection_index(rule, options, rows):
    net = two_populations(rule, **options)
    matrix = realise(net, net.projections["this"]).toarray()
    expected = np.zeros((300, 500), np.int64)
    np.add.at(expected, rows(), 3)  # multapses add up
    assert np.array_equal(matrix, expected) and matrix.any()


def test_per_source_weights_and_global_columns():
    weights = np.arange(300) % 7 - 3
    net = two_populations("fixed_out_degree", degree=4, weight=weights)
    part = compile_network(net)[1]
    src, dst = cn.fixed_out_degree_rows(300, 500, 4, 9, 1)
    expected = np.zeros((300, 800), np.int64)
    np.add.at(expected, (src, dst + 300), weights[src])  # b's neurons follow a's 300
    assert part.source_offset == 0 and np.array_equal(part.rows.toarray(), expected)


def test_list_rule_adds_multapses_and_dense_scalar_includes_autapses():
    pops = {"a": population("a", 4)}
    net = NetworkSpec(pops, {"l": projection("l", "a", "a", "list", [2, -1, 5], pre=np.array([0, 0, 3]),
                                             post=np.array([1, 1, 2])),
                             "d": projection("d", "a", "a", "dense", 1)})
    assert realise(net, net.projections["l"]).toarray().tolist() == [[0, 1, 0, 0], [0] * 4, [0] * 4, [0, 0, 5, 0]]
    assert realise(net, net.projections["d"]).toarray().tolist() == [[1] * 4] * 4
