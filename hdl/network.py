"""A network in hardware: populations, projections with delays and several synaptic channels (issue 20).

`NetworkCore` runs a `lapicque.network_spec.NetworkSpec` (the contract of `lapicque.golden.network_model`):
neuron n lives in lane n % P at local index n // P, as in the array. A timestep has two phases:

    sweep        every lane updates its D = N / P neurons in local-index order, one per cycle, through the
                 (multi-channel) `NeuronDatapath`; each reads and clears its accumulators; a spike is appended
                 to its lane's spike history (local index)
    propagation  for each projection and lane, the spikes of step t + 1 - delay (a window of the history,
                 delimited by a start pointer recorded per step in a ring of max_delay + 1 slots) whose source
                 is in the projection's population: the source's row (start and length in `rowinfo`) is
                 walked one connection per cycle (target and weight in `entries`), each added into its
                 target's accumulator for the next step (read-modify-write, one per cycle, the previous
                 write forwarded)

Cycles per step: D + the datapath's latency + a few for the sweep, plus for each (projection, lane) 2, for
each spike in a window 2, and for each spike of the projection's source 2 + its row length (see
`step_cycles`). Delays cost no accumulator banks: the spikes wait in the history, not their weights.

Version one (stated): every projection's rows are stored (`rows`, the golden model's realised CSR: procedural
rows are realised by the caller); no external input; the monitor reports every update without back-pressure
(a testbench samples it every cycle); parameters, initial state and rows are the memories' initial contents.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .datapath import BUGS as DATAPATH_BUGS
from .datapath import NeuronDatapath
from .layouts import TIMESTEP_BITS, bits_for, channel_field, lane_update_layout, pack, param_layout, state_layout

#: deliberately wrong cores, for the verification's own tests: a read-modify-write that misses the previous
#: cycle's write (no forwarding), a delay window one step late; and the datapath's bugs (`datapath.BUGS`)
BUGS = ("accumulate_without_forwarding", "window_one_step_late")

#: cycles a step takes besides the sweep's D, the datapath's latency and propagation: the sweep's end (waiting
#: for the write-back, recording the history pointers) and the step's end
STEP_OVERHEAD = 3


def monitor_layout(net) -> data.StructLayout:
    """One sweep cycle's updates: local index `index` of every lane (neuron index * lanes + lane)."""
    return data.StructLayout({
        "valid": unsigned(1),
        "timestep": unsigned(TIMESTEP_BITS),
        "index": unsigned(bits_for(net.depth)),
        "lanes": data.ArrayLayout(lane_update_layout(net), net.lanes),
    })


def step_cycles(net, rows, spikes_by_step: list[list[int]], step: int, latency: int) -> int:
    """The cycles `NetworkCore` takes for timestep `step`, given the spikes (global indices) of every step so far:
    the sweep (D, the datapath's latency and 2), per (projection, lane) 2, per spike of its window 2 more, per
    spike of the projection's source population 1 and its row's length (at least 1), and the accumulation's
    drain (1, or 2 when the last cycle before it issued a connection)."""
    lanes = net.lanes
    cycles = net.depth + latency + STEP_OVERHEAD
    ends_on_entry = False
    for part in rows:
        source = step + 1 - part.delay
        window = spikes_by_step[source] if source >= 0 else []
        for lane in range(lanes):
            cycles += 2
            ends_on_entry = False
            for n in window:
                if n % lanes != lane:
                    continue
                cycles += 2
                ends_on_entry = False
                if part.source_offset <= n < part.source_offset + part.source_size:
                    row = n - part.source_offset
                    length = int(part.rows.indptr[row + 1] - part.rows.indptr[row])
                    cycles += 1 + max(1, length)  # the row's read, then one cycle per connection
                    ends_on_entry = length > 0
    return cycles + int(ends_on_entry)


