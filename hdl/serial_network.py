"""A network core for a small FPGA: one neuron or one connection at a time, out of one single-ported memory.

`SerialNetworkCore` runs the contract `NetworkCore` runs (`lapicque.golden.network_model`, one lane), with the
same ports, so the same testbench and scoreboard check it; it is what fits an iCE40 UP5K (the iCEBreaker), whose
120 kbit of block RAM hold neither CUBA's state (4000 x 59 bits) nor its accumulators, but whose four SPRAMs
(16384 x 16 bits each, single-ported, no initial contents) hold both. Everything that changes lives in one
memory, `store` (words of `word_bits`, four SPRAMs side by side for CUBA):

    n              neuron n's state (`state_layout`)
    N + n          its accumulators for the next step, every channel side by side (`acc_bits` each)
    2N + k         the spike history, a ring of `history` local indices

and one bit per neuron in block RAM, `filled`: its accumulators were written since its last update (a word not
filled reads as zeros, so nothing clears the accumulators). What never changes is block RAM or logic: the
initial membranes (a ROM the core copies into `store` after reset, before it takes a run), the parameters (a
word per population, or a ROM), stored rows (`rowinfo`, `entries`), the skip tables and per-source weights.

A timestep is two phases, one after the other (a single port allows nothing else):

    sweep        a period per neuron: read its state (and its `filled` bit, which it clears), write the state of
                 the update `ahead` periods before it, then, only if needed, read its accumulators (when filled)
                 and append the written update's spike to the history: 2 (N + ahead) cycles, one more per
                 filled neuron and one per spike
    propagation  for each delay d, the spikes of step t + 1 - d from the history, one at a time; for each of its
                 projections, a stored row from `rowinfo` and `entries`, or a regenerated one: its key hashed
                 (`SerialHash`, no key memory), then the `RowGenerator`'s targets; every connection a
                 read-modify-write of the target's accumulator word, two cycles

`serial_step_cycles` replays a step's cycles exactly (the tests compare every step). Not supported here:
external Poisson input (each lane's `PoissonInput` draws a count per neuron per step beside the sweep) and more
than one lane; `check_serial_core` says so before any work.
"""

from __future__ import annotations

from math import ceil

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from lapicque.errors import LapicqueError

from .datapath import BUGS as DATAPATH_BUGS
from .datapath import NeuronDatapath
from .external import has_external
from .layouts import TIMESTEP_BITS, bits_for, channel_field, param_layout, state_layout
from .network import (
    Mux_mod,
    delay_classes,
    first_projection,
    history_depth,
    lane_lengths,
    monitor_layout,
    param_words,
    population_word,
    population_words,
    regenerated_constants,
    row_field_bits,
    row_tables,
    skip_tables,
    step_cycles,
)
from .procedural import LATENCY as GENERATOR_LATENCY
from .procedural import RowGenerator, SerialHash, target_layout

#: deliberately wrong cores, for the verification's own tests: an accumulator word written without its
#: `filled` bit (the next spike to it adds to the previous step's sums); and the datapath's bugs
BUGS = ("filled_not_set",)
#: cycles a sweep spends on each neuron at least: its state's read and an update's write
PERIOD = 2
#: the store's memory name (a board build drops its initial contents by it: SPRAM takes none)
STORE = "store"
#: SPRAM words: the memory's depth is a multiple of it (and its width of 16 bits) on the board
SPRAM_DEPTH, SPRAM_WIDTH = 16384, 16


def check_serial_core(net) -> None:
    """What the serial core cannot run, as a one-line LapicqueError (before any work)."""
    if net.lanes != 1:
        raise LapicqueError(f"lanes = {net.lanes}: the serial core (small FPGAs) has one lane; give --lanes 1")
    if has_external(net):
        raise LapicqueError("the serial core (small FPGAs) has no external Poisson input yet: give a network "
                            "without [populations.NAME.external], or a board with block RAM for the parallel core")


