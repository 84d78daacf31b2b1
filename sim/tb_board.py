"""cocotb testbench of the board: host bytes on the UART line in, records out, the array checked inside.

The design is `BoardProbe` (the bridged array a board runs, with its monitor tapped). The bench
plays the host: it sends the bytes `lapicque.boards.host` makes (`commands.bin`) bit by bit on
`rx` at the UART's bit time, decodes `tx` bit by bit into bytes, and meanwhile feeds every update
of the array to the spine's scoreboard (bit-exact against the fixed model with zero external
input, as on a board). The probe's ready drops in random bursts, which stalls the array and the
bridge behind it. Results go to `results.json`: the bytes received, the scoreboard's verdict.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge, Timer, with_timeout

from lapicque.boards.host import ProtocolError, RecordParser
from lapicque.files import write_json
from lapicque.golden.neuron import State
from lapicque.hdl.harness import monitor_pack
from lapicque.sim.array_check import MonitorConsumer
from lapicque.sim.bits import read_bits
from lapicque.sim.runner import CLOCK_PERIOD_NS
from lapicque.sim.scoreboard import Scoreboard
from lapicque.spec import ArraySpec


class BoardBench:
    def __init__(self, dut, folder: Path):
        self.dut = dut
        self.folder = folder
        cfg = json.loads((folder / "config.json").read_text())
        self.spec = ArraySpec.from_dict(cfg["spec"])
        self.steps = cfg["steps"]
        self.divisor = cfg["divisor"]
        self.backpressure = cfg["backpressure"]
        self.rng = np.random.default_rng(cfg["seed"])
        self.initial = State(*(np.array(cfg["initial"][k], dtype=np.int64) for k in ("v", "i", "ref", "pulse")))
        self.commands = (folder / "commands.bin").read_bytes()
        self.done_after = cfg["done_records"]  # stop after this many 'D' records
        self.scoreboard = Scoreboard(self.spec, self.initial, self.steps)
        ext = np.zeros((self.steps, self.spec.neurons), dtype=np.int64)
        self.consumer = MonitorConsumer(self.spec, self.steps, self.scoreboard, ext, monitor_pack(self.spec))
        self.received = bytearray()
        self.framing_errors = 0
        self.finished = Event()

    @property
    def bit_ns(self) -> int:
        return self.divisor * CLOCK_PERIOD_NS

    async def send(self):
        """The host's bytes, 8N1, least significant bit first."""
        rx = self.dut.rx
        for byte in self.commands:
            for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [1]:
                rx.value = bit
                await Timer(self.bit_ns, unit="ns")

    async def listen(self):
        """Bytes from `tx`: find the start edge, sample every bit in its middle; the host's parser
        counts the done records as they complete (garbage is left for the comparison to report)."""
        tx, dones = self.dut.tx, 0
        parser, parsing = RecordParser(self.spec), True
        while True:
            await FallingEdge(tx)
            await Timer(self.bit_ns + self.bit_ns // 2, unit="ns")
            byte = 0
            for k in range(8):
                byte |= int(tx.value) << k
                await Timer(self.bit_ns, unit="ns")
            if not int(tx.value):
                self.framing_errors += 1
            self.received.append(byte)
            if parsing:
                try:
                    dones += sum(1 for r in parser.feed(bytes([byte])) if r.tag == "done")
                except ProtocolError:
                    parsing = False
                if dones >= self.done_after:
                    self.finished.set()

    async def probe(self):
        """The array's every update, to the scoreboard; ready drops in random bursts."""
        dut, clk = self.dut, self.dut.clk
        hold = 0
        while True:
            if not int(dut.monitor__valid.value):
                dut.monitor__ready.value = 1
                await RisingEdge(dut.monitor__valid)
                await FallingEdge(clk)
                continue
            if hold == 0 and self.rng.random() < self.backpressure:
                hold = int(self.rng.integers(1, 64))
            if hold:
                hold -= 1
                dut.monitor__ready.value = 0
            else:
                dut.monitor__ready.value = 1
                self.consumer.take(read_bits(dut.monitor__payload))
            await FallingEdge(clk)


@cocotb.test()
async def board_round_trip(dut):
    folder = Path(os.environ["LAPICQUE_TB_DIR"])
    bench = BoardBench(dut, folder)
    dut.rx.value = 1
    dut.monitor__ready.value = 1
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    cocotb.start_soon(bench.listen())
    cocotb.start_soon(bench.probe())
    cocotb.start_soon(bench.send())
    spec = bench.spec
    line_ns = (len(bench.commands) + 64) * 10 * bench.bit_ns
    run_ns = bench.steps * (spec.depth * (spec.neurons + 8) + 64) * CLOCK_PERIOD_NS * 4
    records_ns = bench.steps * spec.neurons * 20 * 10 * bench.bit_ns  # every neuron spiking and watched
    timed_out = False
    try:
        await with_timeout(bench.finished.wait(), line_ns + run_ns + records_ns, "ns")
    except TimeoutError:
        timed_out = True
    sb = bench.scoreboard
    results = {
        "received": bytes(bench.received).hex(),
        "framing_errors": bench.framing_errors,
        "timed_out": timed_out,
        "steps_checked": bench.consumer.steps_seen,
        "updates_checked": bench.consumer.steps_seen * spec.neurons,
        "bit_exact_mismatches": sb.bit_exact_mismatches,
        "first_mismatch": sb.first_mismatch.to_dict() if sb.first_mismatch else None,
    }
    write_json(folder / "results.json", results)
    assert not timed_out, "the board stopped answering"
    assert sb.bit_exact_mismatches == 0, f"first mismatch: {results['first_mismatch']}"
