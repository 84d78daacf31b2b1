"""A network core on a board (issue 20): the top, the fit estimate and the build, beside the array's.

Which core: a board with SPRAM (the iCE40 UP5K of the iCEBreaker, 120 kbit of block RAM) gets the serial core
(`hdl.serial_network`: state, accumulators and history in the SPRAMs, one update or connection at a time, row
keys hashed on the fly, no DSP block); every other board the parallel one (`hdl.network`, lanes side by side).

The network is in the bitstream: parameters, initial state, stored rows and row keys are the memories' initial
contents (the serial core copies its initial membranes from a ROM into the SPRAM after reset), so the board needs
no loading. After reset the core runs without pause (65535 steps at a time); LED 0
shows it busy and LED 1 toggles on every spike, so that every update reaches a pin and synthesis keeps it all.
Speed against biological time comes from the core's cycle replay (`hdl.network.step_cycles`) over the fixed
model's own spikes at the network's rates, at the clock the build met.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import numpy as np
from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib import io

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic, write_json
from lapicque.hdl.datapath import MULTIPLIER_BITS
from lapicque.hdl.external import has_external
from lapicque.hdl.layouts import bits_for, param_layout, state_layout
from lapicque.provenance import provenance

from .board import Board, pll_for
from .estimate import ECP5_BRAM, ICE40_BRAM, LOGIC_MARGIN, bram_blocks
from .top import clocking

#: DSP blocks a row generator's hash takes per number it draws in a cycle (it draws one per lane; measured on the
#: builds)
GENERATOR_DSP = {"ice40": 6, "ecp5": 6}
#: the datapath's pipeline stages on a board: every stage cut, what 90 MHz on an ECP5 needs
BOARD_LATENCY = 7
#: numbers a row generator draws a cycle on a board (the simulated core draws one per lane): CUBA's 8-wide
#: generator (48 more MULT18X18D and every lane's queue of 8-slot beats) did not route on the ECP5-85F (nextpnr's
#: router still had 40,000 of 78,000 arcs to route after an hour), nor width 2 in 20 minutes; width 1 met 90 MHz
#: (BENCHMARKS.md)
BOARD_GENERATOR_WIDTH = 1
#: logic per network core: fixed part (control, propagation, generators) + per lane (datapath with two
#: channels, accumulation pipeline), LUT4s or logic cells; from the builds of BENCHMARKS.md (CUBA, 4000 x 8
#: lanes on the ECP5-85F: 10,433 LUTs), with room
NETWORK_LOGIC = {"ice40": (2500, 1800), "ecp5": (2000, 900)}


#: the serial core's logic cells on the UP5K: the iCEBreaker CUBA build's 4,264 (BENCHMARKS.md), the margin on top
SERIAL_LOGIC = 4300


#: the serial core's clock on the UP5K: its longest paths (a connection's read-add-write of the SPRAM, the row
#: generator's hash in logic) make 26.2-26.7 MHz (BENCHMARKS.md), so a build asks for 24 unless told otherwise
SERIAL_CLOCK_MHZ = 24.0


def default_network_clock(board: Board) -> float:
    """The clock a network build asks for when not told: the serial core's on a board with SPRAM, else the
    board's."""
    return SERIAL_CLOCK_MHZ if core_kind(board) == "serial" else board.default_clock_mhz


def core_kind(board: Board) -> str:
    """"serial" on a board with SPRAM (the UP5K: its block RAM holds no thousand-neuron state), else "parallel"."""
    return "serial" if board.has_spram else "parallel"