def ahead(latency: int) -> int:
    """Periods between a neuron's reads and its update's write: the datapath advances once a period (in its B
    cycle), so a neuron loaded in period n enters it in period n + 1 and its update comes out `latency` periods
    later, where the pipeline holds it for that period's write (no queue, whatever the periods' lengths)."""
    return latency + 1


def word_bits(net) -> int:
    """The store's word: a state, or every channel's accumulator, or a history entry, rounded up to SPRAMs."""
    wanted = max(state_layout(net).size, len(net.channels) * net.acc_bits, bits_for(net.depth))
    return SPRAM_WIDTH * ceil(wanted / SPRAM_WIDTH)


def serial_history(net, wanted: int | None = None) -> int:
    """History entries: `history_depth`'s (every neuron of the last max_delay steps), or what is left of the
    SPRAM depth above state and accumulators when that is less (at least 1024; `history_overflow` says when a
    run needs more)."""
    full = history_depth(net, wanted)
    left = SPRAM_DEPTH * ceil(2 * net.neurons / SPRAM_DEPTH + 1e-9) - 2 * net.neurons
    room = 1 << max(0, left.bit_length() - 1) if left > 0 else 0
    return full if wanted is not None else max(1024, min(full, room))


def store_depth(net, history: int) -> int:
    return 2 * net.neurons + history


# -- the cycle replay ---------------------------------------------------------------------------------------
#: propagation's cycles: loading a delay's window; reading a history entry and taking its spike; looking at the
#: end of a window; a stored row's row info; a regenerated row's request and its first beat's wait (the
#: generator's pipeline and its output register); a connection; the row's end beat; the step's last cycle
CLASS_CYCLES, SPIKE_CYCLES, WINDOW_END_CYCLES, ROWINFO_CYCLES = 1, 2, 1, 1
REQUEST_CYCLES, FIRST_BEAT_CYCLES = 1, GENERATOR_LATENCY + 1
CONNECTION_CYCLES, END_BEAT_CYCLES, END_CYCLES = 2, 1, 1
#: a visit's first cycle (its row info read or its key's hash started), and the key's wait
VISIT_CYCLES, KEY_CYCLES = 1, SerialHash.LATENCY


def serial_step_cycles(net, rows, spikes_by_step: list[list[int]], step: int, latency: int) -> int:
    """The cycles `SerialNetworkCore` takes for timestep `step`, given the spikes (global indices) of every step so
    far: the sweep's 2 (N + ahead) cycles and one per neuron whose accumulators were written (by the previous
    step's propagation) and per spike, then for each delay d (longest first) the spikes of step t + 1 - d in
    the order they spiked, each visiting its projections of d: a stored row costs its row info and two cycles a
    connection, a regenerated one its key's hash, its request, the generator's first beat, two cycles a
    connection and its end beat."""
    cycles = PERIOD * (net.neurons + ahead(latency)) + len(filled_by(rows, spikes_by_step, step))
    cycles += len(spikes_by_step[step])
    for delay, members in delay_classes(rows):
        cycles += CLASS_CYCLES
        source = step + 1 - delay
        for n in (spikes_by_step[source] if source >= 0 else []):
            cycles += SPIKE_CYCLES
            for k in members:
                part = rows[k]
                row = n - part.source_offset
                if not 0 <= row < part.source_size:
                    continue
                length = int(part.rows.indptr[row + 1] - part.rows.indptr[row])
                cycles += VISIT_CYCLES + CONNECTION_CYCLES * length
                if getattr(part, "procedural", None) is not None:
                    cycles += KEY_CYCLES + REQUEST_CYCLES + FIRST_BEAT_CYCLES + END_BEAT_CYCLES
                else:
                    cycles += ROWINFO_CYCLES
        cycles += WINDOW_END_CYCLES
    return cycles + END_CYCLES


