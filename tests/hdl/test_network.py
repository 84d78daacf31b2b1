# amaranth: UnusedElaboratable=no
"""The network core (hdl/network.py) against the network's fixed model, update for update, and its cycles."""

import dataclasses

import numpy as np
import pytest

from lapicque.golden.network_model import NetworkModel, compile_network, hardware_rows
from lapicque.hdl.layouts import channel_field
from lapicque.hdl.network import BUGS, NetworkCore, population_words, step_cycles
from lapicque.hdl.serial_network import SerialNetworkCore
from lapicque.network_spec import NetworkSpec, load_network
from tests.hdl import run_clocked


def run_core(net, steps, latency=1, history=None, generate=False, inject_bug=None, generator_width=None,
             serial=False):
    """Run `steps` steps; returns {(timestep, neuron): fields}, each step's cycles, and the overflow flag. With
    `generate` the core regenerates the Bernoulli projections' rows instead of storing them; `serial`: the serial
    core (hdl/serial_network.py) instead."""
    compiled = hardware_rows(net) if generate else compile_network(net)
    if serial:
        core = SerialNetworkCore(net, compiled, latency=latency, history=history, inject_bug=inject_bug)
    else:
        core = NetworkCore(net, compiled, latency=latency, history=history, inject_bug=inject_bug,
                           generator_width=generator_width)
    lanes, channels = net.lanes, len(net.channels)
    updates, cycles, flags = {}, [], {}

    async def bench(ctx):
        ctx.set(core.run.payload, steps)
        ctx.set(core.run.valid, 1)
        await ctx.tick().until(core.run.ready)
        ctx.set(core.run.valid, 0)
        last_step = 0
        while True:
            await ctx.tick()
            if ctx.get(core.monitor.valid):
                t, index = ctx.get(core.monitor.timestep), ctx.get(core.monitor.index)
                for lane in range(lanes):
                    u = core.monitor.lanes[lane]
                    updates[(t, index * lanes + lane)] = (
                        ctx.get(u.state.v), tuple(ctx.get(getattr(u.state, channel_field("i", c)))
                                                  for c in range(channels)),
                        ctx.get(u.state.ref), ctx.get(u.state.pulse), ctx.get(u.spike), ctx.get(u.flags))
            if ctx.get(core.timestep) != last_step:
                last_step = ctx.get(core.timestep)
                cycles.append(ctx.get(core.step_cycles))
            if not ctx.get(core.busy):
                break
        flags["overflow"] = ctx.get(core.history_overflow)

    run_clocked(core, bench)
    return updates, cycles, flags["overflow"], compiled


def model_updates(net, steps):
    model = NetworkModel(net)
    want, spikes = {}, []
    for t in range(steps):
        r = model.step()
        for n in range(net.neurons):
            want[(t, n)] = (int(r.state.v[n]), tuple(int(x) for x in r.state.i[:, n]), int(r.state.ref[n]),
                            int(r.state.pulse[n]), int(r.spike[n]), int(r.flags[n]))
        spikes.append(np.flatnonzero(r.spike).tolist())
    return want, spikes


def small_example(lanes=2, seed=0, varied=False):
    """The example file's two populations and four rules, made smaller (24 + 8 neurons) and busier (more bias),
    starting spread between reset and threshold so that they fire from the first steps on."""
    net = load_network("examples/networks/two-populations.toml")
    rng = np.random.default_rng(seed)
    pops = {}
    for name, size in (("exc", 24), ("inh", 8)):
        pop = net.populations[name]
        params = {k: v[:size] for k, v in pop.params.items()}
        params["bias"] = np.full(size, 1500 if name == "exc" else 1000)  # a spike every few steps
        if varied:  # a parameter per neuron: the core keeps a parameter memory instead of a word per population
            params["bias"] = params["bias"] + 40 * (np.arange(size) % 5)
        v0 = rng.integers(-1000, int(params["theta_hi"][0]), size)
        pops[name] = dataclasses.replace(pop, size=size, params=params,
                                         decay={k: v[:size] for k, v in pop.decay.items()}, v0=v0)
    projs = dict(net.projections)
    projs["ee"] = dataclasses.replace(projs["ee"], p=0.3)
    projs["ei"] = dataclasses.replace(projs["ei"], degree=3)
    projs["ie"] = dataclasses.replace(projs["ie"], degree=4, weight=np.array(-400))
    return NetworkSpec(pops, projs, net.channels, lanes, net.widths, net.rounding, net.weight_exponent)


@pytest.mark.parametrize(("lanes", "latency", "generate", "varied"), [
    (1, 0, False, True), (2, 1, True, False), (4, 3, False, False), (4, 2, True, True)])
def test_the_core_is_the_model_update_for_update(lanes, latency, generate, varied):
    net = small_example(lanes, varied=varied)
    assert (population_words(net) is None) == varied
    steps = 24
    cycles, compiled, spikes = checked_run(net, steps, latency, generate)
    # and took the cycles the formula says, step for step
    assert cycles == [step_cycles(net, compiled, spikes, t, latency) for t in range(steps)]