class NetworkCore(wiring.Component):
    """`net` with its projections' rows (`rows`: objects with source_offset, source_size, channel, delay and a
    CSR `rows` matrix whose columns are global targets, as `lapicque.golden.network_model.compile_network`
    makes them, in the projections' order).

    Ports: `run` (steps to run, accepted when idle), `busy`, `timestep`, `monitor` (every update),
    `step_cycles` (the last step's cycles), `history_overflow` (sticky: a spike history overran; the run is
    then wrong and a testbench must fail it).
    """

    def __init__(self, net, rows, *, latency: int = 1, history: int | None = None, inject_bug: str | None = None):
        if inject_bug is not None and inject_bug not in BUGS + DATAPATH_BUGS:
            raise ValueError(f"unknown bug {inject_bug!r}; one of {', '.join(BUGS + DATAPATH_BUGS)}")
        self.inject_bug = inject_bug
        if len(rows) != len(net.projections):
            raise ValueError(f"{len(rows)} realised projections for {len(net.projections)} in the spec")
        self.net = net
        self.rows = list(rows)
        self.latency = latency
        slots = net.max_delay + 1
        # a lane's spikes of the last max_delay steps: at most depth each; a power of two
        wanted = history or net.depth * slots
        self.history = 1 << max(1, (wanted - 1).bit_length())
        self.slots = slots
        super().__init__({
            "run": In(stream.Signature(unsigned(16))),
            "busy": Out(1),
            "timestep": Out(TIMESTEP_BITS),
            "monitor": Out(monitor_layout(net)),
            "monitor_valid": Out(1),  # monitor.valid on its own wire: what a testbench waits for
            "step_cycles": Out(32),
            "history_overflow": Out(1),
        })

    # -- memory contents --------------------------------------------------------------------------------
    def _param_words(self, lane: int) -> list[int]:
        net, params = self.net, self.net.params()
        layout = param_layout(net)
        words = []
        for local in range(net.depth):
            n = local * net.lanes + lane
            values = {name: int(params[name][n]) for name in params if name != "decay"}
            for c in range(len(net.channels)):
                values[channel_field("decay", c)] = int(params["decay"][c, n])
            words.append(pack(layout, values))
        return words

    def _state_words(self, lane: int) -> list[int]:
        net, v0 = self.net, self.net.v0()
        layout = state_layout(net)
        words = []
        for local in range(net.depth):
            values = {"v": int(v0[local * net.lanes + lane]), "ref": 0, "pulse": 0}
            values |= {channel_field("i", c): 0 for c in range(len(net.channels))}
            words.append(pack(layout, values))
        return words

    def _row_tables(self):
        """rowinfo words (start, length) per (projection, source), entries (target, weight), each projection's
        first rowinfo address."""
        net = self.net
        target_bits, w = bits_for(net.neurons), net.widths.w
        rowinfo, entries, bases = [], [], []
        for part in self.rows:
            bases.append(len(rowinfo))
            indptr, indices, weights = part.rows.indptr, part.rows.indices, part.rows.data
            for s in range(part.source_size):
                rowinfo.append((len(entries), int(indptr[s + 1] - indptr[s])))
                for k in range(indptr[s], indptr[s + 1]):
                    entries.append(int(indices[k]) | ((int(weights[k]) & ((1 << w) - 1)) << target_bits))
        return rowinfo, entries, bases

    def elaborate(self, platform):
        m = Module()
        net = self.net
        lanes, depth, channels, slots = net.lanes, net.depth, len(net.channels), self.slots
        s_layout = state_layout(net)
        idx_bits = bits_for(depth)
        hist_bits = bits_for(self.history)
        target_bits = bits_for(net.neurons)

        timestep = Signal(TIMESTEP_BITS)
        slot = Signal(range(slots))  # timestep % slots
        steps_left = Signal(16)
        m.d.comb += [self.timestep.eq(timestep)]

        # -- per-lane memories ------------------------------------------------------------------------
        state_r, state_w, param_r, acc_r, acc_w, hist_r, hist_w = ([] for _ in range(7))
        for lane in range(lanes):
            state_mem = Memory(shape=unsigned(s_layout.size), depth=depth, init=self._state_words(lane))
            param_mem = Memory(shape=unsigned(param_layout(net).size), depth=depth, init=self._param_words(lane))
            hist_mem = Memory(shape=unsigned(idx_bits), depth=self.history, init=[])
            m.submodules[f"state{lane}"] = state_mem
            m.submodules[f"param{lane}"] = param_mem
            m.submodules[f"hist{lane}"] = hist_mem
            state_r.append(state_mem.read_port())
            state_w.append(state_mem.write_port())
            param_r.append(param_mem.read_port())
            hist_r.append(hist_mem.read_port())
            hist_w.append(hist_mem.write_port())
            reads, writes = [], []
            for c in range(channels):
                acc_mem = Memory(shape=signed(net.acc_bits), depth=depth, init=[])
                m.submodules[f"acc{lane}_{c}"] = acc_mem
                reads.append(acc_mem.read_port())  # not transparent: a read sees the memory before this cycle's write
                writes.append(acc_mem.write_port())
            acc_r.append(reads)
            acc_w.append(writes)

        rowinfo, entries, bases = self._row_tables()
        entry_bits = max(1, bits_for(len(entries) + 1))
        length_bits = max(1, max((length for _, length in rowinfo), default=0).bit_length())
        info_layout = data.StructLayout({"start": unsigned(entry_bits), "length": unsigned(length_bits)})
        m.submodules.rowinfo = rowinfo_mem = Memory(
            shape=unsigned(info_layout.size), depth=max(1, len(rowinfo)),
            init=[start | (length << entry_bits) for start, length in rowinfo])
        entry_layout = data.StructLayout({"target": unsigned(target_bits), "weight": signed(net.widths.w)})
        m.submodules.entries = entries_mem = Memory(shape=unsigned(entry_layout.size), depth=max(1, len(entries)),
                                                    init=entries)
        info_r, entry_r = rowinfo_mem.read_port(), entries_mem.read_port()

        # -- the sweep: issue, datapath, write-back, history -------------------------------------------
        issue = Signal()  # a local index is read this cycle
        index = Signal(idx_bits)
        read_valid, read_index = Signal(), Signal(idx_bits)
        m.d.sync += [read_valid.eq(issue), read_index.eq(index)]
        stage_valid = [read_valid]
        stage_index = [read_index]
        for k in range(self.latency):
            v, i = Signal(name=f"dp_valid{k}"), Signal(idx_bits, name=f"dp_index{k}")
            m.d.sync += [v.eq(stage_valid[-1]), i.eq(stage_index[-1])]
            stage_valid.append(v)
            stage_index.append(i)
        out_valid, out_index = stage_valid[-1], stage_index[-1]
        pipeline_busy = Cat(*stage_valid).any()

        write_pointer = [Signal(hist_bits + 1, name=f"wp{lane}") for lane in range(lanes)]
        starts = [Array(Signal(hist_bits + 1, name=f"start{lane}_{s}") for s in range(slots)) for lane in range(lanes)]
        overflow = Signal()
        m.d.comb += self.history_overflow.eq(overflow)
        oldest = Signal(range(slots))  # the slot of the oldest step a propagation of this step reads
        m.d.comb += oldest.eq(Mux_mod(slot + (slots + 1 - net.max_delay), slots))

        updates = []
        for lane in range(lanes):
            dp = NeuronDatapath(net, latency=self.latency,
                                inject_bug=self.inject_bug if self.inject_bug in DATAPATH_BUGS else None)
            m.submodules[f"datapath{lane}"] = dp
            m.d.comb += [
                state_r[lane].addr.eq(index), param_r[lane].addr.eq(index),
                dp.state.eq(state_r[lane].data), dp.params.eq(param_r[lane].data), dp.ext.eq(0),
                *(getattr(dp, channel_field("acc", c)).eq(acc_r[lane][c].data) for c in range(channels)),
                state_w[lane].addr.eq(out_index), state_w[lane].data.eq(dp.update.state),
                state_w[lane].en.eq(out_valid),
                hist_w[lane].addr.eq(write_pointer[lane][:hist_bits]), hist_w[lane].data.eq(out_index),
                hist_w[lane].en.eq(out_valid & dp.update.spike),
            ]
            with m.If(out_valid & dp.update.spike):
                m.d.sync += write_pointer[lane].eq(write_pointer[lane] + 1)
                with m.If((write_pointer[lane] - starts[lane][oldest])[:hist_bits + 1] >= self.history):
                    m.d.sync += overflow.eq(1)
            updates.append(dp.update)
        m.d.comb += [
            self.monitor.valid.eq(out_valid), self.monitor_valid.eq(out_valid),
            self.monitor.timestep.eq(timestep), self.monitor.index.eq(out_index),
            *(self.monitor.lanes[lane].eq(updates[lane]) for lane in range(lanes)),
        ]

        # -- propagation: windows, rows, entries, accumulation ----------------------------------------
        projection = Signal(range(max(1, len(self.rows))))
        lane_now = Signal(range(lanes))
        pointer, pointer_end = Signal(hist_bits + 1), Signal(hist_bits + 1)
        entry, entry_end = Signal(entry_bits), Signal(entry_bits)
        entry_issue = Signal()
        # per projection: its constants, selected by `projection`
        source_offset = Array(Const(p.source_offset, target_bits + 1) for p in self.rows)[projection]
        source_size = Array(Const(p.source_size, target_bits + 1) for p in self.rows)[projection]
        channel_of = Array(Const(p.channel, range(channels)) for p in self.rows)[projection]
        late = int(self.inject_bug == "window_one_step_late")
        window_slot = Array(Const((slots + 1 - p.delay - late) % slots, range(slots)) for p in self.rows)[projection]
        base = Array(Const(b, bits_for(len(rowinfo) + 1)) for b in bases)[projection]
        first_slot = Signal(range(slots))
        m.d.comb += first_slot.eq(Mux_mod(slot + window_slot, slots))
        source = Signal(target_bits + 1)  # the spike's global index
        m.d.comb += source.eq(Array(hist_r[lane].data for lane in range(lanes))[lane_now] * lanes + lane_now)

        # the entry pipeline: entry read (e1), accumulator read (e2), sum and write (e3)
        e1_valid, e1_channel = Signal(), Signal(range(channels))
        m.d.sync += [e1_valid.eq(entry_issue), e1_channel.eq(channel_of)]
        got = data.View(entry_layout, entry_r.data)
        e2_valid, e2_lane, e2_local, e2_channel, e2_weight = (Signal(), Signal(range(lanes)), Signal(idx_bits),
                                                              Signal(range(channels)), Signal(signed(net.widths.w)))
        target_lane, target_local = Signal(range(lanes)), Signal(idx_bits)
        m.d.comb += [target_lane.eq(got.target % lanes), target_local.eq(got.target // lanes)]
        m.d.sync += [e2_valid.eq(e1_valid), e2_lane.eq(target_lane), e2_local.eq(target_local),
                     e2_channel.eq(e1_channel), e2_weight.eq(got.weight)]
        last_valid, last_lane, last_local, last_channel = (Signal(), Signal(range(lanes)), Signal(idx_bits),
                                                           Signal(range(channels)))
        last_sum = Signal(signed(net.acc_bits))
        acc_data = Array(Array(acc_r[lane][c].data for c in range(channels)) for lane in range(lanes))
        read_now = acc_data[e2_lane][e2_channel]
        forwarded = Signal()
        m.d.comb += forwarded.eq(last_valid & (last_lane == e2_lane) & (last_local == e2_local)
                                 & (last_channel == e2_channel) & (self.inject_bug != "accumulate_without_forwarding"))
        total = Signal(signed(net.acc_bits))
        m.d.comb += total.eq(Mux(forwarded, last_sum, read_now) + e2_weight)
        m.d.sync += [last_valid.eq(e2_valid), last_lane.eq(e2_lane), last_local.eq(e2_local),
                     last_channel.eq(e2_channel), last_sum.eq(total)]
        accumulating = Cat(entry_issue, e1_valid, e2_valid).any()

        sweeping = Signal()
        for lane in range(lanes):
            for c in range(channels):
                rp, wp = acc_r[lane][c], acc_w[lane][c]
                with m.If(sweeping):  # read the accumulator for this step and clear it for a later one
                    m.d.comb += [rp.addr.eq(index), wp.addr.eq(index), wp.data.eq(0), wp.en.eq(issue)]
                with m.Else():
                    m.d.comb += [rp.addr.eq(target_local), wp.addr.eq(e2_local), wp.data.eq(total),
                                 wp.en.eq(e2_valid & (e2_lane == lane) & (e2_channel == c))]
            m.d.comb += hist_r[lane].addr.eq(pointer[:hist_bits])
        m.d.comb += [entry_r.addr.eq(entry), info_r.addr.eq(base + source - source_offset)]
        info = data.View(info_layout, info_r.data)

        cycles = Signal(32)
        m.d.sync += cycles.eq(cycles + 1)
        m.d.comb += [self.run.ready.eq(0), self.busy.eq(1)]
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += [self.run.ready.eq(1), self.busy.eq(0)]
                with m.If(self.run.valid & (self.run.payload != 0)):
                    m.d.sync += [steps_left.eq(self.run.payload), index.eq(0), cycles.eq(1)]
                    m.next = "SWEEP"
            with m.State("SWEEP"):
                m.d.comb += [sweeping.eq(1), issue.eq(1)]
                m.d.sync += index.eq(index + 1)
                with m.If(index == depth - 1):
                    m.next = "SWEEP_END"
            with m.State("SWEEP_END"):  # the datapath's last updates are written back
                m.d.comb += sweeping.eq(1)
                with m.If(~pipeline_busy):
                    for lane in range(lanes):
                        m.d.sync += starts[lane][Mux_mod(slot + 1, slots)].eq(write_pointer[lane])
                    m.d.sync += [projection.eq(0), lane_now.eq(0)]
                    m.next = "WINDOW" if self.rows else "DRAIN"
            with m.State("WINDOW"):
                m.d.sync += [pointer.eq(starts_of(starts, lane_now, first_slot)),
                             pointer_end.eq(starts_of(starts, lane_now, Mux_mod(first_slot + 1, slots)))]
                m.next = "SPIKE"
            with m.State("SPIKE"):  # the window's next spike: read it from the history
                with m.If(pointer == pointer_end):
                    with m.If(lane_now == lanes - 1):
                        m.d.sync += lane_now.eq(0)
                        with m.If(projection == len(self.rows) - 1):
                            m.next = "DRAIN"
                        with m.Else():
                            m.d.sync += projection.eq(projection + 1)
                            m.next = "WINDOW"
                    with m.Else():
                        m.d.sync += lane_now.eq(lane_now + 1)
                        m.next = "WINDOW"
                with m.Else():
                    m.next = "SOURCE"
            with m.State("SOURCE"):  # the history's data: in the projection's population? read its row
                m.d.sync += pointer.eq(pointer + 1)
                with m.If((source >= source_offset) & (source < source_offset + source_size)):
                    m.next = "ROW"
                with m.Else():
                    m.next = "SPIKE"
            with m.State("ROW"):
                m.d.sync += [entry.eq(info.start), entry_end.eq(info.start + info.length)]
                m.next = "ENTRIES" if length_bits else "SPIKE"
            with m.State("ENTRIES"):  # one connection per cycle
                with m.If(entry == entry_end):
                    m.next = "SPIKE"
                with m.Else():
                    m.d.comb += entry_issue.eq(1)
                    m.d.sync += entry.eq(entry + 1)
                    with m.If(entry + 1 == entry_end):
                        m.next = "SPIKE"
            with m.State("DRAIN"):
                with m.If(~accumulating):
                    m.d.sync += [timestep.eq(timestep + 1), slot.eq(Mux_mod(slot + 1, slots)), index.eq(0),
                                 steps_left.eq(steps_left - 1), self.step_cycles.eq(cycles), cycles.eq(1)]
                    with m.If(steps_left == 1):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "SWEEP"
        return m


def Mux_mod(value, modulus: int):  # noqa: N802 - reads as the Mux it builds
    """value mod `modulus` for a value in [0, 2 * modulus): one compare and one subtract."""
    return Mux(value >= modulus, value - modulus, value)[:bits_for(modulus) + 1]


def starts_of(starts, lane, slot):
    return Array(starts[k][slot] for k in range(len(starts)))[lane]


__all__ = ["BUGS", "STEP_OVERHEAD", "NetworkCore", "monitor_layout", "step_cycles"]