class NetworkBoardTop(Elaboratable):
    def __init__(self, board: Board, net, rows, clock_mhz: float, latency: int = BOARD_LATENCY,
                 generator_width: int = BOARD_GENERATOR_WIDTH):
        from lapicque.hdl.network import NetworkCore
        from lapicque.hdl.serial_network import SerialNetworkCore

        self.board = board
        self.pll = pll_for(board, clock_mhz)
        self.kind = core_kind(board)
        if self.kind == "serial":
            self.core = SerialNetworkCore(net, rows, latency=latency)
        else:
            self.core = NetworkCore(net, rows, latency=latency, generator_width=min(generator_width, net.lanes))

    def elaborate(self, platform):
        m = Module()
        clocking(m, platform, self.board, self.pll)
        core = self.core
        m.submodules.core = core
        m.d.comb += [core.run.valid.eq(1), core.run.payload.eq(0xFFFF)]  # run for ever, 65535 steps at a time
        toggle = Signal()
        spiked = Signal()
        m.d.comb += spiked.eq(core.monitor.valid & sum(lane.spike for lane in core.monitor.lanes).bool())
        with m.If(spiked):
            m.d.sync += toggle.eq(~toggle)
        for k, value in enumerate((core.busy, toggle)[:self.board.leds]):
            m.submodules[f"led{k}"] = led = io.Buffer("o", platform.request("led", k, dir="-"))
            m.d.comb += led.o.eq(value)
        return m


@dataclass
class NetworkEstimate:
    needs: dict[str, int]
    capacity: dict[str, int]
    memories: dict[str, int]  # block RAMs per memory kind

    def shortfalls(self) -> list[str]:
        return [name for name, need in self.needs.items() if need > self.capacity.get(name, 0)]


def estimate_network(board: Board, net, rows, generator_width: int = BOARD_GENERATOR_WIDTH) -> NetworkEstimate:
    """The serial core's (`estimate_serial`) on a board with SPRAM; else block RAMs per memory kind (per lane: state,
    parameters, history, both accumulator banks per channel, row info and entries; per regenerated projection:
    row keys and per-source weights), multipliers (per lane one per channel and the leak) and logic."""
    from lapicque.hdl.network import history_depth, population_words, row_field_bits, row_tables, skip_tables

    if core_kind(board) == "serial":
        return estimate_serial(board, net, rows)
    configs = ICE40_BRAM if board.family == "ice40" else ECP5_BRAM
    tables = skip_tables(rows)
    lanes, depth, channels = net.lanes, net.depth, len(net.channels)
    rowinfo, entries, _ = row_tables(net, rows)
    entry_bits, length_bits = row_field_bits(rowinfo, entries)
    memories = {
        "state": lanes * bram_blocks(depth, state_layout(net).size, configs),
        # none when every population's neurons share their parameters (a word per population, in logic)
        "param": 0 if population_words(net) is not None else lanes * bram_blocks(depth, param_layout(net).size,
                                                                                  configs),
        "history": lanes * bram_blocks(history_depth(net), bits_for(depth), configs),
        "acc": lanes * channels * 2 * bram_blocks(depth, net.acc_bits, configs),
        "rowinfo": sum(bram_blocks(len(r), entry_bits + length_bits, configs) for r in rowinfo if r),
        "entries": sum(bram_blocks(len(e), bits_for(depth) + net.widths.w, configs) for e in entries if e),
        "keys": sum(bram_blocks(part.source_size, 32, configs) for part in rows
                    if getattr(part, "procedural", None) is not None),
        # each row generator's skip table (one per distinct table)
        "tables": sum(bram_blocks(len(table), max(1, max(table).bit_length()), configs) for table in tables),
    }
    fixed, per_lane = NETWORK_LOGIC[board.family]
    logic = fixed + per_lane * lanes * (1 + 0.3 * (channels - 1))
    # per lane one multiply per channel and the leak's (two halves above 18 bits); per generator its hash's
    # partial products (measured: 6 MULT18X18D on the ECP5, 6 of the UP5K's 8 DSPs); per lane with external input
    # (hdl/external.py) the same hash and the count's multiply by its weight (counted, not yet measured on a build)
    multipliers = lanes * (channels + (2 if net.widths.v > MULTIPLIER_BITS else 1))
    if board.family == "ice40":  # a 16 x 16 DSP per multiply up to 16 bits, more for wider ones
        multipliers *= ceil(max(net.widths.v, net.widths.i) / 16)
    # a generator hashes `generator_width` numbers a cycle (at most one per lane, as `NetworkBoardTop` makes it)
    multipliers += len(tables) * GENERATOR_DSP[board.family] * min(generator_width, lanes)
    if has_external(net):  # every lane's Poisson input hashes too (the same partial products), and scales its count
        multipliers += lanes * (GENERATOR_DSP[board.family] + 1)
    needs = {"bram": sum(memories.values()), "dsp": multipliers}
    logic_name = "logic_cells" if board.family == "ice40" else "luts"
    needs[logic_name] = ceil(logic / LOGIC_MARGIN)
    capacity = {k: board.capacity.get(k, 0) for k in needs}
    return NetworkEstimate(needs, capacity, memories)


