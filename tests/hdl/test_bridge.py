# amaranth: UnusedElaboratable=no
"""The host bridge, byte for byte in amaranth's simulator: commands in, records out, runs that
match the bit-exact model (the UART around it is tested in test_uart.py, the whole board top in
tests/boards/test_cosim.py)."""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from lapicque.boards.host import (
    RecordParser,
    compare_runs,
    ident_command,
    load_commands,
    model_run,
    run_command,
    run_result,
    sync_command,
    watch_commands,
)
from lapicque.hdl.array import NeuronArray
from lapicque.hdl.bridge import WATCH_SLOTS, HostBridge
from lapicque.sim.stimulus import initial_state
from lapicque.spec import ArraySpec, random_spec


class BridgeUnderTest(Elaboratable):
    """The bridge wired to an array; the testbench drives the bridge's byte streams directly."""

    def __init__(self, spec):
        self.spec = spec
        self.bridge = HostBridge(spec)
        self.array = NeuronArray(spec)
        self.rx, self.tx = self.bridge.rx, self.bridge.tx

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge, m.submodules.array = self.bridge, self.array
        b, a = self.bridge, self.array
        wiring.connect(m, b.run, a.run)
        wiring.connect(m, b.cfg, a.cfg)
        wiring.connect(m, b.stim, a.stim)
        wiring.connect(m, a.spikes, b.spikes)
        if self.spec.monitor:
            wiring.connect(m, a.monitor, b.monitor)
        m.d.comb += [b.busy.eq(a.busy), b.busy_cycles.eq(a.stats.busy_cycles), b.timestep.eq(a.timestep)]
        return m


def exchange(spec, commands: bytes, until_records: int, tx_ready_seed=None, max_cycles=200_000, busy=None):
    """Send `commands`, collect records until `until_records` arrived; returns them. `busy`, a list,
    gets the number of cycles the array was busy meanwhile."""
    dut = BridgeUnderTest(spec)
    parser = RecordParser(spec)
    records = []
    rng = np.random.default_rng(tx_ready_seed)

    async def host(ctx):
        for byte in commands:
            ctx.set(dut.rx.payload, byte)
            ctx.set(dut.rx.valid, 1)
            await ctx.tick().until(dut.rx.ready)
        ctx.set(dut.rx.valid, 0)

    async def listener(ctx):
        cycles = busy_cycles = 0
        while len(records) < until_records:
            ready = 1 if tx_ready_seed is None else int(rng.random() < 0.5)
            ctx.set(dut.tx.ready, ready)
            valid, payload = ctx.get(dut.tx.valid), ctx.get(dut.tx.payload)
            busy_cycles += ctx.get(dut.array.busy)
            await ctx.tick()
            if valid and ready:
                records.extend(parser.feed(bytes([payload])))
            cycles += 1
            assert cycles < max_cycles, f"no reply after {cycles} cycles; got {records}"
        if busy is not None:
            busy.append(busy_cycles)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(host, background=True)
    sim.add_testbench(listener)
    sim.run()
    return records


@pytest.mark.parametrize(("rounding", "exponent"), [("toward_zero", 0), ("floor", 6), ("toward_zero", 16)])
def test_identify_reports_the_spec(rounding, exponent):
    spec = ArraySpec(12, lanes=3, rounding=rounding, weight_exponent=exponent)
    (record,) = exchange(spec, ident_command(), 1)
    assert record.tag == "ident"
    assert record.fields["magic"] == b"LPQ" and record.fields["neurons"] == 12 and record.fields["lanes"] == 3
    assert record.fields["widths"] == {"v": 16, "i": 16, "w": 8, "bias": 16, "ext": 8, "refractory": 4}
    assert record.fields["watch_slots"] == WATCH_SLOTS
    assert record.fields["rounding"] == rounding and record.fields["weight_exponent"] == exponent


def test_sync_echoes_its_token_and_unknown_bytes_are_reported():
    spec = ArraySpec(4, lanes=2)
    records = exchange(spec, sync_command(0xA5) + b"?" + sync_command(7), 3)
    assert [(r.tag, r.fields) for r in records] == [
        ("sync", {"token": 0xA5}), ("error", {"byte": ord("?")}), ("sync", {"token": 7})]


@pytest.mark.parametrize("lanes, seed, slow_host", [(2, 1, False), (1, 2, True), (4, 3, False)])
def test_a_run_matches_the_bit_exact_model(lanes, seed, slow_host):
    spec = random_spec(8, lanes, seed=seed)
    state = initial_state(spec, seed)
    steps, watched = 10, [1, 6]
    commands = load_commands(spec, state) + watch_commands(watched) + run_command(steps)
    want = model_run(spec, state, steps, watched)
    assert len(want.spikes) > 0, "the case must spike to test anything"
    expected_records = len(want.spikes) + len(want.states) + 1
    records = exchange(spec, commands, expected_records, tx_ready_seed=seed if slow_host else None)
    assert records[-1].tag == "done"
    got = run_result(records)
    assert compare_runs(got, want) == []


