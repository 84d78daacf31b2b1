"""cocotb testbench of `NeuronArray`: drives the configuration, the run and the stimulus, and back-pressures the
outputs, run by `lapicque.sim.runner`; the simulator records the outputs' transfers itself and the parent
process (`lapicque.sim.verify`, `sim/array_check.py`) checks them as they are written.

Protocol with the DUT: everything is driven and sampled at the falling clock edge. The DUT's
`valid` and `ready` outputs never depend on the testbench's inputs in the same cycle (its stalls
come from registered FIFO levels), so a value read at the falling edge is what the next rising edge
samples, and a handshake is known when the testbench drives its side. The testbench sleeps through
cycles where no stream can move (most of the spike propagation) and wakes on the DUT's `valid` or
`ready` rising, which is what makes it fast.

Configuration comes from the folder in `LAPICQUE_TB_DIR` (written by `lapicque.sim.verify`):
`config.json` (spec, options) and `stimulus.npz` (initial state, external input); its own results
(time-out, the array's counters, wall-clock marks) go back as `results.json`. With
`LAPICQUE_TB_PROFILE=1` in the environment the run phase is profiled with cProfile into `profile.out` in the
same folder.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer

from lapicque.files import write_atomic
from lapicque.golden.neuron import State
from lapicque.hdl.harness import (
    packed_stim_layout,
    stim_pack,
)
from lapicque.hdl.layouts import (
    STAT_NAMES,
    cfg_word,
    neuron_writes,
    stats_layout,
    unpack,
    weight_writes,
)
from lapicque.sim.bits import bits_to_word, insert
from lapicque.sim.runner import CLOCK_PERIOD_NS
from lapicque.spec import ArraySpec

CLOCK_NS = CLOCK_PERIOD_NS  # the clock is made in Verilog by the testbench top
#: idle cycles (the array not busy, no stream moving) after the last update before a spike event the
#: monitor reported but the AER stream has not carried counts as lost; the packer flushes a partial
#: beat within a few cycles of the array going idle
AER_DRAIN_CYCLES = 64
class ArrayBench:
    def __init__(self, dut, folder: Path):
        self.dut = dut
        self.folder = folder
        cfg = json.loads((folder / "config.json").read_text())
        self.options = cfg["options"]
        self.spec = ArraySpec.from_dict(cfg["spec"])
        stim = np.load(folder / "stimulus.npz")
        self.ext = stim["ext"].astype(np.int64)
        self.initial = State(*(stim[k].astype(np.int64) for k in ("v", "i", "ref", "pulse")))
        self.steps = int(self.ext.shape[0])
        self.rng = np.random.default_rng(self.options["seed"])

    # -- configuration -------------------------------------------------------------------------
    async def configure(self):
        dut, spec = self.dut, self.spec
        writes = neuron_writes(spec, self.initial) + weight_writes(spec)
        payload, valid, ready = dut.cfg__payload, dut.cfg__valid, dut.cfg__ready
        while not ready.value:  # the array clears its accumulators after reset
            await FallingEdge(dut.clk)
        for write in writes:
            payload.value = cfg_word(spec, write)
            valid.value = 1
            await FallingEdge(dut.clk)
        valid.value = 0

    def stimulus_words(self) -> list[int]:
        """Wide stimulus transfers in the order the array consumes them (step, local index, lane).

        The last transfer is padded with zero beats that the array never consumes.
        """
        spec, K = self.spec, stim_pack(self.spec)
        layout = packed_stim_layout(spec, K)
        bits_per = spec.widths.ext
        count = K * spec.lanes
        offsets = np.arange(count) * bits_per
        flat = self.ext.reshape(-1)  # neuron n = k * lanes + lane, so this is consumption order
        flat = np.concatenate([flat, np.zeros(-len(flat) % count, dtype=np.int64)]).reshape(-1, count)
        words = []
        for row in flat:
            bits = np.zeros(layout.size, dtype=np.uint8)
            insert(bits, offsets, bits_per, row)
            words.append(bits_to_word(bits))
        return words

    # -- the run -------------------------------------------------------------------------------
    async def run(self):
        dut, spec, opts = self.dut, self.spec, self.options
        D = spec.depth
        rng = self.rng
        bp = float(opts["backpressure"])
        stim_payload, stim_valid = dut.stim__payload, dut.stim__valid
        mon_ready, aer_ready = dut.monitor__ready, dut.spikes__ready
        status, attention, busy_signal, clk = dut.status, dut.attention, dut.busy, dut.clk
        # the simulator records every output transfer itself (runner.ARRAY_RECORDED) and the parent process
        # checks the records: the testbench wakes for an output transfer only when it back-pressures them
        dut.watch.value = int(bp > 0)

        words = self.stimulus_words()
        # back-pressure comes in bursts: a burst starts with probability bp when a transfer could
        # happen; output holds last up to a few lanes' depth, long enough to reach back into the array
        burst = {"stim": 0, "mon": 0, "aer": 0}
        longest = {"stim": 8, "mon": max(8, 16 * D), "aer": max(8, 16 * D)}
        # each stream's first transfer is held back for a long burst, so that short runs take every
        # stall: a full monitor FIFO, and (spikes held long enough that propagation stops behind the
        # AER FIFO) full spike queues
        opening = {"stim": 8, "mon": max(64, 64 * D), "aer": max(64, 64 * D)} if bp else {}

        def hold(name):
            if burst[name]:
                burst[name] -= 1
                return True
            if name in opening:
                burst[name] = opening.pop(name) - 1
                return True
            if bp and rng.random() < bp:
                burst[name] = int(rng.integers(1, longest[name] + 1))
                return True
            return False

        driven = {"stim_valid": 0, "mon_ready": 1, "aer_ready": 1}

        def drive(name, sig, value):
            if driven[name] != value:
                sig.value = value
                driven[name] = value

        self.progress = {"words_sent": 0}
        quiet_cycles = 0
        next_word = 0
        presented = False

        dut.run__payload.value = self.steps
        dut.run__valid.value = 1
        await FallingEdge(clk)
        dut.run__valid.value = 0
        while True:
            st = status.value.to_unsigned()
            stim_ready, mon_valid, aer_valid, busy = st & 1, (st >> 1) & 1, (st >> 2) & 1, (st >> 3) & 1
            hot = False
            # -- stimulus driver
            if next_word < len(words):
                if not presented:
                    if hold("stim"):
                        drive("stim_valid", stim_valid, 0)
                    else:
                        stim_payload.value = words[next_word]
                        drive("stim_valid", stim_valid, 1)
                        presented = True
                if presented and stim_ready:
                    next_word += 1
                    presented = False
                    hot = True
            else:
                drive("stim_valid", stim_valid, 0)
            # -- the outputs' back-pressure (their transfers are recorded by the simulator)
            for name, valid, ready, key in (("mon", mon_valid, mon_ready, "mon_ready"),
                                            ("aer", aer_valid, aer_ready, "aer_ready")):
                if valid and bp:
                    hot = True  # look again next cycle: another valid may rise as this one falls
                    drive(key, ready, 0 if hold(name) else 1)
                else:
                    drive(key, ready, 1)
            self.progress.update(words_sent=next_word, busy=busy)
            stimulus_sent = next_word == len(words)
            if stimulus_sent and not busy and not mon_valid and not aer_valid and not any(burst.values()):
                # the array is idle and its packers' last transfers recorded: a spike event still on its way
                # after this many quiet cycles is lost (the parent's comparison names it)
                quiet_cycles += 1
                if quiet_cycles > AER_DRAIN_CYCLES:
                    break
                await FallingEdge(clk)
                continue
            quiet_cycles = 0
            unsent = not stimulus_sent and not presented  # held back this cycle: offer it next cycle
            if hot or unsent or any(burst.values()) or not busy:
                await FallingEdge(clk)
            elif stimulus_sent:
                # nothing left to drive: sleep until an output needs back-pressure or the run ends
                await First(RisingEdge(attention), FallingEdge(busy_signal))
                await FallingEdge(clk)
            else:
                # nothing can move until the DUT raises a valid or a ready: sleep through it
                await RisingEdge(attention)
                await FallingEdge(clk)

    def read_stats(self) -> dict:
        return unpack(stats_layout(), self.dut.stats.value.to_unsigned())


@cocotb.test()
async def verify_array(dut):
    entered = time.time()  # wall clock: the parent process times the simulator's start against it
    folder = Path(os.environ["LAPICQUE_TB_DIR"])
    bench = ArrayBench(dut, folder)
    for sig in (dut.run__valid, dut.cfg__valid, dut.stim__valid):
        sig.value = 0
    for sig in (dut.monitor__ready, dut.spikes__ready):
        sig.value = 1
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    spec = bench.spec
    # an array that never takes its configuration (say, one that never ends clearing after reset) is a
    # timed-out run, like one that stops making progress later
    configure0 = time.perf_counter()
    configure = cocotb.start_soon(bench.configure())
    await First(configure.complete, Timer((spec.neurons * (spec.neurons + 8) + 10_000) * CLOCK_NS, unit="ns"))
    configured = configure.done()
    if not configured:
        configure.cancel()
    start_stats = bench.read_stats()
    configure_s = time.perf_counter() - configure0
    budget_cycles = bench.steps * (spec.depth * (spec.neurons + 4) + 64) * 4 + 10_000
    if os.environ.get("LAPICQUE_TB_PROFILE"):
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    run_started = time.time()
    run = cocotb.start_soon(bench.run()) if configured else None
    if run is not None:
        await First(run.complete, Timer(budget_cycles * CLOCK_NS, unit="ns"))
    run_ended = time.time()
    timed_out = run is None or not run.done()
    tb_error = None
    if timed_out:
        if run is not None:
            run.cancel()
    elif run.exception() is not None:
        exc = run.exception()
        tb_error = f"{type(exc).__name__}: {exc}"
        cocotb.log.error("testbench failed: %s", tb_error)
    if os.environ.get("LAPICQUE_TB_PROFILE"):
        prof.disable()
        prof.dump_stats(str(folder / "profile.out"))
    end_stats = bench.read_stats()
    stats = {k: end_stats[k] - start_stats[k] for k in STAT_NAMES}
    results = {
        "timed_out": timed_out,
        "tb_error": tb_error,
        "stats": stats,
        "progress": getattr(bench, "progress", {}),
        # wall clock marks and the testbench's own parts (sim/verify.py's time split)
        "times": {"entered": entered, "configure_s": configure_s, "run_started": run_started, "run_ended": run_ended},
    }
    write_atomic(folder / "results.json", json.dumps(results))
