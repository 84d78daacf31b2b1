# amaranth: UnusedElaboratable=no
"""The serial network core (hdl/serial_network.py) against the network's fixed model, update for update, and its
cycles against its replay, step for step."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden.network_model import hardware_rows
from lapicque.hdl.serial_network import (
    BUGS,
    SPRAM_DEPTH,
    SerialNetworkCore,
    ahead,
    check_serial_core,
    filled_by,
    init_cycles,
    serial_history,
    serial_step_cycles,
    word_bits,
)
from lapicque.network_spec import NetworkSpec

from .test_network import checked_run, model_updates, primed_cuba, run_core, small_example


@pytest.mark.parametrize(("latency", "generate", "varied"), [(0, False, True), (1, True, False), (3, True, True),
                                                             (7, False, False)])
def test_the_serial_core_is_the_model_update_for_update(latency, generate, varied):
    """The example's two populations, four rules (stored or regenerated), delays 1 to 4, both channels; parameters
    per population or per neuron; datapath latencies that put the write-back one to three periods on."""
    net = small_example(1, varied=varied)
    steps = 24
    cycles, compiled, spikes = checked_run(net, steps, latency, generate, serial=True)
    assert cycles == [serial_step_cycles(net, compiled, spikes, t, latency) for t in range(steps)]
    # the sweep alone is two cycles a neuron, one more for each with input and for each spike; the rows add to it
    sweep = 2 * (net.neurons + ahead(latency))
    assert min(cycles) >= sweep and max(cycles) > sweep + 40
    assert filled_by(compiled, spikes, 0) == set() and any(filled_by(compiled, spikes, t) for t in range(steps))


def test_a_scaled_cuba_runs_bit_exact_with_its_keys_hashed_on_the_fly():
    net = primed_cuba(1)
    steps = 16
    got, cycles, overflow, compiled = run_core(net, steps, latency=2, generate=True, serial=True)
    want, spikes = model_updates(net, steps)
    assert not overflow and got == want
    assert sum(map(len, spikes)) > 20 and any(v[1][1] < 0 for v in want.values())
    assert cycles == [serial_step_cycles(net, compiled, spikes, t, 2) for t in range(steps)]


def test_repeated_targets_accumulate_read_after_write():
    """Connections to one target back to back, within a row and across rows: each read-modify-write reads the
    word the one before wrote; the first of a step writes over the word's old sums (its `filled` bit clear)."""
    from tests.golden.test_network_model import population, projection

    pops = {"src": population("src", 4, theta_hi=-5, refractory=0),
            "dst": population("dst", 4, decay=4096, leak=4096, theta_hi=30000)}
    pre, post = np.array([0, 0, 0, 1, 1, 2, 3, 3]), np.array([1, 1, 1, 1, 2, 2, 2, 0])
    weights = np.array([3, 5, 7, 11, -13, 17, 19, 23])
    net = NetworkSpec(pops, {"l": projection("l", "src", "dst", "list", weights, pre=pre, post=post)}, lanes=1)
    got, _, overflow, _ = run_core(net, 6, serial=True)
    want, _ = model_updates(net, 6)
    assert not overflow and got == want
    assert [got[(t, 5)][1][0] for t in range(4)] == [0, 26, 26, 26]
    assert [got[(t, 6)][1][0] for t in range(4)] == [0, 23, 23, 23]


@pytest.mark.parametrize("bug", [*BUGS, "refractory_off_by_one"])
def test_every_seeded_bug_changes_an_update(bug):
    net = small_example(1)
    got, _, _, _ = run_core(net, 8, inject_bug=bug, serial=True)
    want, _ = model_updates(net, 8)
    assert got != want


def test_a_history_too_short_for_the_spikes_raises_the_overflow_flag():
    net = small_example(1)
    _, _, overflow, _ = run_core(net, 8, history=8, serial=True)
    assert overflow
    _, _, overflow, _ = run_core(net, 8, serial=True)
    assert not overflow


def test_cuba_at_full_size_fills_four_sprams_with_room_for_its_history():
    from lapicque.golden.network_codes import cuba_spec

    net, _ = cuba_spec()
    assert word_bits(net) == 64  # the state's 59 bits, or two 25-bit accumulators: four SPRAMs side by side
    history = serial_history(net)
    assert 2 * net.neurons + history <= SPRAM_DEPTH and history >= 4096
    core = SerialNetworkCore(net, hardware_rows(net))
    assert core.depth <= SPRAM_DEPTH


def test_what_the_serial_core_cannot_run_is_refused_in_one_line():
    from lapicque.golden.network_codes import brunel_spec

    with pytest.raises(LapicqueError, match="lanes = 2: the serial core"):
        check_serial_core(small_example(2))
    with pytest.raises(LapicqueError, match="no external Poisson input"):
        check_serial_core(brunel_spec("AI", 40, 1.0, seed=3, lanes=1)[0])


def test_the_run_is_taken_once_the_initial_state_is_copied_in():
    """After reset the core copies the initial membranes into the store (SPRAM takes no initial contents), a word
    a cycle: `run` is ready exactly `init_cycles` cycles on, and not busy before."""
    from amaranth.sim import Simulator

    net = small_example(1)
    core = SerialNetworkCore(net, hardware_rows(net))
    seen = {}

    async def bench(ctx):
        for cycle in range(200):
            if ctx.get(core.run.ready):
                seen["ready"] = cycle
                return
            assert not ctx.get(core.busy)
            await ctx.tick()

    sim = Simulator(core)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen["ready"] == init_cycles(net) == net.neurons + 1
