"""cocotb testbench of `NeuronArray`: driver, monitors and scoreboard, run by `lapicque.sim.runner`.

Protocol with the DUT: everything is driven and sampled at the falling clock edge. The DUT's
`valid` and `ready` outputs never depend on the testbench's inputs in the same cycle (its stalls
come from registered FIFO levels), so a value read at the falling edge is what the next rising edge
samples, and a handshake is known when the testbench drives its side. The testbench sleeps through
cycles where no stream can move (most of the spike propagation) and wakes on the DUT's `valid` or
`ready` rising, which is what makes it fast.

Configuration comes from the folder in `LAPICQUE_TB_DIR` (written by `lapicque.sim.verify`):
`config.json` (spec, options) and `stimulus.npz` (initial state, external input); results go
back as `results.json` and `traces.npz`. With `LAPICQUE_TB_PROFILE=1` in the environment the
run phase is profiled with cProfile into `profile.out` in the same folder.
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
    SPIKE_PACK,
    monitor_pack,
    packed_aer_layout,
    packed_monitor_layout,
    packed_stim_layout,
    stim_pack,
)
from lapicque.hdl.layouts import (
    STAT_NAMES,
    cfg_word,
    lane_update_layout,
    monitor_layout,
    neuron_writes,
    stats_layout,
    unpack,
    weight_writes,
)
from lapicque.sim.bits import FieldPlan, bits_to_word, insert, leaves
from lapicque.sim.expected import ExpectedReader
from lapicque.sim.progress import write_progress
from lapicque.sim.runner import CLOCK_PERIOD_NS, RecordFile, record_file
from lapicque.sim.scoreboard import FIELDS, Scoreboard
from lapicque.spec import ArraySpec

CLOCK_NS = CLOCK_PERIOD_NS  # the clock is made in Verilog by the testbench top
#: idle cycles (the array not busy, no stream moving) after the last update before a spike event the
#: monitor reported but the AER stream has not carried counts as lost; the packer flushes a partial
#: beat within a few cycles of the array going idle
AER_DRAIN_CYCLES = 64
#: seconds between the testbench's looks at the recorded transfers while the array runs (progress, early
#: checks); many transfers decoded at once cost far less than one at a time
LOOK_S = 0.2


class MonitorDecoder:
    """Decodes one wide monitor transfer (`pack` beats of every lane) into per-neuron field arrays."""

    def __init__(self, spec: ArraySpec, pack: int):
        wide = dict(packed_monitor_layout(spec, pack))
        self.items = FieldPlan([wide["items"].offset], wide["items"].width, False)
        mon = dict(monitor_layout(spec))
        upd = lane_update_layout(spec)
        beat_base = wide["data"].offset + np.arange(pack) * monitor_layout(spec).size
        lane_base = (beat_base[:, None] + mon["lanes"].offset + np.arange(spec.lanes)[None, :] * upd.size).ravel()
        self.fields = [(path[-1], FieldPlan(lane_base + off, width, sgn)) for path, off, width, sgn in leaves(upd)]
        self.timestep = FieldPlan(beat_base + mon["timestep"].offset, mon["timestep"].width, False)
        self.index = FieldPlan(beat_base + mon["index"].offset, mon["index"].width, False)
        self.cycle = FieldPlan(beat_base + mon["cycle"].offset, mon["cycle"].width, False)

    def decode(self, bits: np.ndarray):
        """Transfers [transfers, bits] -> (items [transfers], then [transfers, slots] timestep and index, and each
        field [transfers, slots x lanes])."""
        fields = {name: plan(bits) for name, plan in self.fields}
        return self.items(bits)[:, 0], self.timestep(bits), self.index(bits), fields


class MonitorConsumer:
    """Takes wide monitor transfers, checks that beats come in (step, local index) order, and
    hands each completed step to the scoreboard."""

    def __init__(self, spec: ArraySpec, steps: int, scoreboard: Scoreboard, ext: np.ndarray, pack: int):
        self.spec, self.scoreboard, self.ext, self.pack = spec, scoreboard, ext, pack
        self.decoder = MonitorDecoder(spec, pack)
        self.received = np.zeros((len(FIELDS), steps * spec.neurons), dtype=np.int64)
        self.beat_cycle = np.zeros(steps * spec.depth, dtype=np.int64)  # the cycle each beat was written back
        self.beats_seen = 0
        self.steps_seen = 0

    def take(self, bits: np.ndarray) -> None:
        """One transfer [bits], or many in order [transfers, bits] (decoded at once: far cheaper per transfer)."""
        bits = np.atleast_2d(bits)
        if not len(bits):
            return
        D, P, N, K = self.spec.depth, self.spec.lanes, self.spec.neurons, self.pack
        items, steps, index, fields = self.decoder.decode(bits)
        # a partial transfer fills the top slots
        held = np.arange(K)[None, :] >= (K - items)[:, None]  # [transfers, slots]
        first = self.beats_seen
        count = int(held.sum())
        if first + count > len(self.beat_cycle):
            raise AssertionError(f"the monitor carried {first + count} beats; the run has {len(self.beat_cycle)}")
        expected = np.arange(first, first + count)
        got_t, got_k = steps[held], index[held]
        wrong = np.flatnonzero((got_t != expected // D) | (got_k != expected % D))
        if wrong.size:
            j = int(wrong[0])
            raise AssertionError(
                f"monitor out of order: got step {got_t[j]} index {got_k[j]}, expected step "
                f"{expected[j] // D} index {expected[j] % D}")
        lanes_held = np.repeat(held, P, axis=1)
        lo, hi = first * P, (first + count) * P
        for k, name in enumerate(FIELDS):
            self.received[k, lo:hi] = fields[name][lanes_held]
        self.beat_cycle[first:first + count] = self.decoder.cycle(bits)[held]
        self.beats_seen += count
        while self.beats_seen >= (self.steps_seen + 1) * D:
            t = self.steps_seen
            self.scoreboard.check_step(self.received[:, t * N:(t + 1) * N], self.ext[t])
            self.steps_seen += 1


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
        self.pack = monitor_pack(self.spec)
        helper = ExpectedReader(folder) if self.options.get("model_helper") else None
        self.scoreboard = Scoreboard(self.spec, self.initial, self.steps, expected=helper)
        self.aer: list[tuple[int, int]] = []
        self.monitor: MonitorConsumer | None = None

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
        consumer = self.monitor = MonitorConsumer(spec, self.steps, self.scoreboard, self.ext, self.pack)
        aer_fields = {path: (off, width) for path, off, width, _ in leaves(packed_aer_layout(spec))}
        items_off, items_w = aer_fields[("items",)]
        aer_plan = [(aer_fields[("data", k, "timestep")], aer_fields[("data", k, "neuron")])
                    for k in range(SPIKE_PACK)]

        stim_payload, stim_valid = dut.stim__payload, dut.stim__valid
        mon_ready, aer_ready = dut.monitor__ready, dut.spikes__ready
        status, attention, busy_signal, clk = dut.status, dut.attention, dut.busy, dut.clk
        # the simulator records every output transfer itself (runner.ARRAY_RECORDED): the testbench reads the
        # records, and wakes for an output transfer only when it back-pressures them
        monitor_records = RecordFile(self.folder / record_file("monitor"), len(dut.monitor__payload))
        spike_records = RecordFile(self.folder / record_file("spikes"), len(dut.spikes__payload))
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

        self.progress = {"steps_seen": 0, "words_sent": 0}
        reported, report_every = 0, max(1, self.steps // 200)  # progress for the CLI, ~200 updates a run

        aer_items = FieldPlan([items_off], items_w, False)
        aer_timestep = FieldPlan([t_off for (t_off, _), _ in aer_plan], aer_plan[0][0][1], False)
        aer_neuron = FieldPlan([n_off for _, (n_off, _) in aer_plan], aer_plan[0][1][1], False)
        looked = time.perf_counter()

        def collect(now: bool = False) -> int:
            """Take the transfers recorded since the last look (at most every `LOOK_S`, unless `now`): the steps
            seen so far."""
            nonlocal reported, looked
            if not now and time.perf_counter() - looked < LOOK_S:
                return consumer.steps_seen
            looked = time.perf_counter()
            consumer.take(monitor_records.read())
            events = spike_records.read()
            if len(events):
                # a partial transfer holds its items in the top slots (see StreamPacker)
                held = np.arange(SPIKE_PACK)[None, :] >= (SPIKE_PACK - aer_items(events)[:, 0])[:, None]
                self.aer.extend(zip(aer_timestep(events)[held].tolist(), aer_neuron(events)[held].tolist(),
                                    strict=True))
            seen = consumer.steps_seen
            if seen - reported >= report_every or (seen == self.steps and reported != seen):
                write_progress(self.folder, seen, self.scoreboard.bit_exact_mismatches)
                reported = seen
            return seen

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
            step_seen = collect()
            self.progress.update(steps_seen=step_seen, words_sent=next_word, busy=busy)
            stimulus_sent = next_word == len(words)
            if stimulus_sent and not busy and not mon_valid and not aer_valid and not any(burst.values()):
                # the array is idle: its packers' last transfers are recorded within a few cycles
                step_seen = collect(now=True)
                if step_seen == self.steps and len(self.aer) == int(self.scoreboard.rtl["spike"].sum()):
                    break
                # an update or event still missing once the array has been quiet this long is lost: stop,
                # and let the comparison below name it (rather than wait for the timeout)
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


def aer_differences(spikes: np.ndarray, events: list[tuple[int, int]]) -> tuple[int, dict | None]:
    """Spike events the AER stream lost, duplicated or made up against the monitor's spikes
    [step, neuron]: (how many, the first as a mismatch: field "aer", expected and got the number of
    times the event was carried). Runs are at most 65535 steps: the timestep field does not wrap."""
    from collections import Counter

    wanted = Counter((int(t), int(n)) for t, n in np.argwhere(spikes))
    carried = Counter(events)
    bad = sorted(key for key in set(wanted) | set(carried) if wanted[key] != carried[key])
    if not bad:
        return 0, None
    t, n = bad[0]
    count = sum(abs(wanted[key] - carried[key]) for key in bad)
    return count, {"step": t, "neuron": n, "field": "aer", "expected": wanted[(t, n)], "got": carried[(t, n)]}


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
    wall0 = time.perf_counter()
    configure_s = wall0 - configure0
    budget_cycles = bench.steps * (spec.depth * (spec.neurons + 4) + 64) * 4 + 10_000
    if os.environ.get("LAPICQUE_TB_PROFILE"):
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    run = cocotb.start_soon(bench.run()) if configured else None
    if run is not None:
        await First(run.complete, Timer(budget_cycles * CLOCK_NS, unit="ns"))
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
    run_s = time.perf_counter() - wall0
    stats = {k: end_stats[k] - start_stats[k] for k in STAT_NAMES}
    sb = bench.scoreboard
    sb.finish(bench.ext)
    rtl = sb.rtl["spike"][: sb.steps].astype(bool)

    # the AER stream must carry exactly the spikes the monitor reported, each once
    aer0 = time.perf_counter()
    aer_mismatches, aer_mismatch = aer_differences(rtl, bench.aer) if not timed_out else (0, None)
    check_wall = time.perf_counter() - wall0
    write0 = time.perf_counter()
    compare_s = sb.compare_s + (write0 - aer0)

    # the cycle of each step's last write-back: its differences are the cycles each step took
    step_end_cycle = (bench.monitor.beat_cycle[spec.depth - 1::spec.depth][: sb.steps] if bench.monitor
                      else np.zeros(0, dtype=np.int64))
    np.savez_compressed(folder / "traces.npz", step_end_cycle=step_end_cycle,
                        **{k: v[: sb.steps] for k, v in sb.rtl.items()})
    coverage = sb.coverage()
    coverage["backpressure_stim"] = stats["stim_starved"]
    coverage["backpressure_spikes"] = stats["spike_backpressure"]
    coverage["backpressure_monitor"] = stats["monitor_backpressure"]
    coverage["queue_full"] = stats["stall_queue_full"]
    results = {
        "timed_out": timed_out,
        "tb_error": tb_error,
        "steps_checked": sb.steps,
        "updates_checked": sb.updates_checked,
        "bit_exact_mismatches": sb.bit_exact_mismatches + aer_mismatches,
        "first_mismatch": (sb.first_mismatch.to_dict() if sb.first_mismatch else aer_mismatch),
        "float_bound_violations": sb.float_bound_violations,
        "first_float_violation": sb.first_float_violation.to_dict() if sb.first_float_violation else None,
        "threshold_straddles": sb.threshold_straddles,
        "max_float_error_lsb": sb.max_float_error_lsb,
        "float_bound_lsb": sb.float_bound_lsb,
        "coverage": coverage,
        "stats": stats,
        "spikes_per_step": rtl.sum(axis=1).tolist(),
        "aer_events": len(bench.aer),
        "progress": getattr(bench, "progress", {}),
        "check_wall_s": check_wall,
        "model_wait_s": sb.expected.waited_s if sb.expected is not None else 0.0,
        # where the testbench's time went (issue 21; sim/verify.py adds the parent's parts)
        "times": {"entered": entered, "configure_s": configure_s, "run_s": run_s, "compare_s": compare_s,
                  "model_s": sb.model_s, "float_check_s": sb.float_check_s,
                  "write_s": time.perf_counter() - write0, "left": time.time()},
    }
    write_atomic(folder / "results.json", json.dumps(results))  # compact: per-step lists