def estimate_serial(board: Board, net, rows) -> NetworkEstimate:
    """The serial core: SPRAMs for its store (state, accumulators, history), block RAM for what never changes
    (initial membranes, `filled` bits, parameters unless a word per population, stored rows, skip tables,
    per-source weights), no DSP block (its multiplies are logic: synthesis runs without -dsp), and its logic."""
    from lapicque.hdl.network import population_words, row_field_bits, row_tables, skip_tables
    from lapicque.hdl.serial_network import SPRAM_DEPTH, serial_history, store_depth, word_bits

    rowinfo, entries, _ = row_tables(net, rows)
    entry_bits, length_bits = row_field_bits(rowinfo, entries)
    tables = skip_tables(rows)
    depth = net.neurons
    memories = {
        "initial": bram_blocks(depth, net.widths.v, ICE40_BRAM),
        "filled": bram_blocks(depth, 1, ICE40_BRAM),
        "param": 0 if population_words(net) is not None else bram_blocks(depth, param_layout(net).size, ICE40_BRAM),
        "rowinfo": bram_blocks(len(rowinfo[0]), entry_bits + length_bits, ICE40_BRAM) if rowinfo[0] else 0,
        "entries": bram_blocks(len(entries[0]), bits_for(depth) + net.widths.w, ICE40_BRAM) if entries[0] else 0,
        "tables": sum(bram_blocks(len(table), max(1, max(table).bit_length()), ICE40_BRAM) for table in tables),
        "weights": sum(bram_blocks(part.source_size, net.widths.w, ICE40_BRAM) for part in rows
                       if getattr(part, "procedural", None) is not None and np.ndim(part.procedural.weight)),
    }
    spram = ceil(word_bits(net) / 16) * ceil(store_depth(net, serial_history(net)) / SPRAM_DEPTH)
    needs = {"bram": sum(memories.values()), "spram": spram, "dsp": 0,
             "logic_cells": ceil(SERIAL_LOGIC / LOGIC_MARGIN)}
    capacity = {k: board.capacity.get(k, 0) for k in needs}
    return NetworkEstimate(needs, capacity, {**memories, "store (SPRAM)": spram})


def check_network_fits(board: Board, net, rows, generator_width: int = BOARD_GENERATOR_WIDTH) -> NetworkEstimate:
    est = estimate_network(board, net, rows, generator_width)
    short = est.shortfalls()
    if short:
        name = short[0]
        biggest = (max((k for k in est.memories if "SPRAM" not in k), key=est.memories.get) if name == "bram"
                   else None)
        detail = f" (the most: {biggest}, {est.memories[biggest]} blocks)" if biggest else ""
        raise LapicqueError(f"the network does not fit {board.name}: it needs {est.needs[name]} {name}, the device "
                            f"has {est.capacity[name]}{detail}; use fewer neurons or lanes (--scale)")
    return est


def realtime(net, rows, latency: int, clock_mhz: float, dt_ms: float, steps: int = 2000,
             generator_width: int | None = None, kind: str = "parallel") -> dict:
    """The core's cycles per step over `steps` of the fixed model's own activity (the cycle replay of the `kind` of
    core), and what they make at `clock_mhz`: timesteps per second and the factor against biological time (dt_ms
    per step)."""
    from lapicque.golden.network_model import NetworkModel
    from lapicque.hdl.network import lane_lengths
    from lapicque.hdl.serial_network import replay_step

    model = NetworkModel(net, compiled=rows)
    lengths = lane_lengths(rows, net.lanes)
    spikes_by_step, cycles = [], 0
    for t in range(steps):
        result = model.step()
        spikes_by_step.append([int(n) for n in result.spike.nonzero()[0]])
        cycles += replay_step(kind, net, rows, spikes_by_step, t, latency, lengths, generator_width)
    per_step = cycles / steps
    steps_per_s = clock_mhz * 1e6 / per_step
    return {"cycles_per_step": round(per_step, 2), "steps_simulated": steps,
            "spikes_per_step": round(sum(map(len, spikes_by_step)) / steps, 3),
            "timesteps_per_s": round(steps_per_s, 1), "realtime_factor": round(steps_per_s * dt_ms / 1000.0, 3)}