def filled_by(rows, spikes_by_step: list[list[int]], step: int) -> set[int]:
    """The neurons whose accumulators hold input for `step`: the targets of every connection delivered by the
    previous step's propagation (the spikes of step - d through the projections of delay d)."""
    targets = set()
    for part in rows:
        source = step - part.delay
        if source < 0:
            continue
        for n in spikes_by_step[source]:
            row = n - part.source_offset
            if 0 <= row < part.source_size:
                targets.update(part.rows.indices[part.rows.indptr[row]:part.rows.indptr[row + 1]].tolist())
    return targets


def replay_step(core: str, net, rows, spikes_by_step: list[list[int]], step: int, latency: int,
                lengths: list[np.ndarray] | None = None, generator_width: int | None = None) -> int:
    """The cycles the `core` ("parallel": `hdl.network.step_cycles`, with `lengths` and `generator_width`;
    "serial": `serial_step_cycles`) takes for timestep `step`."""
    if core == "serial":
        return serial_step_cycles(net, rows, spikes_by_step, step, latency)
    return step_cycles(net, rows, spikes_by_step, step, latency,
                       lane_lengths(rows, net.lanes) if lengths is None else lengths, generator_width)


def init_cycles(net) -> int:
    """Cycles from reset to the core taking a run: the initial state copied into the store, a word a cycle."""
    return net.neurons + 1


def key_base(net, part) -> int:
    """The part of a regenerated projection's row keys that does not depend on the source (the contract:
    key = hash32(base ^ source), base = hash32(seed + golden * (projection + 1)))."""
    from lapicque.golden.connectivity import GOLDEN, hash32, row_key

    projection = net.projections[part.name]
    index = net.projection_index(part.name)
    base = int(hash32((int(projection.seed) + GOLDEN * (index + 1)) & 0xFFFFFFFF))
    # the hardware hashes keys on the fly: they must be the ones the rows were drawn from
    if not np.array_equal(row_key(projection.seed, index, np.arange(part.source_size)).astype(np.int64),
                          np.asarray(part.procedural.keys, dtype=np.int64)):
        raise ValueError(f"projection {part.name}: its row keys are not the contract's")
    return base