def test_a_wrong_weight_is_caught_by_the_comparison():
    base = random_spec(8, 2, seed=1)
    state = initial_state(base, 1)

    source = int(model_run(base, state, 1).spikes[0][1])  # a neuron that fires in the first step

    def with_row(value):
        weights = base.weights.copy()
        weights[source, :] = value
        return ArraySpec(8, lanes=2, widths=base.widths, params=base.params, weights=weights)

    model_spec, board_spec = with_row(127), with_row(0)
    want = model_run(model_spec, state, 10)
    board_want = model_run(board_spec, state, 10)
    assert compare_runs(board_want, want), "precondition: the two weight rows give different runs"
    records = exchange(board_spec, load_commands(board_spec, state) + run_command(10), 1 + len(board_want.spikes))
    got = run_result(records)
    assert compare_runs(got, board_want) == []
    assert compare_runs(got, want)[0].startswith("spikes differ")


@pytest.mark.parametrize("steps", [1, 7])
def test_the_done_record_counts_the_cycles_the_array_was_busy(steps):
    spec = random_spec(8, 2, seed=4)
    state = initial_state(spec, 4)
    want = model_run(spec, state, steps)
    counted = []
    records = exchange(spec, load_commands(spec, state) + run_command(steps), 1 + len(want.spikes), busy=counted)
    done = records[-1]
    assert done.tag == "done" and done.fields["timestep"] == steps
    # every busy cycle since reset, no more: the run's (the loads before it are not busy)
    assert done.fields["busy_cycles"] == counted[0]
    assert done.fields["busy_cycles"] >= steps * spec.depth  # at least one cycle per update


def test_a_second_run_reports_done_after_its_own_spikes():
    """Two runs back to back continue the model's run; each done record follows every spike of its run
    and names the timestep reached (the second run must not take the first run's quiet end for its own)."""
    spec = random_spec(8, 2, seed=5)
    state = initial_state(spec, 5)
    first, second = 3, 5
    want = model_run(spec, state, first + second)
    assert (want.spikes[:, 0] >= first).any(), "the second run must spike to test anything"
    records = exchange(spec, load_commands(spec, state) + run_command(first) + run_command(second),
                       len(want.spikes) + 2)
    done = [k for k, r in enumerate(records) if r.tag == "done"]
    assert [records[k].fields["timestep"] for k in done] == [first, first + second]
    spikes = [(r.fields["timestep"], r.fields["neuron"]) for r in records if r.tag == "spike"]
    assert sorted(spikes) == sorted(map(tuple, want.spikes.tolist()))
    # every spike of a run before its done record, none of the second before the first's
    for k, record in enumerate(records):
        if record.tag == "spike":
            run_done = done[0] if record.fields["timestep"] < first else done[1]
            assert k < run_done and (record.fields["timestep"] < first or k > done[0])


def test_the_longest_record_of_wide_widths_comes_whole():
    """At v 24, i 32 and refractory 16 bits a watched state's record is 17 bytes, one past a power of two:
    a record counter one bit short would end it after its first byte."""
    from lapicque.hdl.bridge import record_lengths
    from lapicque.spec import Widths

    spec = random_spec(8, 2, seed=2, widths=Widths(v=24, i=32, bias=24, refractory=16))
    assert max(record_lengths(spec).values()) == 17
    state = initial_state(spec, 2)
    steps, watched = 4, [0, 5]
    want = model_run(spec, state, steps, watched)
    records = exchange(spec, load_commands(spec, state) + watch_commands(watched) + run_command(steps),
                       len(want.spikes) + len(want.states) + 1)
    assert records[-1].tag == "done"
    assert compare_runs(run_result(records), want) == []


def test_the_spike_led_lights_when_a_spike_is_taken_and_fades_after_blink_cycles():
    """The board's LEDs (`activity`): bit 0 is the array's busy; bit 1 lights the cycle after a spike event
    leaves the array for the bridge (not while it waits behind a watched state's record on the slow line)
    and goes dark 15 prescaler ticks after the last one: ticks of the power of two above blink_cycles / 16, so
    between blink_cycles and twice that."""
    from lapicque.hdl.bridge import BridgedArray

    divisor, blink = 4, 64
    spec = random_spec(8, 2, seed=1)
    state = initial_state(spec, 1)
    commands = load_commands(spec, state) + watch_commands([0]) + run_command(3)
    assert len(model_run(spec, state, 3).spikes) > 0, "the case must spike to test anything"
    dut = BridgedArray(spec, divisor=divisor, blink_cycles=blink)
    array = dut.array
    trace = []

    async def host(ctx):
        for byte in commands:
            for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [1]:
                ctx.set(dut.rx, bit)
                await ctx.tick().repeat(divisor)

    async def watch(ctx):
        for _ in range(len(commands) * 10 * divisor + 6_000):
            trace.append((ctx.get(array.spikes.valid), ctx.get(array.spikes.ready), ctx.get(array.busy),
                          ctx.get(dut.activity)))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(host, background=True)
    sim.add_testbench(watch)
    sim.run()
    valid, ready, busy, activity = (np.array(column) for column in zip(*trace, strict=True))
    taken = np.flatnonzero(valid & ready)
    waited = np.flatnonzero(valid & ~ready)
    assert taken.size and waited.size and waited[0] < taken[0], "a spike must wait behind a record to test anything"
    led = (activity >> 1) & 1
    assert np.array_equal(activity & 1, busy)
    assert not led[: taken[0] + 1].any() and led[taken[0] + 1]  # lit by the first spike taken, not before
    dark = np.flatnonzero(led[taken[-1] + 1:] == 0)
    assert dark.size, "the LED must go dark after the last spike"
    tick = 1 << max(1, (blink // 16).bit_length())
    assert 14 * tick <= dark[0] <= 15 * tick + 1 and blink <= dark[0] <= 2 * blink
