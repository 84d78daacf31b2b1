"""cocotb testbench of `NetworkCore`, run by `lapicque.sim.network`: starts the run and waits for its end.

The core is wrapped in `lapicque.hdl.harness.RecordedNetwork`, whose monitor beats and per-step cycle counts the
simulator appends to record files itself (`runner.testbench_top`'s `record`): the testbench does not wake while
the core runs, and the parent process decodes the records and compares every field with the fixed model as
they are written.

Configuration: `config.json` in `LAPICQUE_TB_DIR` (`steps`); results: `results.json` (`cycles`: from the run's
handshake to the core going idle, `history_overflow`, `lost`: a beat found its ready low, `run_started`: the wall
clock when the steps began).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from lapicque.files import write_json
from lapicque.sim.runner import CLOCK_PERIOD_NS

#: cycles after the core goes idle, for the last records to be written
SETTLE_CYCLES = 4


@cocotb.test()
async def run_network(dut):
    folder = Path(os.environ["LAPICQUE_TB_DIR"])
    steps = json.loads((folder / "config.json").read_text())["steps"]
    dut.monitor__ready.value = 1
    dut.cycles__ready.value = 1
    await FallingEdge(dut.clk)
    dut.run__payload.value = steps
    dut.run__valid.value = 1
    while not dut.run__ready.value:  # a core that loads its initial state after reset first (the serial core)
        await FallingEdge(dut.clk)
    run_started = time.time()
    await RisingEdge(dut.clk)  # idle: ready is high, the core takes the run at this edge
    start = get_sim_time("ns")
    await FallingEdge(dut.clk)
    dut.run__valid.value = 0
    await FallingEdge(dut.busy)  # at the rising edge that ends the last step
    end = get_sim_time("ns")
    for _ in range(SETTLE_CYCLES):
        await FallingEdge(dut.clk)
    write_json(folder / "results.json", {"cycles": int((end - start) // CLOCK_PERIOD_NS),
                                         "history_overflow": int(dut.history_overflow.value),
                                         "lost": int(dut.lost.value), "run_started": run_started})
