"""Tests of the Amaranth RTL (lapicque.hdl)."""

from amaranth.sim import Simulator


def run_clocked(dut, *testbenches, until: float | None = None) -> None:
    """Run `testbenches` on `dut` with a 1 MHz clock, to their end or for `until` seconds."""
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    for testbench in testbenches:
        sim.add_testbench(testbench)
    if until is None:
        sim.run()
    else:
        sim.run_until(until)
