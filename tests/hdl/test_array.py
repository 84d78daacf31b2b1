# amaranth: UnusedElaboratable=no
"""Elaboration of the array: parameter-dependent ports, and the monitor compiled out for FPGA builds."""

import pytest
from amaranth.back import rtlil

from lapicque.errors import LapicqueError
from lapicque.hdl import NeuronArray
from lapicque.sim.verify import verify
from lapicque.spec import ArraySpec, random_spec


def ports(component) -> set[str]:
    return {"__".join(map(str, path)) for path, _, _ in component.signature.flatten(component)}


def test_monitor_is_a_port_only_when_asked_for():
    spec = random_spec(8, 2, seed=1)
    assert "monitor__payload" in ports(NeuronArray(spec))
    spec.monitor = False
    array = NeuronArray(spec)
    assert not any(name.startswith("monitor") for name in ports(array))
    text = rtlil.convert(array, name="array")  # elaborates without the monitor FIFO
    assert "monitor_fifo" not in text and "spike_queue0" in text


def test_verification_needs_the_monitor(tmp_path):
    spec = ArraySpec(4, monitor=False)
    with pytest.raises(LapicqueError, match="verification needs the state monitor; set monitor = true in the spec"):
        verify(spec, 10, tmp_path)


def test_widths_reach_the_ports():
    spec = random_spec(16, 4, seed=2)
    array = NeuronArray(spec)
    assert len(array.stim.payload.as_value()) == 4 * spec.widths.ext
    assert len(array.spikes.payload.as_value()) == 32 + 4  # timestep, neuron index of 16


def first_update_after_write_with_run(bug: str | None) -> dict:
    """A parameter write and a run taken in the same cycle (both streams are ready when idle): the run's
    first update of that neuron, from the monitor."""
    from amaranth.sim import Simulator

    from lapicque.golden.neuron import zero_state
    from lapicque.hdl.layouts import CFG_PARAM, cfg_word, monitor_layout, neuron_writes, unpack
    from lapicque.spec import ArraySpec

    # memories start at zero: theta_hi 0, so the zero membrane spikes; the written parameters say theta_hi 20
    spec = ArraySpec(2, 1, params={"theta_hi": 20})
    write = next(w for w in neuron_writes(spec, zero_state(2)) if w[0] == CFG_PARAM and w[2] == 0)
    dut = NeuronArray(spec, inject_bug=bug)
    seen = {}

    async def bench(ctx):
        while not ctx.get(dut.cfg.ready):
            await ctx.tick()
        ctx.set(dut.cfg.payload.as_value(), cfg_word(spec, write))
        ctx.set(dut.cfg.valid, 1)
        ctx.set(dut.run.payload, 1)
        ctx.set(dut.run.valid, 1)
        await ctx.tick()
        ctx.set(dut.cfg.valid, 0)
        ctx.set(dut.run.valid, 0)
        ctx.set(dut.stim.valid, 1)
        ctx.set(dut.monitor.ready, 1)
        for _ in range(60):
            if ctx.get(dut.monitor.valid):
                seen["beat"] = unpack(monitor_layout(spec), ctx.get(dut.monitor.payload.as_value()))
                return
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return seen["beat"]


def test_a_run_taken_with_a_configuration_write_sees_the_write():
    """Found by `lapicque prove` (the whole-array property): the run's first read used to race the write."""
    beat = first_update_after_write_with_run(None)
    assert beat["index"] == 0 and beat["lanes"][0]["spike"] == 0  # theta_hi 20: the zero membrane stays quiet
    stale = first_update_after_write_with_run("read_during_config_write")
    assert stale["index"] == 0 and stale["lanes"][0]["spike"] == 1  # the old, zero threshold


def test_a_run_of_zero_steps_does_nothing():
    """A run of 0 steps is taken and ignored: the array stays idle, its timestep unchanged, and a run of 2
    after it makes exactly two timesteps of updates."""
    from amaranth.sim import Simulator

    spec = ArraySpec(2, 1)
    dut = NeuronArray(spec)
    seen = {"busy_after_zero": 0, "updates": 0}

    async def bench(ctx):
        while not ctx.get(dut.run.ready):
            await ctx.tick()
        ctx.set(dut.run.payload, 0)
        ctx.set(dut.run.valid, 1)
        await ctx.tick()
        ctx.set(dut.run.valid, 0)
        for _ in range(20):
            seen["busy_after_zero"] += ctx.get(dut.busy)
            await ctx.tick()
        seen["timestep_after_zero"] = ctx.get(dut.timestep)
        ctx.set(dut.run.payload, 2)
        ctx.set(dut.run.valid, 1)
        for _ in range(5):  # idle: the run is taken at once
            if ctx.get(dut.run.ready):
                break
            await ctx.tick()
        seen["second_run_taken"] = ctx.get(dut.run.ready)
        await ctx.tick()
        ctx.set(dut.run.valid, 0)
        ctx.set(dut.stim.valid, 1)
        ctx.set(dut.monitor.ready, 1)
        ctx.set(dut.spikes.ready, 1)
        for _ in range(200):
            await ctx.tick()
            seen["updates"] += ctx.get(dut.monitor.valid)
        seen["timestep_after_two"] = ctx.get(dut.timestep)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen == {"busy_after_zero": 0, "timestep_after_zero": 0, "second_run_taken": 1,
                    "updates": 2 * spec.neurons, "timestep_after_two": 2}


def test_each_accumulator_bank_has_a_read_port_per_side():
    """Each accumulator bank has a read port for the update side (at the sweep's fixed address, so that no address
    multiplexer sits between a register and the RAM) and one for propagation, whatever the RAM: the last spike of a
    step may still be filling the bank the next step's sweep reads (a block RAM is duplicated for it)."""
    import re

    spec = random_spec(8, 2, seed=1)
    for style in (None, "distributed"):
        text = rtlil.convert(NeuronArray(spec, acc_ram_style=style), name="top")
        read_cells = re.findall(r"cell \$memrd\S* \S+\n(?:\s+parameter .*\n)*", text)
        reads = [m.group(1) for cell in read_cells if (m := re.search(r'MEMID "\\\\(acc_mem\d+_\d+)"', cell))]
        banks = {name: reads.count(name) for name in reads}
        assert len(banks) == 2 * spec.lanes and set(banks.values()) == {2}, (style, banks)
