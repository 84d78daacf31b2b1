"""cocotb testbench of `NetworkCore`, run by `lapicque.sim.network`: runs the steps and records every update.

The core is wrapped in `lapicque.hdl.harness.PackedNetwork`: its monitor beats come packed many to a transfer,
and each step's cycle count on a stream of its own, so the testbench wakes once a transfer (a rising `valid`
of either stream; the wide sides are always ready, and a transfer is read in the cycle it appears) and the
simulator runs the cycles in between on its own. It only records: the transfers go back as bit arrays
(`updates.npz`) and the parent process unpacks and decodes them and compares every field with the fixed model.

Configuration: `config.json` in `LAPICQUE_TB_DIR` (`steps`); results: `updates.npz` (`monitor`, `cycles`: one
row per transfer), `results.json` (`cycles`: from the run's handshake to the core going idle, `transfers`,
`history_overflow`, `lost`: a beat found its packer not ready).
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

#: cycles after the core goes idle in which the packers' flushed transfers appear
FLUSH_CYCLES = 4


def _packed(rows: list[np.ndarray], width: int) -> tuple[np.ndarray, int]:
    bits = np.array(rows, dtype=np.uint8) if rows else np.zeros((0, width), np.uint8)
    return np.packbits(bits, axis=1, bitorder="little"), width


@cocotb.test()
async def run_network(dut):
    folder = Path(os.environ["LAPICQUE_TB_DIR"])
    steps = json.loads((folder / "config.json").read_text())["steps"]
    dut.monitor__ready.value = 1
    dut.cycles__ready.value = 1
    await FallingEdge(dut.clk)
    dut.run__payload.value = steps
    dut.run__valid.value = 1
    await RisingEdge(dut.clk)  # idle: ready is high, the core takes the run at this edge
    start = get_sim_time("ns")
    await FallingEdge(dut.clk)
    dut.run__valid.value = 0
    monitor, cycles = [], []
    end = None

    def take() -> None:  # the transfers valid in this cycle
        if dut.monitor__valid.value:
            monitor.append(read_bits(dut.monitor__payload))
        if dut.cycles__valid.value:
            cycles.append(read_bits(dut.cycles__payload))

    while True:
        await First(RisingEdge(dut.monitor__valid), RisingEdge(dut.cycles__valid), FallingEdge(dut.busy))
        await FallingEdge(dut.clk)  # mid-cycle: every signal of this cycle settled
        take()
        if not dut.busy.value:
            # the last step ended at the rising edge before the core went idle; its flushed transfers follow
            end = end or get_sim_time("ns")
            for _ in range(FLUSH_CYCLES):
                await FallingEdge(dut.clk)
                take()
            break
    cycles_run = int((end - start) // CLOCK_PERIOD_NS)
    monitor_bits, monitor_width = _packed(monitor, len(dut.monitor__payload))
    cycles_bits, cycles_width = _packed(cycles, len(dut.cycles__payload))
    with open(folder / "updates.tmp.npz", "wb") as f:
        np.savez_compressed(f, monitor=monitor_bits, monitor_width=monitor_width, cycles=cycles_bits,
                            cycles_width=cycles_width)
    os.replace(folder / "updates.tmp.npz", folder / "updates.npz")
    write_json(folder / "results.json", {"cycles": cycles_run, "transfers": len(monitor),
                                         "history_overflow": int(dut.history_overflow.value),
                                         "lost": int(dut.lost.value)})