def build_network(board: Board, net, rows, out: Path, *, name: str, clock_mhz: float | None = None,
                  seed: int | None = None, dt_ms: float = 0.1, console=None,
                  generator_width: int = BOARD_GENERATOR_WIDTH) -> dict:
    """Synthesise, place and route the network's board top; writes OUT/report.json and the bitstream."""
    from lapicque.hdl.network import history_depth
    from lapicque.hdl.serial_network import STORE

    from .flow import BITSTREAM_SUFFIX, NAME, _console, run_tools, tool_versions

    console = console or _console()
    clock_mhz = clock_mhz or default_network_clock(board)
    est = check_network_fits(board, net, rows, generator_width)
    top = NetworkBoardTop(board, net, rows, clock_mhz, generator_width=generator_width)
    # the parallel core's memories have initial contents: no SPRAM (which takes none). The serial core's store
    # goes to SPRAM, without its (zero) initial contents, which nothing reads: the state is copied in after reset,
    # an accumulator word is read only behind its `filled` bit (block RAM, initially clear), a history entry only
    # after its write; its multiplies stay logic (its datapath and hash want more DSP blocks than the UP5K has)
    overrides = None
    if board.family == "ice40":
        overrides = ({"synth_opts": "-dsp"} if top.kind == "parallel" else
                     {"synth_opts": "-spram", "script_after_read": f"delete t:$meminit_v2 r:MEMID=\\{STORE} %i"})
    results, yosys_version, work = run_tools(board, top, out, seed, console, overrides)
    clock = top.pll.output_mhz
    timing_met = results["fmax_mhz"] >= clock
    achieved = clock if timing_met else results["fmax_mhz"]
    with console.status("replaying the core's cycles over the fixed model's activity"):
        speed = realtime(net, rows, BOARD_LATENCY, achieved, dt_ms, generator_width=top.core.generator_width,
                         kind=top.kind)
    suffix = BITSTREAM_SUFFIX[board.family]
    bitstream = out / f"{NAME}{suffix}"
    write_atomic(bitstream, (work / f"{NAME}{suffix}").read_bytes())
    report = {
        "board": board.name,
        "device": board.device,
        "network": name,
        "neurons": net.neurons,
        "populations": {pop.name: pop.size for pop in net.populations.values()},
        "synapses": int(sum(part.rows.nnz for part in rows)),
        "regenerated_projections": [pr for pr, part in zip(net.projections, rows, strict=True)
                                    if getattr(part, "procedural", None) is not None],
        "lanes": net.lanes,
        "core": top.kind,
        # the spike history's entries, and what the worst case needs (every neuron spiking in each of the last
        # max_delay steps): a run that needs more raises the core's sticky `history_overflow`
        "history_entries": top.core.history,
        "history_worst_case": history_depth(net),
        "generator_width": top.core.generator_width,
        "widths": {k: getattr(net.widths, k) for k in ("v", "i", "w", "bias", "ext", "refractory")},
        "resources": results["resources"],
        "estimate": est.needs,
        "estimate_memories": est.memories,
        "memories": results["memories"],
        "clock_target_mhz": clock_mhz,
        "clock_mhz": round(clock, 4),
        "fmax_mhz": results["fmax_mhz"],
        "timing_met": timing_met,
        "slack_ns": round(1e3 / clock - 1e3 / results["fmax_mhz"], 3) if results["fmax_mhz"] else None,
        "placement_seed": seed,
        "dt_ms": dt_ms,
        **speed,
        "bitstream": str(bitstream),
        "tool_versions": tool_versions(board, yosys_version),
        "python": sys.version.split()[0],
        "provenance": provenance(),
    }
    write_json(out / "report.json", report)
    return report
