"""cocotb testbench of `NetworkCore`: runs the steps and records every update, run by `lapicque.sim.network`.

The core reports every update on `monitor` without back-pressure, one beat per sweep cycle (`monitor_valid`),
so the testbench sleeps until a sweep starts, reads the beats of the sweep at each falling edge, and sleeps
again through propagation. It only records: the beats go back as bit arrays (`updates.npz`) and the parent
process decodes them and compares every field with the fixed model (`lapicque.sim.network`).

Configuration: `config.json` in `LAPICQUE_TB_DIR` (`steps`); results: `updates.npz` (`bits`: one row per beat),
`results.json` (`cycles`: from the run's handshake to the core going idle, `sweep_starts`: the cycle of each
sweep's first beat, whose differences are the steps' cycles, `history_overflow`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge
from cocotb.utils import get_sim_time

from lapicque.files import write_json
from lapicque.sim.bits import read_bits
from lapicque.sim.runner import CLOCK_PERIOD_NS


@cocotb.test()
async def run_network(dut):
    folder = Path(os.environ["LAPICQUE_TB_DIR"])
    steps = json.loads((folder / "config.json").read_text())["steps"]
    await FallingEdge(dut.clk)
    dut.run__payload.value = steps
    dut.run__valid.value = 1
    await RisingEdge(dut.clk)  # idle: ready is high, the core takes the run at this edge
    start = get_sim_time("ns")
    await FallingEdge(dut.clk)
    dut.run__valid.value = 0
    beats, sweep_starts = [], []  # the cycle (from the handshake) of each sweep's first beat
    while dut.busy.value:
        await First(RisingEdge(dut.monitor_valid), FallingEdge(dut.busy))
        await FallingEdge(dut.clk)
        if dut.monitor_valid.value:
            sweep_starts.append(int((get_sim_time("ns") - start) // CLOCK_PERIOD_NS))
        while dut.monitor_valid.value:
            beats.append(read_bits(dut.monitor))
            await FallingEdge(dut.clk)
    # the last step ended at the rising edge before this falling one
    cycles = int((get_sim_time("ns") - start) // CLOCK_PERIOD_NS)
    bits = np.array(beats, dtype=np.uint8) if beats else np.zeros((0, len(dut.monitor)), np.uint8)
    with open(folder / "updates.tmp.npz", "wb") as f:
        np.savez_compressed(f, bits=np.packbits(bits, axis=1, bitorder="little"), width=bits.shape[1])
    os.replace(folder / "updates.tmp.npz", folder / "updates.npz")
    write_json(folder / "results.json", {"cycles": cycles, "beats": len(beats), "sweep_starts": sweep_starts,
                                         "history_overflow": int(dut.history_overflow.value)})
