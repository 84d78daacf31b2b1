"""The parent's checking of the array's records (sim/array_check.py): transfers decoded many at once are the
transfers decoded one by one, beats out of order or past the run are refused, and the AER stream is compared
with the monitor's spikes event by event."""

import numpy as np
import pytest

from lapicque.hdl.harness import monitor_pack, packed_monitor_layout
from lapicque.sim.array_check import MonitorConsumer, MonitorDecoder, aer_differences
from lapicque.sim.bits import insert
from lapicque.sim.scoreboard import FIELDS
from lapicque.spec import random_spec


class Steps:
    """What the consumer hands on: every completed step's records (the scoreboard's side of it)."""

    def __init__(self):
        self.steps = []

    def check_step(self, rtl, ext):
        self.steps.append(rtl.copy())


def transfers(spec, beats: int, rng, *, order=None, values=None):
    """`beats` monitor beats (in step, index order unless `order` is given) in full transfers, the last one partial
    (its items in the top slots), with random field values: [transfers, bits]. `values`, a dict, receives each
    field's values in beat order [beats x lanes]."""
    pack = monitor_pack(spec)
    decoder = MonitorDecoder(spec, pack)
    width = packed_monitor_layout(spec, pack).size
    order = np.arange(beats) if order is None else order
    rows = []
    for start in range(0, beats, pack):
        chunk = order[start:start + pack]
        items = len(chunk)
        bits = np.zeros(width, dtype=np.uint8)
        slots = np.arange(pack - items, pack)  # a partial transfer fills the top slots
        insert(bits, decoder.items.index[:, 0], decoder.items.width, np.array([items]))
        insert(bits, decoder.timestep.index[slots, 0], decoder.timestep.width, chunk // spec.depth)
        insert(bits, decoder.index.index[slots, 0], decoder.index.width, chunk % spec.depth)
        for name, plan in decoder.fields:
            lanes = (slots[:, None] * spec.lanes + np.arange(spec.lanes)[None, :]).ravel()
            drawn = rng.integers(0, 1 << (plan.width - 1), lanes.size)
            insert(bits, plan.index[lanes, 0], plan.width, drawn)
            if values is not None:
                values.setdefault(name, []).extend(drawn.tolist())
        rows.append(bits)
    return np.array(rows)


def test_many_transfers_at_once_are_the_transfers_one_by_one():
    spec = random_spec(16, 2, seed=1)
    steps = 7
    drawn = {}
    words = transfers(spec, steps * spec.depth, np.random.default_rng(3), values=drawn)
    ext = np.zeros((steps, spec.neurons), dtype=np.int64)
    at_once, one_by_one = Steps(), Steps()
    a = MonitorConsumer(spec, steps, at_once, ext, monitor_pack(spec))
    a.take(words)
    b = MonitorConsumer(spec, steps, one_by_one, ext, monitor_pack(spec))
    for word in words:
        b.take(word)
    assert a.steps_seen == b.steps_seen == steps and len(at_once.steps) == steps
    assert all(np.array_equal(x, y) for x, y in zip(at_once.steps, one_by_one.steps, strict=True))
    # neuron n = index x lanes + lane: the beats' values in order are the neurons' in order
    for k, name in enumerate(FIELDS):
        assert a.received[k].tolist() == drawn[name], name


def test_beats_out_of_order_or_past_the_run_are_refused():
    spec = random_spec(16, 2, seed=1)
    rng = np.random.default_rng(4)
    ext = np.zeros((2, spec.neurons), dtype=np.int64)
    swapped = np.arange(2 * spec.depth)
    swapped[[3, 4]] = swapped[[4, 3]]
    with pytest.raises(AssertionError, match="monitor out of order: got step 0 index 4, expected step 0 index 3"):
        MonitorConsumer(spec, 2, Steps(), ext, monitor_pack(spec)).take(transfers(spec, 2 * spec.depth, rng,
                                                                                  order=swapped))
    with pytest.raises(AssertionError, match="the monitor carried 24 beats; the run has 16"):
        MonitorConsumer(spec, 2, Steps(), ext, monitor_pack(spec)).take(transfers(spec, 3 * spec.depth, rng))


def test_aer_differences_name_a_lost_a_duplicated_and_a_made_up_event():

    spikes = np.zeros((3, 4), dtype=bool)
    spikes[0, 1] = spikes[1, 2] = spikes[2, 0] = True
    carried = [(0, 1), (1, 2), (2, 0)]
    assert aer_differences(spikes, carried) == (0, None)
    assert aer_differences(spikes, carried[::-1]) == (0, None)  # order across lanes is free
    assert aer_differences(spikes, [(0, 1), (2, 0)]) == (
        1, {"step": 1, "neuron": 2, "field": "aer", "expected": 1, "got": 0})
    assert aer_differences(spikes, carried + [(1, 2)]) == (
        1, {"step": 1, "neuron": 2, "field": "aer", "expected": 1, "got": 2})
    assert aer_differences(spikes, carried + [(0, 3), (2, 3)]) == (
        2, {"step": 0, "neuron": 3, "field": "aer", "expected": 0, "got": 1})


def test_bins_a_spec_cannot_reach_are_named_and_only_those():
    from lapicque.sim.scoreboard import unreachable_bins
    from lapicque.spec import ArraySpec

    spec = random_spec(16, 2, seed=1)
    assert unreachable_bins(spec) == []
    params = dict(spec.params, hysteresis=np.zeros(16, dtype=np.int64), refractory=np.full(16, 3))
    plain = ArraySpec(16, 2, spec.widths, params, spec.weights)
    assert unreachable_bins(plain) == ["hysteresis_release", "release_exact", "refractory_long"]
    params["refractory"] = np.zeros(16, dtype=np.int64)
    none = ArraySpec(16, 2, spec.widths, params, spec.weights)
    assert unreachable_bins(none) == ["refractory_entry", "refractory_exit", "hysteresis_release", "release_exact",
                                      "refractory_long"]