def checked_run(net, steps, latency, generate, serial=False):
    """Run a core (`run_core`) and compare it with the model update for update, in a run that is a real test:
    spikes in most steps, delayed deliveries, both channels moving. Returns each step's cycles, the rows and the
    spikes."""
    got, cycles, overflow, compiled = run_core(net, steps, latency, generate=generate, serial=serial)
    want, spikes = model_updates(net, steps)
    assert not overflow and len(got) == len(want) == steps * net.neurons
    mismatched = [key for key in want if got[key] != want[key]]
    assert not mismatched, (mismatched[:3], [(got[k], want[k]) for k in mismatched[:3]])
    assert sum(map(len, spikes)) > 40
    assert any(u[1][1] != 0 for u in want.values()) and any(u[1][0] != 0 for u in want.values())
    return cycles, compiled, spikes


def test_a_burst_that_fills_the_queues_takes_the_cycles_of_the_replay():
    """Twice the bias: most neurons fire in the first step, the spike reader's queue fills and the front end
    takes spikes in the cycle the reader would count them (an earlier replay counted the queue after the take,
    two cycles short)."""
    net = small_example(2)
    for pop in net.populations.values():
        pop.params["bias"] = pop.params["bias"] * 2
    steps = 12
    got, cycles, overflow, compiled = run_core(net, steps)
    want, spikes = model_updates(net, steps)
    assert not overflow and got == want and len(spikes[0]) > 16
    assert cycles == [step_cycles(net, compiled, spikes, t, 1) for t in range(steps)]


@pytest.mark.parametrize("bug", [*BUGS, "refractory_off_by_one"])
def test_every_seeded_bug_changes_an_update(bug):
    """The seeded bugs the verification's own tests rely on each make the core differ from the model (on Verilator,
    tests/sim/test_network.py checks that a run fails with one); the stale external counter on Brunel's network,
    whose every neuron draws external input."""
    from lapicque.golden.network_codes import brunel_spec

    net = brunel_spec("AI", 40, 1.0, seed=3, lanes=2)[0] if bug == "external_counter_stale" else small_example(2)
    steps = 8
    got, _, _, _ = run_core(net, steps, inject_bug=bug)
    want, _ = model_updates(net, steps)
    assert got != want


def test_repeated_targets_accumulate_through_the_forwarded_write():
    """Connections to one target back to back (within a row, and from one spike's row into the next's): each
    read-modify-write must see the write of the cycle before, which the memory does not yet show."""
    from tests.golden.test_network_model import population, projection

    pops = {"src": population("src", 4, theta_hi=-5, refractory=0),  # fire at every step
            "dst": population("dst", 4, decay=4096, leak=4096, theta_hi=30000)}
    pre, post = np.array([0, 0, 0, 1, 1, 2, 3, 3]), np.array([1, 1, 1, 1, 2, 2, 2, 0])
    weights = np.array([3, 5, 7, 11, -13, 17, 19, 23])
    net = NetworkSpec(pops, {"l": projection("l", "src", "dst", "list", weights, pre=pre, post=post)}, lanes=2)
    got, _, overflow, _ = run_core(net, 6)
    want, _ = model_updates(net, 6)
    assert not overflow and got == want
    # dst 1 (global 5) gets 3 + 5 + 7 + 11 every step from the second on, dst 2 (global 6) -13 + 17 + 19
    assert [got[(t, 5)][1][0] for t in range(4)] == [0, 26, 26, 26]
    assert [got[(t, 6)][1][0] for t in range(4)] == [0, 23, 23, 23]


def test_a_history_too_short_for_the_spikes_raises_the_overflow_flag():
    net = small_example(1)
    _, _, overflow, _ = run_core(net, 8, history=8)  # 8 entries for spikes of 4 delays' steps
    assert overflow
    _, _, overflow, _ = run_core(net, 8)
    assert not overflow


def primed_cuba(lanes):
    """CUBA at 160 neurons (p = 0.5), every membrane a few steps below threshold: CUBA's own first spikes come only
    after 20 steps."""
    from lapicque.golden.network_codes import cuba_spec

    net, _ = cuba_spec(160, p=0.5, seed=2, lanes=lanes)
    rng = np.random.default_rng(2)
    for pop in net.populations.values():
        pop.v0 = pop.params["theta_hi"] - rng.integers(1, 1000, pop.size)
    return net


def test_a_scaled_cuba_runs_bit_exact_with_both_channels_and_procedural_rows():
    net = primed_cuba(4)
    steps = 20
    got, cycles, overflow, compiled = run_core(net, steps, latency=2, generate=True)
    want, spikes = model_updates(net, steps)
    assert not overflow and got == want
    assert sum(map(len, spikes)) > 20 and any(v[1][1] < 0 for v in want.values())  # inhibition arrived
    assert cycles == [step_cycles(net, compiled, spikes, t, 2) for t in range(steps)]


@pytest.mark.parametrize("width", [1, 2])
def test_a_narrower_generator_draws_the_same_rows_in_the_replays_cycles(width):
    """A board's core draws fewer numbers a cycle than it has lanes (`generator_width`): the same updates, the
    cycles the replay gives for that width, and more of them than one number per lane takes."""
    net = primed_cuba(4)
    steps = 12
    got, cycles, overflow, compiled = run_core(net, steps, latency=2, generate=True, generator_width=width)
    want, spikes = model_updates(net, steps)
    assert not overflow and got == want and sum(map(len, spikes)) > 10
    assert cycles == [step_cycles(net, compiled, spikes, t, 2, generator_width=width) for t in range(steps)]
    assert sum(cycles) > sum(step_cycles(net, compiled, spikes, t, 2) for t in range(steps))