class SerialNetworkCore(wiring.Component):
    """`net` (one lane) with its projections' rows (`rows`, as `NetworkCore` takes them).

    Ports as `NetworkCore`'s: `run` (steps to run, taken when idle, once the initial state is loaded), `busy`,
    `timestep`, `monitor` (every update, in the cycle its state is written), `monitor_valid`, `step_cycles`,
    `step_done`, `history_overflow` (sticky)."""

    #: numbers its row generators draw a cycle (what a board build reports beside the parallel core's)
    generator_width = 1

    def __init__(self, net, rows, *, latency: int = 1, history: int | None = None, inject_bug: str | None = None):
        if inject_bug is not None and inject_bug not in BUGS + DATAPATH_BUGS:
            raise ValueError(f"unknown bug {inject_bug!r}; one of {', '.join(BUGS + DATAPATH_BUGS)}")
        check_serial_core(net)
        if len(rows) != len(net.projections):
            raise ValueError(f"{len(rows)} realised projections for {len(net.projections)} in the spec")
        self.net, self.rows, self.latency, self.inject_bug = net, list(rows), latency, inject_bug
        self.history = serial_history(net, history)
        self.word_bits = word_bits(net)
        self.depth = store_depth(net, self.history)
        self.tables = skip_tables(self.rows)
        super().__init__({
            "run": In(stream.Signature(unsigned(16))),
            "busy": Out(1),
            "timestep": Out(TIMESTEP_BITS),
            "monitor": Out(monitor_layout(net)),
            "monitor_valid": Out(1),
            "step_cycles": Out(32),
            "step_done": Out(1),
            "history_overflow": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        net, rows = self.net, self.rows
        neurons, channels, slots = net.neurons, len(net.channels), net.max_delay + 1
        acc_bits, idx_bits = net.acc_bits, bits_for(net.depth)
        hist_bits = bits_for(self.history)
        s_layout = state_layout(net)

        # -- memories ------------------------------------------------------------------------------------
        store = Memory(shape=unsigned(self.word_bits), depth=self.depth, init=[], attrs={"ram_style": "huge"})
        m.submodules[STORE] = store
        store_r, store_w = store.read_port(), store.write_port()
        filled = Memory(shape=unsigned(1), depth=neurons, init=[])
        m.submodules.filled = filled
        filled_r, filled_w = filled.read_port(), filled.write_port()
        v_mask = (1 << net.widths.v) - 1
        initial = Memory(shape=unsigned(net.widths.v), depth=neurons, init=[int(v) & v_mask for v in net.v0()])
        m.submodules.initial = initial
        initial_r = initial.read_port()
        shared = population_words(net)
        if shared is None:
            params = Memory(shape=unsigned(param_layout(net).size), depth=neurons, init=param_words(net, 0))
            m.submodules.params = params
            params_r = params.read_port()
        store_addr = Signal(range(self.depth))
        store_data = Signal(self.word_bits)
        store_we = Signal()
        # the single port: a read or a write each cycle (the read data holds while writing, as an SPRAM's does)
        m.d.comb += [store_r.addr.eq(store_addr), store_w.addr.eq(store_addr), store_w.data.eq(store_data),
                     store_w.en.eq(store_we), store_r.en.eq(~store_we)]

        timestep = Signal(TIMESTEP_BITS)
        slot = Signal(range(slots))
        steps_left = Signal(16)
        cycles = Signal(32)
        m.d.comb += self.timestep.eq(timestep)
        m.d.sync += [cycles.eq(cycles + 1), self.step_done.eq(0)]

        write_pointer = Signal(hist_bits + 1)
        starts = Array(Signal(hist_bits + 1, name=f"start{s}") for s in range(slots))
        oldest = Signal(range(slots))  # the slot of the oldest step a propagation of this step reads
        m.d.comb += oldest.eq(Mux_mod(slot + (slots + 1 - net.max_delay), slots))
        overflow = Signal()
        m.d.comb += self.history_overflow.eq(overflow)

        # -- the sweep's datapath ----------------------------------------------------------------------
        dp = NeuronDatapath(net, latency=self.latency,
                            inject_bug=self.inject_bug if self.inject_bug in DATAPATH_BUGS else None)
        m.submodules.datapath = dp
        m.d.comb += dp.ext.eq(0)
        phase = Signal(2)  # a period's cycles: A (state read), B (update write), C (accumulator read), D (history)
        period = Signal(range(neurons + ahead(self.latency) + 1))
        issuing = Signal()  # the period's neuron is a real one (period < N)
        state_held = Signal(s_layout.size)
        param_now = Signal(param_layout(net).size)  # the period's neuron's parameters
        param_held = Signal(param_layout(net).size)
        index_held = Signal(idx_bits)
        load_acc = Signal()  # the accumulators read in the cycle before: load the datapath with them
        dp_state, dp_params = Signal(s_layout.size), Signal(param_layout(net).size)
        dp_acc = [Signal(signed(acc_bits), name=f"dp_acc{c}") for c in range(channels)]
        dp_valid, dp_index = Signal(), Signal(idx_bits)
        m.d.comb += [dp.state.eq(dp_state), dp.params.eq(dp_params),
                     *(getattr(dp, channel_field("acc", c)).eq(dp_acc[c]) for c in range(channels))]
        advance = Signal()  # the datapath moves (once a period, see below)
        stage_valid, stage_index = [dp_valid], [dp_index]
        for k in range(self.latency):
            v, i = Signal(name=f"dp_valid{k}"), Signal(idx_bits, name=f"dp_index{k}")
            with m.If(advance):
                m.d.sync += [v.eq(stage_valid[-1]), i.eq(stage_index[-1])]
            stage_valid.append(v)
            stage_index.append(i)
        m.d.sync += load_acc.eq(0)
        # the datapath moves once a period, in B: its inputs (loaded in B or, with accumulators to read, after C)
        # hold until then, and its output holds the update `ahead` periods on for that period's write
        m.d.comb += dp.en.eq(advance)
        result, result_index = dp.update, stage_index[-1]
        if shared is None:
            m.d.comb += [params_r.addr.eq(period), param_now.eq(params_r.data)]  # the address is the period's
        else:  # the population's word, by the neuron's index
            m.d.comb += param_now.eq(population_word(net, shared, period))

        # -- propagation's parts -----------------------------------------------------------------------
        classes = delay_classes(rows)
        order = [k for _, members in classes for k in members]
        class_of = [c for c, (_, members) in enumerate(classes) for _ in members]
        cls = Signal(range(max(1, len(classes))))
        member = Signal(range(max(1, len(order))))
        proj = Array(Const(k, range(max(1, len(rows)))) for k in order or [0])[member]
        pointer, window_end = Signal(hist_bits + 1), Signal(hist_bits + 1)
        spike = Signal(idx_bits)
        target_bits = bits_for(neurons)

        more, next_member = first_projection(rows, order, class_of, cls, spike, member)
        parts = rows or [_NoRows()]
        source_offset = Array(Const(p.source_offset, target_bits + 1) for p in parts)[proj]
        channel_of = Array(Const(p.channel, range(channels)) for p in parts)[proj]
        row_of_spike = Signal(target_bits + 1)
        m.d.comb += row_of_spike.eq(spike - source_offset)
        # stored rows: their row info (start, length) and entries (target, weight), ROMs read a cycle on
        rowinfo, entries, bases = row_tables(net, rows)
        entry_bits, length_bits = row_field_bits(rowinfo, entries)
        info_rom = Memory(shape=unsigned(entry_bits + length_bits), depth=max(1, len(rowinfo[0])),
                          init=[start | (length << entry_bits) for start, length in rowinfo[0]])
        entry_rom = Memory(shape=unsigned(idx_bits + net.widths.w), depth=max(1, len(entries[0])), init=entries[0])
        m.submodules.rowinfo, m.submodules.entries = info_rom, entry_rom
        info_r, entry_r = info_rom.read_port(), entry_rom.read_port()
        base = Array(Const(b, bits_for(len(rowinfo[0]) + 1)) for b in bases or [0])[proj]
        m.d.comb += info_r.addr.eq(base + row_of_spike)
        entry_next = Signal(entry_bits)  # the entry the next connection's cycle shows
        left = Signal(length_bits + 1)
        # regenerated rows: the key hashed from the row, a generator per skip table, per-source weights
        generated = [getattr(p, "procedural", None) for p in parts]
        m.submodules.key_hash = key_hash = SerialHash()
        key_bases = Array(Const(key_base(net, p) if g is not None else 0, 32) for p, g in zip(parts, generated,
                                                                                               strict=True))[proj]
        m.d.comb += key_hash.x.eq(key_bases ^ row_of_spike)
        generators = []
        # one position width for every generator: their beats are chosen between by one multiplexer
        longest = max((gen.target_size for gen in generated if gen is not None), default=2)
        position_bits = max(1, (longest - 1).bit_length())
        for g, table in enumerate(self.tables):
            generators.append(RowGenerator(list(table), target_bits=position_bits))
            m.submodules[f"rows{g}"] = generators[-1]
        weight_data = []
        for k, gen in enumerate(generated):
            if gen is not None and np.ndim(gen.weight):
                mask = (1 << net.widths.w) - 1
                weights = Memory(shape=unsigned(net.widths.w), depth=len(gen.weight),
                                 init=[int(x) & mask for x in gen.weight])
                m.submodules[f"weights{k}"] = weights
                port = weights.read_port()
                m.d.comb += port.addr.eq(row_of_spike)
                weight_data.append(port.data.as_signed())
            else:
                weight_data.append(Const(int(gen.weight) if gen is not None else 0, signed(net.widths.w)))
        is_generated, generator_of, target_offset, target_size = regenerated_constants(generated, self.tables, proj,
                                                                                       target_bits)
        key = Signal(32)
        generator_now = Signal(range(max(1, len(self.tables))))
        requesting, taking = Signal(), Signal()
        for g, gen in enumerate(generators):
            here = generator_now == g
            m.d.comb += [gen.row.valid.eq(requesting & here), gen.row.payload.key.eq(key),
                         gen.row.payload.length.eq(target_size), gen.target.ready.eq(taking & here)]
        if generators:
            beat_valid = Array(gen.target.valid for gen in generators)[generator_now]
            beat = data.View(target_layout(position_bits),
                             Array(gen.target.payload.as_value() for gen in generators)[generator_now])
            row_ready = Array(gen.row.ready for gen in generators)[generator_now]
        else:  # no regenerated rows: the states that would wait for them are never entered
            beat_valid, row_ready = Const(0), Const(0)
            beat = Signal(target_layout(1))

        # a connection: the target's accumulator word read, then written with the weight added to its channel
        conn_target = Signal(idx_bits)
        conn_channel = Signal(range(channels))
        # the connection's weight on its channel and 0 on the others, registered: the add starts from the word read
        conn_weights = [Signal(signed(net.widths.w), name=f"conn_weight{c}") for c in range(channels)]
        row_over = Signal()  # the connection is its row's last
        row_weight = Signal(signed(net.widths.w))
        old = store_r.data
        was_filled = filled_r.data
        summed = []
        for c in range(channels):  # the choice by `filled` after the add, beside its carry chain
            added = old[c * acc_bits:(c + 1) * acc_bits].as_signed() + conn_weights[c]
            summed.append(Mux(was_filled, added, conn_weights[c])[:acc_bits])
        filled_addr = Signal(range(neurons))  # the `filled` bit read beside the store's accumulator reads
        m.d.comb += filled_r.addr.eq(filled_addr)
        sweep_writes = Signal()  # the sweep writes an update's state (and reports it) in this cycle
        hist_pending, hist_index = Signal(), Signal(idx_bits)  # the update just written spiked: to the history

        m.d.comb += [self.run.ready.eq(0), self.busy.eq(1)]
        step_start = Signal()
        with m.If(step_start):
            m.d.sync += [cycles.eq(1), phase.eq(0), period.eq(0)]

        with m.FSM(name="control"):
            with m.State("INIT"):  # the initial membranes into the store, a word a cycle (the ROM read a cycle on)
                m.d.comb += [self.busy.eq(0), initial_r.addr.eq(period)]
                init_word = Signal(s_layout)
                m.d.comb += init_word.v.eq(initial_r.data.as_signed())
                with m.If(period != 0):
                    m.d.comb += [store_addr.eq(period - 1), store_data.eq(init_word.as_value()), store_we.eq(1)]
                m.d.sync += period.eq(period + 1)
                with m.If(period == neurons):
                    m.next = "IDLE"
            with m.State("IDLE"):
                m.d.comb += [self.run.ready.eq(1), self.busy.eq(0)]
                with m.If(self.run.valid & (self.run.payload != 0)):
                    m.d.sync += steps_left.eq(self.run.payload)
                    m.d.comb += step_start.eq(1)
                    m.next = "SWEEP"
            with m.State("SWEEP"):
                k = ahead(self.latency)
                writing = Signal()  # this period writes an update (the one `ahead` periods before)
                m.d.comb += [issuing.eq(period < neurons), writing.eq(stage_valid[-1])]
                period_over = Signal()
                with m.Switch(phase):
                    with m.Case(0):  # A: the neuron's state and its `filled` bit
                        m.d.comb += [store_addr.eq(period), filled_addr.eq(period)]
                        m.d.sync += phase.eq(1)
                    with m.Case(1):  # B: an update written; the state read has arrived, `filled` cleared
                        m.d.comb += [store_addr.eq(result_index), store_data.eq(result.state.as_value()),
                                     store_we.eq(writing), sweep_writes.eq(writing),
                                     filled_w.addr.eq(period), filled_w.data.eq(0), filled_w.en.eq(issuing)]
                        m.d.sync += [state_held.eq(store_r.data), param_held.eq(param_now), index_held.eq(period),
                                     hist_pending.eq(writing & result.spike), hist_index.eq(result_index)]
                        m.d.comb += advance.eq(1)
                        with m.If(issuing & filled_r.data):
                            m.d.sync += phase.eq(2)
                        with m.Else():  # no input: to the datapath now, with zero accumulators
                            m.d.sync += [dp_valid.eq(issuing), dp_index.eq(period), dp_state.eq(store_r.data),
                                         dp_params.eq(param_now), *(dp_acc[c].eq(0) for c in range(channels))]
                            with m.If(writing & result.spike):
                                m.d.sync += phase.eq(3)
                            with m.Else():
                                m.d.comb += period_over.eq(1)
                    with m.Case(2):  # C: its accumulators (to the datapath in the next cycle)
                        m.d.comb += store_addr.eq(neurons + period)
                        m.d.sync += load_acc.eq(1)
                        with m.If(hist_pending):
                            m.d.sync += phase.eq(3)
                        with m.Else():
                            m.d.comb += period_over.eq(1)
                    with m.Case(3):  # D: the written update's spike to the history
                        m.d.comb += [store_addr.eq(2 * neurons + write_pointer[:hist_bits]),
                                     store_data.eq(hist_index), store_we.eq(1), period_over.eq(1)]
                        m.d.sync += write_pointer.eq(write_pointer + 1)
                        with m.If((write_pointer - starts[oldest])[:hist_bits + 1] >= self.history):
                            m.d.sync += overflow.eq(1)
                with m.If(period_over):
                    m.d.sync += [period.eq(period + 1), phase.eq(0)]
                    with m.If(period == neurons + k - 1):
                        m.next = "CLASS" if classes else "END"
                        m.d.sync += cls.eq(0)
            with m.State("CLASS"):  # the window of this delay's source step in the history
                delay_of = Array(Const(d, range(slots + 1)) for d, _ in classes or [(1, [])])[cls]
                first = Signal(range(slots))
                m.d.comb += first.eq(Mux_mod(slot + slots + 1 - delay_of, slots))
                m.d.sync += [pointer.eq(starts[first]),
                             window_end.eq(Mux(delay_of == 1, write_pointer, starts[Mux_mod(first + 1, slots)]))]
                m.next = "HISTORY"
            with m.State("HISTORY"):  # the window's next spike, or the next delay
                with m.If(pointer != window_end):
                    m.d.comb += store_addr.eq(2 * neurons + pointer[:hist_bits])
                    m.d.sync += pointer.eq(pointer + 1)
                    m.next = "SPIKE"
                with m.Elif(cls == max(0, len(classes) - 1)):
                    m.next = "END"
                with m.Else():
                    m.d.sync += cls.eq(cls + 1)
                    m.next = "CLASS"
            with m.State("SPIKE"):  # the spike read; its first projection of this delay
                any_match, first_member = first_projection(rows, order, class_of, cls, store_r.data[:idx_bits])
                m.d.sync += [spike.eq(store_r.data[:idx_bits]), member.eq(first_member)]
                m.next = "HISTORY"
                with m.If(any_match):
                    m.next = "VISIT"
            with m.State("VISIT"):  # its row: the row info read, or the key's hash started
                m.d.sync += [conn_channel.eq(channel_of), generator_now.eq(generator_of)]
                with m.If(is_generated):
                    m.d.comb += key_hash.start.eq(1)
                    m.next = "KEY"
                with m.Else():
                    m.next = "ROWINFO"
            with m.State("ROWINFO"):
                start, length = info_r.data[:entry_bits], info_r.data[entry_bits:]
                m.d.comb += entry_r.addr.eq(start)
                m.d.sync += [entry_next.eq(start + 1), left.eq(length)]
                with m.If(length == 0):
                    self._after_visit(m, more, next_member, member)
                with m.Else():
                    m.next = "ENTRY"
            with m.State("ENTRY"):  # a stored connection: its target's word read
                target = entry_r.data[:idx_bits]
                m.d.comb += [store_addr.eq(neurons + target), filled_addr.eq(target), entry_r.addr.eq(entry_next)]
                m.d.sync += [conn_target.eq(target), row_over.eq(left == 1), left.eq(left - 1),
                             *(conn_weights[c].eq(Mux(conn_channel == c, entry_r.data[idx_bits:].as_signed(), 0))
                               for c in range(channels))]
                m.next = "WRITE"
            with m.State("KEY"):
                with m.If(key_hash.done):
                    m.d.sync += key.eq(key_hash.result)
                    m.next = "REQUEST"
            with m.State("REQUEST"):  # (a per-source weight's ROM has answered the row's address by now)
                m.d.comb += requesting.eq(1)
                m.d.sync += row_weight.eq(Array(weight_data)[proj])
                with m.If(row_ready):
                    m.next = "BEAT"
            with m.State("BEAT"):  # a regenerated connection: the generator's next target's word read
                m.d.comb += taking.eq(1)
                target = (target_offset + beat.index[0])[:idx_bits]
                with m.If(beat_valid):
                    m.d.sync += [conn_target.eq(target), row_over.eq(beat.end),
                                 *(conn_weights[c].eq(Mux(conn_channel == c, row_weight, 0)) for c in range(channels))]
                    with m.If(beat.hit[0]):
                        m.d.comb += [store_addr.eq(neurons + target), filled_addr.eq(target)]
                        m.next = "WRITE"
                    with m.Elif(beat.end):
                        self._after_visit(m, more, next_member, member)
            with m.State("WRITE"):  # the word written back with the weight added; its `filled` set
                m.d.comb += [store_addr.eq(neurons + conn_target), store_data.eq(Cat(*summed)), store_we.eq(1),
                             filled_w.addr.eq(conn_target), filled_w.data.eq(1),
                             filled_w.en.eq(self.inject_bug != "filled_not_set")]
                m.d.comb += entry_r.addr.eq(entry_next)
                with m.If(~is_generated):
                    m.d.sync += entry_next.eq(entry_next + 1)
                with m.If(is_generated):
                    with m.If(row_over):
                        self._after_visit(m, more, next_member, member)
                    with m.Else():
                        m.next = "BEAT"
                with m.Elif(row_over):
                    self._after_visit(m, more, next_member, member)
                with m.Else():
                    m.next = "ENTRY"
            with m.State("END"):  # the step's last cycle
                m.d.sync += [starts[Mux_mod(slot + 1, slots)].eq(write_pointer), timestep.eq(timestep + 1),
                             slot.eq(Mux_mod(slot + 1, slots)), steps_left.eq(steps_left - 1),
                             self.step_cycles.eq(cycles), self.step_done.eq(1)]
                with m.If(steps_left == 1):
                    m.next = "IDLE"
                with m.Else():
                    m.d.comb += step_start.eq(1)
                    m.next = "SWEEP"

        # a neuron's accumulators, read in the cycle before (C), to the datapath with what B kept (the read data holds
        # through a following write)
        with m.If(load_acc):
            m.d.sync += [dp_valid.eq(1), dp_index.eq(index_held), dp_state.eq(state_held), dp_params.eq(param_held),
                         *(dp_acc[c].eq(store_r.data[c * acc_bits:(c + 1) * acc_bits]) for c in range(channels))]
        m.d.comb += [self.monitor.valid.eq(sweep_writes), self.monitor_valid.eq(sweep_writes),
                     self.monitor.timestep.eq(timestep), self.monitor.index.eq(result_index),
                     self.monitor.lanes[0].eq(result)]
        return m

    @staticmethod
    def _after_visit(m, more, next_member, member):
        """A visit's end: the spike's next projection of this delay, or the window's next spike."""
        with m.If(more):
            m.d.sync += member.eq(next_member)
            m.next = "VISIT"
        with m.Else():
            m.next = "HISTORY"


class _NoRows:
    source_offset = source_size = channel = 0
    procedural = None


__all__ = ["BUGS", "SerialNetworkCore", "check_serial_core", "init_cycles", "replay_step", "serial_history",
           "serial_step_cycles", "word_bits"]
