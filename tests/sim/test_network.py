"""A network on the RTL (sim/network.py): Verilator runs the core, every update matches the fixed model and the
cycles the core's formula; each seeded bug is caught and fails the run."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.hdl.network import BUGS
from lapicque.sim.network import decode, run_network

from ..hdl.test_network import small_example


def test_the_core_on_verilator_is_the_fixed_model_and_its_formula():
    net = small_example(2)
    summary = run_network(net, 200)
    assert summary["passed"] and summary["bit_exact_mismatches"] == 0 and not summary["history_overflow"]
    assert summary["updates_checked"] == 200 * 32 and summary["spikes"] > 200
    assert summary["cycles"] == summary["cycles_expected"] > 200 * 16 and summary["first_cycle_difference"] is None
    # the statistics come from the RTL's own spike field
    assert len(summary["spike_steps"]) == summary["spikes"]
    assert summary["cycles_bound_per_step"] <= summary["cycles_per_step"]


def small_brunel(lanes: int = 2):
    """Brunel's model A, AI, 40 + 10 neurons, every neuron driven by its external Poisson input."""
    from lapicque.golden.network_codes import brunel_spec

    return brunel_spec("AI", 40, 1.0, seed=3, lanes=lanes)[0]


def test_brunel_with_its_external_input_and_delays_is_the_fixed_model():
    summary = run_network(small_brunel(), 300)
    assert summary["passed"] and summary["bit_exact_mismatches"] == 0 and summary["updates_checked"] == 300 * 50
    assert summary["cycles"] == summary["cycles_expected"] and summary["spikes"] > 50


@pytest.mark.parametrize("bug", [
    "refractory_off_by_one",  # every seeded bug changes an update (tests/hdl/test_network.py): one fails a run
    *(pytest.param(bug, marks=pytest.mark.slow) for bug in BUGS if bug != "external_counter_stale")])
def test_a_seeded_bug_fails_the_run(bug):
    summary = run_network(small_example(2), 200, inject_bug=bug)
    assert not summary["passed"] and summary["bit_exact_mismatches"] > 0
    assert summary["first_mismatches"] and summary["first_mismatches"][0]["step"] < 200


def test_decode_reads_every_field_where_the_layout_puts_it():
    from lapicque.hdl.layouts import channel_field, pack
    from lapicque.hdl.network import monitor_layout

    net = small_example(2)
    beat = {"valid": 1, "timestep": 77, "index": 5, "lanes": [
        {"state": {"v": -1234, "ref": 2, "pulse": 1, **{channel_field("i", c): 10 * c - 7 for c in range(2)}},
         "spike": 1, "flags": 0b100001},
        {"state": {"v": 4321, "ref": 0, "pulse": 0, **{channel_field("i", c): -300 + c for c in range(2)}},
         "spike": 0, "flags": 0b10}]}
    word = pack(monitor_layout(net), beat)
    bits = np.array([[(word >> k) & 1 for k in range(monitor_layout(net).size)]], np.uint8)
    got = decode(net, bits)
    assert got["timestep"].tolist() == [77] and got["index"].tolist() == [5]
    assert got["v"].tolist() == [[-1234, 4321]] and got["i"].tolist() == [[[-7, -300], [3, -299]]]
    assert got["spike"].tolist() == [[1, 0]] and got["flags"].tolist() == [[0b100001, 0b10]]
    assert got["ref"].tolist() == [[2, 0]] and got["pulse"].tolist() == [[1, 0]]


def test_a_run_longer_than_the_step_counter_is_refused():
    with pytest.raises(LapicqueError, match="steps = 70000 is out of range for one RTL run"):
        run_network(small_example(2), 70000)


@pytest.mark.slow
def test_stale_external_draws_fail_the_run():
    summary = run_network(small_brunel(), 100, inject_bug="external_counter_stale")
    assert not summary["passed"] and summary["bit_exact_mismatches"] > 0
    assert summary["first_mismatches"][0]["step"] == 1  # step 0 draws the right counts; step 1 repeats them


def test_the_serial_core_on_verilator_is_the_fixed_model_and_its_formula():
    """The iCEBreaker's core (hdl/serial_network.py) on a scaled CUBA: after loading its initial state it takes the
    run, every update is the fixed model's and every step's cycles its replay's."""
    from lapicque.golden.network_codes import cuba_spec

    net, _ = cuba_spec(200, p=0.4, lanes=1)
    rng = np.random.default_rng(5)
    for pop in net.populations.values():  # spikes from the first steps on
        pop.v0 = pop.params["theta_hi"] - rng.integers(1, 3000, pop.size)
    summary = run_network(net, 150, core="serial")
    assert summary["passed"] and summary["bit_exact_mismatches"] == 0 and summary["core"] == "serial"
    assert summary["updates_checked"] == 150 * 200 and summary["spikes"] > 50
    assert summary["cycles"] == summary["cycles_expected"] >= 150 * 2 * 200 and summary["steps_cycles_differing"] == 0
    assert summary["cycles_bound_per_step"] is None  # issue 20's bound is the parallel core's


def test_a_seeded_bug_fails_a_serial_run():
    summary = run_network(small_example(1), 100, inject_bug="filled_not_set", core="serial")
    assert not summary["passed"] and summary["bit_exact_mismatches"] > 0
