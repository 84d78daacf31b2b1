"""A network in hardware: populations, projections with delays and several synaptic channels (issue 20).

`NetworkCore` runs a `lapicque.network_spec.NetworkSpec` (the contract of `lapicque.golden.network_model`):
neuron n lives in lane n % P at local index n // P, as in the array. In a timestep two engines run side by side:

    sweep        every lane updates its D = N / P neurons in local-index order, one per cycle, through the
                 (multi-channel) `NeuronDatapath`, reading and clearing its accumulators of this step (bank
                 t % 2); a spike is appended to its lane's spike history (the local index)
    propagation  delivers into the other bank (step t + 1) the spikes whose delay ends then: for each distinct
                 delay d, longest first, the spikes of step t + 1 - d (a window of each lane's history between
                 two start pointers, recorded per step in a ring of max_delay + 1 slots; for d = 1 the window
                 grows while the sweep makes it). A spike reader takes a spike a cycle from the windows and
                 queues those a projection of d starts at; the front end takes a queued spike and reads, for
                 each such projection, every lane's part of the source's row (start and length in its `rowinfo`)
                 in one cycle into the lane's queue of row parts; every lane walks its queued parts back to back
                 (local target and weight in its `entries`), one connection per cycle, into its accumulators
                 (read-modify-write, the previous cycles' writes forwarded), however long the other lanes' parts
                 are. A regenerated row (Bernoulli) waits for the stored walks to end and goes through its
                 generator, which draws P numbers a cycle (a beat); each lane queues its share of each beat and
                 takes one of its targets a cycle, so a row costs the lanes its fan-out / P, as a stored one does

A step ends a cycle after both are done. Its cycles are max(sweep, propagation) and a few (`step_cycles` replays the
engines cycle by cycle); the bound the benchmarks quote is max(D, the step's fan-out / P) + latency. Delays cost
no accumulator banks: the spikes wait in the history, not their weights.

External input (populations with an `External`, `lapicque.golden.external`): every lane has a `PoissonInput`
(`hdl.external`) that draws its neurons' counts from the step's first cycle, one per cycle; the sweep starts
`sweep_lead` cycles later, so that each neuron's input reaches its datapath with its state.

Stated: Bernoulli rows are regenerated (`RowGenerator`), every other projection's rows are stored (the golden
model's realised CSR); the monitor reports every update without back-pressure (a testbench samples it every
cycle); parameters, initial state and rows are the memories' initial contents.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .datapath import BUGS as DATAPATH_BUGS
from .datapath import NeuronDatapath
from .external import LATENCY as EXTERNAL_LATENCY
from .external import PoissonInput, has_external
from .layouts import TIMESTEP_BITS, bits_for, channel_field, lane_update_layout, pack, param_layout, state_layout
from .procedural import RowGenerator
from .procedural import latency as generator_latency
from .ram import RegisteredRAM

#: deliberately wrong cores, for the verification's own tests: a read-modify-write that misses the previous
#: cycle's write (no forwarding), a delay window one step late, external input that draws every step's counts
#: from the first step's counter; and the datapath's bugs (`datapath.BUGS`)
BUGS = ("accumulate_without_forwarding", "window_one_step_late", "external_counter_stale")

#: row parts a lane queues: enough to cover the row info's three-cycle read while the lane walks
ROW_QUEUE = 4
#: spikes the front end queues: enough to cover the history's two-cycle read
SPIKE_QUEUE = 4
#: drawn beats a lane queues: enough for the lanes' share of a beat to even out over a few beats
DRAWN_QUEUE = 4



def monitor_layout(net) -> data.StructLayout:
    """One sweep cycle's updates: local index `index` of every lane (neuron index * lanes + lane)."""
    return data.StructLayout({
        "valid": unsigned(1),
        "timestep": unsigned(TIMESTEP_BITS),
        "index": unsigned(bits_for(net.depth)),
        "lanes": data.ArrayLayout(lane_update_layout(net), net.lanes),
    })


def delay_classes(rows) -> list[tuple[int, list[int]]]:
    """(delay, projection indices) for each distinct delay, longest first: the order propagation takes them
    (the windows of longer delays are complete when the step starts; delay 1's grows during the sweep)."""
    delays = sorted({part.delay for part in rows}, reverse=True)
    return [(d, [k for k, part in enumerate(rows) if part.delay == d]) for d in delays]


def lane_rows(part, lanes: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each lane's part of a projection's rows: (indptr, local targets, weights) of the targets it holds, in the
    row's order."""
    rows = part.rows
    source = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    out = []
    for lane in range(lanes):
        keep = rows.indices % lanes == lane
        indptr = np.concatenate([[0], np.cumsum(np.bincount(source[keep], minlength=rows.shape[0]))])
        out.append((indptr, rows.indices[keep] // lanes, rows.data[keep]))
    return out


def lane_lengths(rows, lanes: int) -> list[np.ndarray]:
    """Per projection, [sources, lanes]: the length of each lane's part of each source's row (what walking it
    costs the lane)."""
    return [np.stack([np.diff(indptr) for indptr, _, _ in lane_rows(part, lanes)], axis=1) for part in rows]


def sweep_lead(net) -> int:
    """Cycles the sweep starts after its step: with external input, the lanes' `PoissonInput`s draw the first
    neurons' counts first (their pipeline, less the sweep's own read stages)."""
    return EXTERNAL_LATENCY - READ_STAGES if has_external(net) else 0


#: cycles from an entry's issue to its sum written back (its tiled ROM's three, e2-e4, the write at e5):
#: the lane's pipeline is empty from the eighth cycle after its last issue
WRITE_BACK = 8
#: the same for a drawn target, registered straight into e1
DRAWN_WRITE_BACK = 6


def step_cycles(net, rows, spikes_by_step: list[list[int]], step: int, latency: int,
                lengths: list[np.ndarray] | None = None, generator_width: int | None = None) -> int:
    """The cycles `NetworkCore` takes for timestep `step`, given the spikes (global indices) of every step so far:
    its engines replayed cycle by cycle, register by register. Cycle 1 is the step's first: the sweep issues local
    index j in cycle j + 1, its spike is in the history from cycle j + SWEEP_LATENCY + 1 + latency, the sweep is
    over from cycle D + SWEEP_LATENCY + latency (with external input every sweep cycle is `sweep_lead` later).
    Propagation, delay by delay:
    the front end loads the delay's windows (1 cycle); the spike reader takes a visible spike a cycle (the first
    lane with one) while its queue will have room, and queues it two cycles later if a projection of the delay
    starts at its population; the front end takes a queued spike (1 cycle, or none after a stored row's last
    visit) and visits its projections of the delay: a stored row's row info is read in every lane at once in 1
    cycle (when every lane's queue will have room for it and no lane has drawn targets left) and each lane's
    part is queued three cycles later; a regenerated row waits for the stored walks to end, then costs its key
    (3 cycles), its request (when the generator is free: the cycle after the previous row's end beat) and its
    beats (P draws each, the first `procedural.latency(P)` + 2 cycles after the request, then one a cycle, each
    taken when every lane's queue of drawn beats has room). Each lane walks its queued parts back to back, one
    entry per cycle, and takes its drawn targets one a cycle (the next beat as the current one's last goes); an
    entry is written back `WRITE_BACK` cycles after its issue, a drawn target `DRAWN_WRITE_BACK`. The step's last
    cycle is the one after the first in which the sweep, the front end and every lane are
    done. `lengths`: `lane_lengths(rows, lanes)`, computed once for many steps; `generator_width`: the numbers a
    generator draws a cycle (`NetworkCore`'s, default the lanes)."""
    lanes, depth = net.lanes, net.depth
    latency += sweep_lead(net)  # the sweep starts later by as much: every sweep cycle below moves with it
    sweep_over = depth + SWEEP_LATENCY + latency
    lengths = lane_lengths(rows, lanes) if lengths is None else lengths
    classes = delay_classes(rows)
    queued = [deque() for _ in range(lanes)]  # each lane's queued parts (their lengths)
    left = [0] * lanes  # entries left of the part a lane walks
    reads = deque()  # row-info reads on their way: (launch cycle, each lane's part length)
    drained_from = 0  # the first cycle by which every connection issued so far is written back
    propagating, state, cycle = bool(classes), "CLASS", 1
    cls = member = spike = 0
    # a regenerated row: the cycle its request may be made (its key read), the generator free from, the row's
    # beats (each lane's share of each), the next beat and the cycle it is offered from; the lanes' drawn beats
    request_at = generator_free = beat = beat_at = 0
    beats: list[list[int]] = []
    width = generator_width or lanes
    gen_latency = generator_latency(width)
    drawn = [deque() for _ in range(lanes)]  # each lane's queued drawn beats (their targets in the lane)
    current = [0] * lanes  # targets left of the beat a lane takes from
    windows, taken, live, members, visits = [], [], False, [], []
    spike_queue, reading = deque(), [None, None]  # the reader's queue; its history reads one and two cycles on

    def walks_idle() -> bool:
        return not reads and not any(queued) and not any(left)

    def walk(queue: list[deque], left: list[int], lane: int, arriving: int, write_back: int) -> None:
        """A lane's walk in this cycle, of its stored parts or of its drawn beats: it issues one item of the one it
        walks (`left` of it), takes the next queued one as the last goes (no bubble between them), and queues an
        arriving one (`arriving` items, none if 0); an item is written back `write_back` cycles after its issue."""
        nonlocal drained_from
        issuing = left[lane] > 0
        if queue[lane] and left[lane] <= 1:
            left[lane] = queue[lane].popleft()
        elif issuing:
            left[lane] -= 1
        if issuing:
            drained_from = max(drained_from, cycle + write_back)
        if arriving:
            queue[lane].append(int(arriving))

    def drawn_idle() -> bool:
        return not any(drawn) and not any(current)

    def row_beats(part, row: int) -> list[list[int]]:
        """Each beat's targets per lane: beat b holds draws b W .. b W + W - 1 of the row's n targets and its
        end (draw n), W the generator's width."""
        targets = part.rows.indices[part.rows.indptr[row]:part.rows.indptr[row + 1]]
        return [np.bincount(targets[b:b + width] % lanes, minlength=lanes).tolist()
                for b in range(0, len(targets) + 1, width)]

    def visits_of(n: int) -> list[int]:  # the projections of this delay that start at the spike's population
        return [k for k in members if 0 <= n - rows[k].source_offset < rows[k].source_size]

    def take_spike() -> str:
        nonlocal spike, visits, member
        spike = spike_queue.popleft()
        visits, member = visits_of(spike), 0
        return "PROJECTION"

    def after_visit() -> str:
        nonlocal member
        if member < len(visits) - 1:
            member += 1
            return "PROJECTION"
        return "PICK"

    def quiet_until() -> int:
        """The first cycle from this one in which anything can change (this one if something does): a replay of
        cycles in which every engine waits would only count them."""
        if (reading != [None, None] or spike_queue or not walks_idle() or not drawn_idle()
                or state in ("PROJECTION", "REQUEST", "DRAW")):
            return cycle
        if state == "CLASS":
            return cycle if propagating else max(cycle, sweep_over, drained_from)
        events = []
        all_taken = True
        for lane in range(lanes):  # the reader's next spike, visible from
            if taken[lane] < len(windows[lane]):
                if not live:
                    return cycle
                all_taken = False
                events.append(windows[lane][taken[lane]] // lanes + SWEEP_LATENCY + 1 + latency)
        if state == "PICK" and all_taken:  # the class ends with the sweep's end, registered
            if not live:
                return cycle
            events.append(sweep_over + 1)
        return max(cycle, min(events))

    while True:
        cycle = quiet_until()
        if not propagating and cycle >= sweep_over and walks_idle() and drawn_idle() and cycle >= drained_from:
            return cycle + 1  # seen done in this cycle, registered: the step ends in the next
        reader_on = state != "CLASS"
        taking_beat = None  # a drawn beat the lanes' queues take in this cycle
        spikes_queued = len(spike_queue)  # the count the reader's room sees, whatever the front end takes
        # the front end's state in this cycle decides its next
        if state == "CLASS":
            if propagating:
                delay, members = classes[cls]
                source = step + 1 - delay
                window = spikes_by_step[source] if source >= 0 else []
                windows = [[n for n in window if n % lanes == lane] for lane in range(lanes)]
                taken, live, state = [0] * lanes, delay == 1, "PICK"
        elif state == "PICK":
            if spike_queue:
                state = take_spike()
            elif (all(taken[k] == len(windows[k]) for k in range(lanes)) and reading == [None, None]
                  and (not live or cycle > sweep_over)):  # the sweep's end, registered
                if cls == len(classes) - 1:
                    propagating = False  # from the next cycle
                else:
                    cls += 1
                state = "CLASS"
        elif state == "REQUEST":  # KEY, KEY2, then REQUEST until the generator takes the row
            if cycle >= request_at and cycle >= generator_free:
                beat, beat_at, state = 0, cycle + gen_latency + 2, "DRAW"
        elif state == "DRAW":  # a beat is taken when it is out and every lane's queue has room (levels registered)
            if cycle >= beat_at and all(len(drawn[k]) < DRAWN_QUEUE for k in range(lanes)):
                taking_beat = beats[beat]
                if beat == len(beats) - 1:  # the row's end: the generator flushes, free from the next cycle
                    generator_free, state = cycle + 1, after_visit()
                else:
                    beat, beat_at = beat + 1, cycle + 1
        else:  # PROJECTION
            part = rows[visits[member]]
            row = spike - part.source_offset
            if getattr(part, "procedural", None) is not None:
                if walks_idle():  # the row's key and weight through their ROMs (KEY, KEY2), then the request
                    beats, request_at, state = row_beats(part, row), cycle + 3, "REQUEST"
            elif (all(len(queued[k]) + len(reads) < ROW_QUEUE for k in range(lanes)) and drawn_idle()):
                reads.append((cycle, lengths[visits[member]][row]))
                state = after_visit()
                if state == "PICK" and spike_queue:  # straight to the next spike
                    state = take_spike()
        # the reader in this cycle: a visible spike of the first lane with one, when the queue has room
        taking = None
        if reader_on and spikes_queued + sum(r is not None for r in reading) < SPIKE_QUEUE:
            for lane in range(lanes):
                mine = windows[lane]
                if taken[lane] == len(mine):
                    continue
                if not live or mine[taken[lane]] // lanes + SWEEP_LATENCY + 1 + latency <= cycle:  # visible
                    taking = mine[taken[lane]]
                    taken[lane] += 1
                    break
        if reading[1] is not None and visits_of(reading[1]):
            spike_queue.append(reading[1])
        reading = [taking, reading[0]]
        # the lanes in this cycle: walk, take the next queued part, queue an arriving one; take a drawn target,
        # the next drawn beat, queue a taken beat's share
        arriving = reads.popleft()[1] if reads and reads[0][0] == cycle - TiledROM.LATENCY else None
        for lane in range(lanes):
            walk(drawn, current, lane, taking_beat[lane] if taking_beat is not None else 0, DRAWN_WRITE_BACK)
            walk(queued, left, lane, arriving[lane] if arriving is not None else 0, WRITE_BACK)
        cycle += 1


class TiledROM(wiring.Component):
    """`words` read in `LATENCY` cycles however deep: tiles of at most `TILE_WORDS` words (one block RAM each on
    an ECP5), each tile's read registered beside it, then the tile chosen by the address's registered top bits
    and registered (a deep memory's bare output through its tile multiplexer is slower than a 90 MHz cycle)."""

    TILE_WORDS = 1024
    LATENCY = 3

    def __init__(self, width: int, words: list[int]):
        self.width, self.words = width, list(words) or [0]
        super().__init__({"addr": In(range(len(self.words))), "data": Out(width)})

    def elaborate(self, platform):
        m = Module()
        tile_bits = (self.TILE_WORDS - 1).bit_length()
        held, select, select_held = [], Signal(range(max(2, len(self.words) // self.TILE_WORDS + 1))), None
        for k in range(0, len(self.words), self.TILE_WORDS):
            tile = Memory(shape=unsigned(self.width), depth=len(self.words[k:k + self.TILE_WORDS]),
                          init=self.words[k:k + self.TILE_WORDS])
            m.submodules[f"tile{k // self.TILE_WORDS}"] = tile
            port = tile.read_port()
            out = Signal(self.width, name=f"tile{k // self.TILE_WORDS}_data")
            m.d.comb += port.addr.eq(self.addr[:tile_bits])
            m.d.sync += out.eq(port.data)
            held.append(out)
        select_held = Signal.like(select)
        m.d.sync += [select.eq(self.addr >> tile_bits), select_held.eq(select), self.data.eq(Array(held)[select_held])]
        return m


def param_words(net, lane: int) -> list[int]:
    """The parameter words of a lane's neurons, in local-index order."""
    params = net.params()
    layout = param_layout(net)
    words = []
    for local in range(net.depth):
        n = local * net.lanes + lane
        values = {name: int(params[name][n]) for name in params if name != "decay"}
        for c in range(len(net.channels)):
            values[channel_field("decay", c)] = int(params["decay"][c, n])
        words.append(pack(layout, values))
    return words


def population_words(net) -> list[int] | None:
    """One parameter word per population when every population's neurons share theirs (CUBA's do): the core
    then holds no parameter memory and picks the population's word by the neuron's index; else None."""
    lanes = [param_words(net, lane) for lane in range(net.lanes)]
    words = [lanes[n % net.lanes][n // net.lanes] for n in range(net.neurons)]
    found = []
    for pop, start in zip(net.populations.values(), net.offsets.values(), strict=True):
        distinct = set(words[start:start + pop.size])
        if len(distinct) != 1:
            return None
        found.append(distinct.pop())
    return found


def history_depth(net, wanted: int | None = None) -> int:
    """A lane's spike history: room for its spikes of the last max_delay steps (at most D each, or `wanted`), a
    power of two."""
    wanted = wanted or net.depth * (net.max_delay + 1)
    return 1 << max(1, (wanted - 1).bit_length())


def row_tables(net, rows):
    """Per lane: its rowinfo words (start, length) per (projection, source) and its entries (local target,
    weight); each projection's first rowinfo address (the same in every lane). Regenerated projections store
    nothing."""
    lanes, w = net.lanes, net.widths.w
    idx_bits = bits_for(net.depth)
    rowinfo, entries = [[] for _ in range(lanes)], [[] for _ in range(lanes)]
    bases = []
    for part in rows:
        bases.append(len(rowinfo[0]))
        if getattr(part, "procedural", None) is not None:
            continue  # regenerated per spike, not stored
        for lane, (indptr, targets, weights) in enumerate(lane_rows(part, lanes)):
            first = len(entries[lane])
            for s in range(part.source_size):
                rowinfo[lane].append((first + int(indptr[s]), int(indptr[s + 1] - indptr[s])))
            for target, weight in zip(targets, weights, strict=True):
                entries[lane].append(int(target) | ((int(weight) & ((1 << w) - 1)) << idx_bits))
    return rowinfo, entries, bases


def row_field_bits(rowinfo, entries) -> tuple[int, int]:
    """The row info's fields (`row_tables`' per-lane lists): an entry address's bits and a row length's bits."""
    entry_bits = max(1, max(bits_for(len(e) + 1) for e in entries))
    length_bits = max(1, max((length for lane in rowinfo for _, length in lane), default=0).bit_length())
    return entry_bits, length_bits


def skip_tables(rows) -> list[tuple[int, ...]]:
    """The distinct skip tables of the regenerated projections, in order: one row generator each (CUBA's four
    projections share one)."""
    return list(dict.fromkeys(tuple(part.procedural.table) for part in rows
                              if getattr(part, "procedural", None) is not None))


def population_word(net, shared: list[int], neuron):
    """The parameter word of `neuron`'s population (a multiplexer on its index; `shared`: `population_words`)."""
    word = Const(shared[-1], param_layout(net).size)
    for start, value in reversed(list(zip(list(net.offsets.values())[1:], shared[:-1], strict=True))):
        word = Mux(neuron < start, value, word)
    return word


def first_projection(rows, order: list[int], class_of: list[int], cls, x, after=None):
    """(any, position): the first projection in `order` (projection indices, delay class by class; `class_of`:
    each position's class) after position `after` (a Signal, or None for the first) of the class `cls` whose
    source population holds neuron `x`: a spike visits only its own projections."""
    hits = [(x >= rows[k].source_offset) & (x < rows[k].source_offset + rows[k].source_size)
            & (cls == class_of[i]) & (Const(1) if after is None else after < i)
            for i, k in enumerate(order)]
    position = Const(0, range(max(1, len(order))))
    for i in reversed(range(len(order))):
        position = Mux(hits[i], i, position)
    return (Cat(*hits).any() if hits else Const(0)), position


class NetworkCore(wiring.Component):
    """`net` with its projections' rows (`rows`: objects with source_offset, source_size, channel, delay and a
    CSR `rows` matrix whose columns are global targets, as `lapicque.golden.network_model.compile_network`
    makes them, in the projections' order).

    Ports: `run` (steps to run, accepted when idle), `busy`, `timestep`, `monitor` (every update),
    `step_cycles` (the last step's cycles), `history_overflow` (sticky: a spike history overran; the run is
    then wrong and a testbench must fail it).
    """

    def __init__(self, net, rows, *, latency: int = 1, history: int | None = None, inject_bug: str | None = None,
                 generator_width: int | None = None):
        if inject_bug is not None and inject_bug not in BUGS + DATAPATH_BUGS:
            raise ValueError(f"unknown bug {inject_bug!r}; one of {', '.join(BUGS + DATAPATH_BUGS)}")
        self.inject_bug = inject_bug
        if len(rows) != len(net.projections):
            raise ValueError(f"{len(rows)} realised projections for {len(net.projections)} in the spec")
        self.net = net
        self.rows = list(rows)
        self.latency = latency
        # numbers a row generator draws a cycle: one per lane keeps every lane busy; fewer cost fewer DSPs and wires
        self.generator_width = generator_width or net.lanes
        if self.generator_width & (self.generator_width - 1):
            raise ValueError(f"generator width {self.generator_width}: a power of two")
        procedural = [part for part in self.rows if getattr(part, "procedural", None) is not None]
        if procedural and net.lanes & (net.lanes - 1):
            raise ValueError(f"lanes = {net.lanes}: regenerated rows need a power of two (a target's lane is its low "
                             "bits)")
        self.tables = skip_tables(self.rows)
        self.slots = net.max_delay + 1
        self.history = history_depth(net, history)
        super().__init__({
            "run": In(stream.Signature(unsigned(16))),
            "busy": Out(1),
            "timestep": Out(TIMESTEP_BITS),
            "monitor": Out(monitor_layout(net)),
            "monitor_valid": Out(1),  # monitor.valid on its own wire: what a testbench waits for
            "step_cycles": Out(32),
            "step_done": Out(1),  # high for a cycle when `step_cycles` takes a step's count
            "history_overflow": Out(1),
        })

    # -- memory contents --------------------------------------------------------------------------------
    def _state_words(self, lane: int) -> list[int]:
        net, v0 = self.net, self.net.v0()
        layout = state_layout(net)
        words = []
        for local in range(net.depth):
            values = {"v": int(v0[local * net.lanes + lane]), "ref": 0, "pulse": 0}
            values |= {channel_field("i", c): 0 for c in range(len(net.channels))}
            words.append(pack(layout, values))
        return words

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
        bank = Signal()  # the accumulator bank the sweep reads this step (timestep % 2)
        steps_left = Signal(16)
        m.d.comb += [self.timestep.eq(timestep)]

        # -- per-lane memories ------------------------------------------------------------------------
        rowinfo, entries, bases = row_tables(net, self.rows)
        entry_bits, length_bits = row_field_bits(rowinfo, entries)
        info_layout = data.StructLayout({"start": unsigned(entry_bits), "length": unsigned(length_bits)})
        entry_layout = data.StructLayout({"target": unsigned(idx_bits), "weight": signed(net.widths.w)})
        state_r, state_w, param_r, hist_r, hist_w, info_r, entry_r = ([] for _ in range(7))
        shared = population_words(net)  # a word per population, or None: a parameter memory per lane
        acc_r = [[[None, None] for _ in range(channels)] for _ in range(lanes)]  # [lane][channel][bank]
        acc_w = [[[None, None] for _ in range(channels)] for _ in range(lanes)]
        for lane in range(lanes):
            memories = {
                "state": Memory(shape=unsigned(s_layout.size), depth=depth, init=self._state_words(lane)),
                **({"param": Memory(shape=unsigned(param_layout(net).size), depth=depth,
                                    init=param_words(net, lane))} if shared is None else {}),
                "hist": Memory(shape=unsigned(idx_bits), depth=self.history, init=[]),
                "rowinfo": TiledROM(info_layout.size,
                                    [start | (length << entry_bits) for start, length in rowinfo[lane]]),
                "entries": TiledROM(entry_layout.size, entries[lane]),
            }
            for name, memory in memories.items():
                m.submodules[f"{name}{lane}"] = memory
            state_r.append(memories["state"].read_port())
            state_w.append(memories["state"].write_port())
            param_r.append(memories["param"].read_port() if shared is None else None)
            hist_r.append(memories["hist"].read_port())
            hist_w.append(memories["hist"].write_port())
            info_r.append(memories["rowinfo"])
            entry_r.append(memories["entries"])
            for c in range(channels):
                for b in range(2):
                    # the read data passes the RAM's output register (an ECP5 EBR's own: its bare output is
                    # too slow to add to and write back in one cycle at 90 MHz): a read takes two cycles
                    acc_mem = RegisteredRAM(signed(net.acc_bits), depth)
                    m.submodules[f"acc{lane}_{c}_{b}"] = acc_mem
                    m.d.comb += [acc_mem.r_en.eq(1), acc_mem.o_en.eq(1)]
                    acc_r[lane][c][b] = acc_mem
                    acc_w[lane][c][b] = acc_mem

        # -- the sweep: issue, datapath, write-back, history -------------------------------------------
        sweeping = Signal()  # local indices are being issued
        index = Signal(idx_bits)
        # a local index's reads: state and parameters from their RAMs and a register, the accumulators through
        # their output register: all three two cycles after the issue, then registered once more (`held`) before
        # the datapath, so that a block RAM's slow output only reaches a register of its own, wherever the
        # placer puts the datapath
        read_valid, read_index = Signal(), Signal(idx_bits)  # the cycle after the issue
        data_valid, data_index = Signal(), Signal(idx_bits)  # the read data
        held_valid, held_index = Signal(), Signal(idx_bits)  # the read data registered, at the datapath's inputs
        m.d.sync += [read_valid.eq(sweeping), read_index.eq(index), data_valid.eq(read_valid),
                     data_index.eq(read_index), held_valid.eq(data_valid), held_index.eq(data_index)]
        stage_valid = [read_valid, data_valid, held_valid]
        stage_index = [read_index, data_index, held_index]
        for k in range(self.latency):
            v, i = Signal(name=f"dp_valid{k}"), Signal(idx_bits, name=f"dp_index{k}")
            m.d.sync += [v.eq(stage_valid[-1]), i.eq(stage_index[-1])]
            stage_valid.append(v)
            stage_index.append(i)
        out_valid, out_index = stage_valid[-1], stage_index[-1]
        sweep_busy = Signal()  # an update is issued or on its way: more spikes may come this step
        lead = sweep_lead(net)
        leading = Signal(range(lead + 1))  # counts the sweep's lead down (external input: its first draws)
        m.d.comb += sweep_busy.eq(sweeping | (leading != 0) | Cat(*stage_valid).any())
        with m.If(leading != 0):
            m.d.sync += leading.eq(leading - 1)
            with m.If(leading == 1):
                m.d.sync += [sweeping.eq(1), index.eq(0)]
        # the external input's draws run `lead` cycles ahead of the sweep, from the step's first cycle
        ext_drawing, ext_index = Signal(), Signal(idx_bits)
        step_term = Signal(32)  # t N mod 2**32, the step's part of every draw's counter
        with m.If(ext_drawing):
            m.d.sync += ext_index.eq(ext_index + 1)
            with m.If(ext_index == depth - 1):
                m.d.sync += ext_drawing.eq(0)
        with m.If(sweeping):
            m.d.sync += index.eq(index + 1)
            with m.If(index == depth - 1):
                m.d.sync += sweeping.eq(0)

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
            if lead:
                m.submodules[f"external{lane}"] = source = PoissonInput(net, lane, idx_bits)
                m.d.comb += [source.index.eq(ext_index), source.step_term.eq(step_term), dp.ext.eq(source.ext)]
            else:
                m.d.comb += dp.ext.eq(0)
            state_data = Signal.like(state_r[lane].data, name=f"state_data{lane}")
            param_data = Signal(param_layout(net), name=f"param_data{lane}")
            m.d.sync += state_data.eq(state_r[lane].data)
            if shared is None:
                m.d.sync += param_data.eq(param_r[lane].data)
                m.d.comb += param_r[lane].addr.eq(index)
            else:  # the population's word, by the neuron's index (the read's, a cycle after the issue)
                m.d.sync += param_data.eq(population_word(net, shared, read_index * lanes + lane))
            state_held = Signal.like(state_data, name=f"state_held{lane}")
            param_held = Signal.like(param_data, name=f"param_held{lane}")
            acc_held = [Signal(signed(net.acc_bits), name=f"acc_held{lane}_{c}") for c in range(channels)]
            m.d.sync += [state_held.eq(state_data), param_held.eq(param_data),
                         *(acc_held[c].eq(Mux(bank, acc_r[lane][c][1].r_data, acc_r[lane][c][0].r_data))
                           for c in range(channels))]
            m.d.comb += [
                state_r[lane].addr.eq(index),
                dp.state.eq(state_held), dp.params.eq(param_held),
                *(getattr(dp, channel_field("acc", c)).eq(acc_held[c]) for c in range(channels)),
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

        # -- propagation -------------------------------------------------------------------------------
        classes = delay_classes(self.rows)
        order = [k for _, members in classes for k in members]  # projections, class by class
        cls = Signal(range(max(1, len(classes))))
        member = Signal(range(max(1, len(order))))  # position in `order`
        proj = Array(Const(k, range(max(1, len(self.rows)))) for k in order or [0])[member]
        class_of = [c for c, (_, members) in enumerate(classes) for _ in members]

        def first_match(x, after=None):  # the spike's first projection of this delay (after position `after`)
            return first_projection(self.rows, order, class_of, cls, x, after)
        late = int(self.inject_bug == "window_one_step_late")
        class_slot = Array(Const((slots + 1 - d - late) % slots, range(slots)) for d, _ in classes or [(1, [])])[cls]
        # delay 1: the window's end is the history's write pointer, moving while the sweep runs; registered when
        # the class is loaded (CLASS), so the windows' and the class's end do not start at `cls`'s decoder
        live = Signal()
        class_live = Array(Const(int(d == 1 and not late), 1) for d, _ in classes or [(2, [])])[cls]
        first_slot = Signal(range(slots))
        m.d.comb += first_slot.eq(Mux_mod(slot + class_slot, slots))

        pointer = [Signal(hist_bits + 1, name=f"ptr{lane}") for lane in range(lanes)]
        window_end = [Signal(hist_bits + 1, name=f"end{lane}") for lane in range(lanes)]
        end_now = [Mux(live, write_pointer[lane], window_end[lane]) for lane in range(lanes)]
        waiting = [pointer[lane] != end_now[lane] for lane in range(lanes)]
        any_waiting = Cat(*waiting).any()

        parts = self.rows or [_NoProjection()]  # a network without projections still elaborates
        source_offset = Array(Const(p.source_offset, target_bits + 1) for p in parts)[proj]
        channel_of = Array(Const(p.channel, range(channels)) for p in parts)[proj]
        base = Array(Const(b, bits_for(len(rowinfo[0]) + 1)) for b in bases or [0])[proj]
        spike = Signal(target_bits + 1)  # the spike being delivered, global index
        more, next_after = first_match(spike, member)  # the spike's next projection of this delay, if any
        # regenerated rows: per procedural projection its row keys and weights (ROMs read at the spike's local
        # index), a RowGenerator per distinct skip table
        generated = [getattr(p, "procedural", None) for p in parts]
        generators = []
        for g, table in enumerate(self.tables):
            longest_row = max(gen.target_size for gen in generated if gen is not None and tuple(gen.table) == table)
            generators.append(RowGenerator(list(table), target_bits=max(1, (longest_row - 1).bit_length()),
                                           width=self.generator_width))
            m.submodules[f"rows{g}"] = generators[-1]
        key_data, weight_data = [], []
        for k, gen in enumerate(generated):
            if gen is None:
                key_data.append(Const(0, 32))
                weight_data.append(Const(0, signed(net.widths.w)))
                continue
            # tiled ROMs (three cycles however deep): addressed in PROJECTION, read through KEY and KEY2, offered
            # to the generator in REQUEST
            keys = TiledROM(32, [int(x) for x in gen.keys])
            m.submodules[f"keys{k}"] = keys
            m.d.comb += keys.addr.eq(spike - source_offset)
            key_data.append(keys.data)
            if np.ndim(gen.weight):
                mask = (1 << net.widths.w) - 1
                weights = TiledROM(net.widths.w, [int(x) & mask for x in gen.weight])
                m.submodules[f"weights{k}"] = weights
                m.d.comb += weights.addr.eq(spike - source_offset)
                weight_data.append(weights.data.as_signed())
            else:
                weight_data.append(Const(int(gen.weight), signed(net.widths.w)))
        is_generated, generator_of, target_offset, target_size = regenerated_constants(generated, self.tables, proj,
                                                                                       target_bits)
        row_weight = Signal(signed(net.widths.w))
        generator_now = Signal(range(max(1, len(self.tables))))
        requesting, drawing = Signal(), Signal()  # offering a row to the generator; taking its beats
        width = self.generator_width
        # a beat of the generator's: up to `width` targets, each to its own lane's queue of drawn beats; a beat is
        # taken when every lane's queue has room for it (`drawn_room`, from the queues' registered levels)
        drawn_valid, drawn_end, drawn_room = Signal(), Signal(), Signal()
        drawn_hit = Signal(width)
        drawn_index = [Signal(target_bits + 1, name=f"drawn_index{i}") for i in range(width)]
        for g, gen in enumerate(generators):
            mine = generator_now == g
            m.d.comb += [gen.row.valid.eq(requesting & mine), gen.row.payload.key.eq(Array(key_data)[proj]),
                         gen.row.payload.length.eq(target_size), gen.target.ready.eq(drawing & mine & drawn_room)]
            with m.If(mine):
                m.d.comb += [drawn_valid.eq(gen.target.valid), drawn_end.eq(gen.target.payload.end),
                             drawn_hit.eq(gen.target.payload.hit),
                             *(drawn_index[i].eq(gen.target.payload.index[i]) for i in range(width))]
        row_ready = Array(gen.row.ready for gen in generators or [Const(0)])[generator_now] if generators else Const(0)
        drawn_taken = Signal()  # a beat goes to the lanes' queues in this cycle
        m.d.comb += drawn_taken.eq(drawing & drawn_valid & drawn_room)
        drawn_global = [Signal(target_bits + 1, name=f"drawn_global{i}") for i in range(width)]
        m.d.comb += [drawn_global[i].eq(target_offset + drawn_index[i]) for i in range(width)]
        lane_bits = (lanes - 1).bit_length()
        # the spike reader: while the front end is not loading a window, it takes one spike a cycle from the first
        # lane whose window has one (its history read at the lane's pointer, registered beside the RAM, two cycles
        # on) and queues it, global index, if a projection of this delay starts at its population; a spike is
        # taken only when the queue will have room for it
        reader_on = Signal()  # the front end is past loading this delay's windows
        history_regs = [Signal(idx_bits, name=f"history{lane}") for lane in range(lanes)]
        m.d.sync += [history_regs[lane].eq(hist_r[lane].data) for lane in range(lanes)]
        spikes_queued = Signal(range(SPIKE_QUEUE + 1))
        spike_queue = Array(Signal(target_bits + 1, name=f"spike_queue{k}") for k in range(SPIKE_QUEUE))
        spike_head, spike_tail = Signal(range(SPIKE_QUEUE)), Signal(range(SPIKE_QUEUE))
        reading = [Signal(name=f"reading{k}") for k in (1, 2)]  # a history read one and two cycles on
        reading_lane = [Signal(range(lanes), name=f"reading_lane{k}") for k in (1, 2)]
        picked = Signal(range(lanes))
        for lane in reversed(range(lanes)):  # the first lane with a spike waiting
            picked = Mux(waiting[lane], lane, picked)
        take = Signal()
        m.d.comb += take.eq(reader_on & any_waiting & (spikes_queued + reading[0] + reading[1] < SPIKE_QUEUE))
        for lane in range(lanes):
            m.d.comb += [hist_r[lane].addr.eq(pointer[lane][:hist_bits]),
                         info_r[lane].addr.eq(base + spike - source_offset)]
            with m.If(take & (picked == lane)):
                m.d.sync += pointer[lane].eq(pointer[lane] + 1)
        m.d.sync += [reading[0].eq(take), reading_lane[0].eq(picked), reading[1].eq(reading[0]),
                     reading_lane[1].eq(reading_lane[0])]
        arrived = Signal(target_bits + 1)
        m.d.comb += arrived.eq(Array(history_regs)[reading_lane[1]] * lanes + reading_lane[1])
        relevant, _ = first_match(arrived)
        push_spike, pop_spike = Signal(), Signal()
        m.d.comb += push_spike.eq(reading[1] & relevant)
        with m.If(push_spike):
            m.d.sync += [spike_queue[spike_tail].eq(arrived),
                         spike_tail.eq(Mux(spike_tail == SPIKE_QUEUE - 1, 0, spike_tail + 1))]
        with m.If(pop_spike):
            m.d.sync += spike_head.eq(Mux(spike_head == SPIKE_QUEUE - 1, 0, spike_head + 1))
        m.d.sync += spikes_queued.eq(spikes_queued + push_spike - pop_spike)
        next_spike = spike_queue[spike_head]
        _, next_first = first_match(next_spike)  # queued spikes have one: the reader kept only those
        reader_done = ~any_waiting & ~reading[0] & ~reading[1] & (spikes_queued == 0)

        # stored rows: the front end reads a (spike, projection)'s row info in every lane at once (`launch`; its
        # tiled ROMs answer three cycles later) and queues each lane's part (start, end, channel) in the lane's
        # `ROW_QUEUE`-deep queue; each lane walks its queued parts back to back, one entry per cycle, however long
        # the other lanes' parts are, and its own accumulation pipeline follows. A read is launched only when
        # every lane's queue will have room for it (`room`): its parts plus the reads on their way.
        launch = Signal()
        launched = [Signal(name=f"launched{k}") for k in range(TiledROM.LATENCY)]  # a read 1, 2, 3 cycles on
        launched_channel = [Signal(range(channels), name=f"launched_channel{k}") for k in range(TiledROM.LATENCY)]
        m.d.sync += [launched[0].eq(launch), launched_channel[0].eq(channel_of),
                     *(launched[k + 1].eq(launched[k]) for k in range(TiledROM.LATENCY - 1)),
                     *(launched_channel[k + 1].eq(launched_channel[k]) for k in range(TiledROM.LATENCY - 1))]
        on_way = sum(x.as_unsigned() for x in launched)
        part_layout = data.StructLayout({"start": unsigned(entry_bits), "end": unsigned(entry_bits),
                                         "channel": unsigned(max(1, (channels - 1).bit_length()))})
        queue_bits = (ROW_QUEUE - 1).bit_length()
        entry_ptr = [Signal(entry_bits, name=f"entry{lane}") for lane in range(lanes)]
        entry_end = [Signal(entry_bits, name=f"entry_end{lane}") for lane in range(lanes)]
        walk_channel = [Signal(range(channels), name=f"walk_channel{lane}") for lane in range(lanes)]
        queued = [Signal(range(ROW_QUEUE + 1), name=f"queued{lane}") for lane in range(lanes)]
        room = Cat(*(queued[lane] + on_way < ROW_QUEUE for lane in range(lanes))).all()
        walks_idle = Cat(*((queued[lane] == 0) & (entry_ptr[lane] == entry_end[lane])
                           for lane in range(lanes))).all() & (on_way == 0)
        issue = [Signal(name=f"issue{lane}") for lane in range(lanes)]
        accumulating = [*launched]
        # drawn beats: per lane a queue of (its slots of the beat, their local targets, channel, weight); the lane
        # takes one target a cycle from its current beat, lowest slot first, and the next beat from its queue as
        # the current one's last target goes, so that a lane walks its drawn targets back to back
        drawn_entry = data.StructLayout({"hit": unsigned(width), "local": data.ArrayLayout(unsigned(idx_bits), width),
                                         "channel": unsigned(max(1, (channels - 1).bit_length())),
                                         "weight": signed(net.widths.w)})
        drawn_queued = [Signal(range(DRAWN_QUEUE + 1), name=f"drawn_queued{lane}") for lane in range(lanes)]
        drawn_current = [Signal(drawn_entry, name=f"drawn_current{lane}") for lane in range(lanes)]
        m.d.comb += drawn_room.eq(Cat(*(drawn_queued[lane] < DRAWN_QUEUE for lane in range(lanes))).all())
        drawn_idle = Cat(*((drawn_queued[lane] == 0) & (drawn_current[lane].hit == 0) for lane in range(lanes))).all()
        row_channel = Signal(range(channels))  # a regenerated row's
        infos = [data.View(info_layout, info_r[lane].data) for lane in range(lanes)]  # three cycles after the address
        for lane in range(lanes):
            queue = Array(Signal(part_layout, name=f"part{lane}_{k}") for k in range(ROW_QUEUE))
            head, tail = Signal(queue_bits, name=f"head{lane}"), Signal(queue_bits, name=f"tail{lane}")
            push = Signal(name=f"push{lane}")
            pop = Signal(name=f"pop{lane}")
            m.d.comb += [push.eq(launched[-1] & (infos[lane].length != 0)),
                         issue[lane].eq(entry_ptr[lane] != entry_end[lane]),
                         pop.eq((queued[lane] != 0) & ((entry_ptr[lane] == entry_end[lane])
                                                       | (entry_ptr[lane] + 1 == entry_end[lane]))),
                         entry_r[lane].addr.eq(entry_ptr[lane])]
            with m.If(push):
                m.d.sync += [queue[tail].start.eq(infos[lane].start),
                             queue[tail].end.eq(infos[lane].start + infos[lane].length),
                             queue[tail].channel.eq(launched_channel[-1]), tail.eq(tail + 1)]
            m.d.sync += queued[lane].eq(queued[lane] + push - pop)
            with m.If(pop):  # the next part starts as the last entry of this one issues: no bubble between parts
                m.d.sync += [entry_ptr[lane].eq(queue[head].start), entry_end[lane].eq(queue[head].end),
                             walk_channel[lane].eq(queue[head].channel), head.eq(head + 1)]
            with m.Elif(issue[lane]):
                m.d.sync += entry_ptr[lane].eq(entry_ptr[lane] + 1)
            accumulating += [queued[lane] != 0]
            # a stored entry: its tiled ROM's data three cycles after the issue (e1)
            reads = [Signal(name=f"e0_read{lane}_{k}") for k in range(TiledROM.LATENCY)]
            channels_on_way = [Signal(range(channels), name=f"e0_channel{lane}_{k}") for k in range(TiledROM.LATENCY)]
            m.d.sync += [reads[0].eq(issue[lane]), channels_on_way[0].eq(walk_channel[lane]),
                         *(reads[k + 1].eq(reads[k]) for k in range(TiledROM.LATENCY - 1)),
                         *(channels_on_way[k + 1].eq(channels_on_way[k]) for k in range(TiledROM.LATENCY - 2))]
            e1_read = reads[-1]
            e1_channel = channels_on_way[-1]
            stored = data.View(entry_layout, entry_r[lane].data)
            # this lane's queue of drawn beats
            mine = Cat(*(drawn_hit[i] & (drawn_global[i][:lane_bits] == lane if lane_bits else 1)
                         for i in range(width)))
            fresh = Signal(drawn_entry, name=f"drawn_fresh{lane}")
            m.d.comb += [fresh.hit.eq(mine), fresh.channel.eq(row_channel), fresh.weight.eq(row_weight),
                         *(fresh.local[i].eq(drawn_global[i] >> lane_bits) for i in range(width))]
            drawn_queue = Array(Signal(drawn_entry, name=f"drawn{lane}_{k}") for k in range(DRAWN_QUEUE))
            drawn_head = Signal(range(DRAWN_QUEUE), name=f"drawn_head{lane}")
            drawn_tail = Signal(range(DRAWN_QUEUE), name=f"drawn_tail{lane}")
            current = drawn_current[lane]
            lowest = Signal(width, name=f"drawn_lowest{lane}")  # the current beat's lowest slot left, one-hot
            m.d.comb += lowest.eq(current.hit & -current.hit)
            taking = Signal(name=f"drawn_take{lane}")
            drawn_push, drawn_pop = Signal(name=f"drawn_push{lane}"), Signal(name=f"drawn_pop{lane}")
            m.d.comb += [taking.eq(current.hit != 0), drawn_push.eq(drawn_taken & (mine != 0)),
                         drawn_pop.eq((drawn_queued[lane] != 0) & ((current.hit & ~lowest) == 0))]
            with m.If(drawn_push):
                m.d.sync += [drawn_queue[drawn_tail].eq(fresh),
                             drawn_tail.eq(Mux(drawn_tail == DRAWN_QUEUE - 1, 0, drawn_tail + 1))]
            with m.If(drawn_pop):
                m.d.sync += [current.eq(drawn_queue[drawn_head]),
                             drawn_head.eq(Mux(drawn_head == DRAWN_QUEUE - 1, 0, drawn_head + 1))]
            with m.Elif(taking):
                m.d.sync += current.hit.eq(current.hit & ~lowest)
            m.d.sync += drawn_queued[lane].eq(drawn_queued[lane] + drawn_push - drawn_pop)
            # a drawn target of this lane, registered: it stands where a stored entry's read data would
            e1_drawn, e1_drawn_local = Signal(name=f"e1_drawn{lane}"), Signal(idx_bits, name=f"e1_drawn_local{lane}")
            e1_drawn_weight = Signal(signed(net.widths.w), name=f"e1_drawn_weight{lane}")
            local_now = current.local[0]
            for i in reversed(range(width)):
                local_now = Mux(lowest[i], current.local[i], local_now)
            m.d.sync += [e1_drawn.eq(taking), e1_drawn_local.eq(local_now), e1_drawn_weight.eq(current.weight),
                         e1_channel.eq(Mux(taking, current.channel, channels_on_way[-2]))]
            e1_valid = e1_read | e1_drawn
            e1_local = Mux(e1_drawn, e1_drawn_local, stored.target)
            e1_weight = Mux(e1_drawn, e1_drawn_weight, stored.weight)
            # the accumulator's read is issued at e1, its data arrives two cycles later (e3) and is registered
            # after the bank and channel choice (e4), where the sum is made and registered; it is written back
            # from that register (e5: the route from the adder to a far block RAM gets a cycle of its own). The
            # writes of the four previous connections are not in the data yet (the oldest lands in the read's
            # own cycle), so they are forwarded, the latest first
            staged = []
            for k in (2, 3, 4):
                stage = {"valid": Signal(name=f"e{k}_valid{lane}"), "local": Signal(idx_bits, name=f"e{k}_local{lane}"),
                         "channel": Signal(range(channels), name=f"e{k}_channel{lane}"),
                         "weight": Signal(signed(net.widths.w), name=f"e{k}_weight{lane}")}
                previous = staged[-1] if staged else {"valid": e1_valid, "local": e1_local, "channel": e1_channel,
                                                      "weight": e1_weight}
                m.d.sync += [stage[name].eq(previous[name]) for name in stage]
                staged.append(stage)
            e3, e4 = staged[-2], staged[-1]
            # the read data of the bank and channel this connection adds to, registered (e4)
            prop_data = Array(Mux(bank, acc_r[lane][c][0].r_data, acc_r[lane][c][1].r_data) for c in range(channels))
            selected = Signal(signed(net.acc_bits), name=f"selected{lane}")
            m.d.sync += selected.eq(prop_data[e3["channel"]])
            written = []  # the sums of the four previous cycles, the latest first: (valid, local, channel, sum)
            for k in (1, 2, 3, 4):
                written.append({"valid": Signal(name=f"w{k}_valid{lane}"),
                                "local": Signal(idx_bits, name=f"w{k}_local{lane}"),
                                "channel": Signal(range(channels), name=f"w{k}_channel{lane}"),
                                "sum": Signal(signed(net.acc_bits), name=f"w{k}_sum{lane}")})
            total = Signal(signed(net.acc_bits), name=f"total{lane}")
            forwarding = self.inject_bug != "accumulate_without_forwarding"
            # which of the four writes before it each connection meets, found a cycle early (at e3, against the
            # connection then at e4 and the first three writes) and registered: at e4 only the choice and the add
            hits = [Signal(name=f"hit{k}_{lane}") for k in range(4)]
            ahead = [e4, *written[:3]]
            m.d.sync += [hit.eq(w["valid"] & (w["local"] == e3["local"]) & (w["channel"] == e3["channel"])
                                & forwarding) for hit, w in zip(hits, ahead, strict=True)]
            earlier = selected
            for w, hit in reversed(list(zip(written, hits, strict=True))):  # the latest write wins
                earlier = Mux(hit, w["sum"], earlier)
            m.d.comb += total.eq(earlier + e4["weight"])
            m.d.sync += [written[0]["valid"].eq(e4["valid"]), written[0]["local"].eq(e4["local"]),
                         written[0]["channel"].eq(e4["channel"]), written[0]["sum"].eq(total),
                         *(written[k + 1][name].eq(written[k][name]) for k in (0, 1, 2) for name in written[k])]
            e5 = written[0]  # the sum being written back
            accumulating += [issue[lane], *reads, e1_drawn, drawn_queued[lane] != 0, taking,
                             *(stage["valid"] for stage in staged), e5["valid"]]
            for c in range(channels):
                for b in range(2):
                    rp, wp = acc_r[lane][c][b], acc_w[lane][c][b]
                    with m.If(bank == b):  # the sweep's: read this step's input, clear it (a cycle on) for t + 2
                        m.d.comb += [rp.r_addr.eq(index), wp.w_addr.eq(read_index), wp.w_data.eq(0),
                                     wp.w_en.eq(read_valid)]
                    with m.Else():  # propagation's: step t + 1's
                        m.d.comb += [rp.r_addr.eq(e1_local), wp.w_addr.eq(e5["local"]), wp.w_data.eq(e5["sum"]),
                                     wp.w_en.eq(e5["valid"] & (e5["channel"] == c))]
        drained = ~Cat(*accumulating).any()

        propagating = Signal()
        cycles = Signal(32)
        m.d.sync += cycles.eq(cycles + 1)
        start_step = Signal()
        m.d.comb += [self.run.ready.eq(0), self.busy.eq(1)]
        with m.If(start_step):
            m.d.sync += [cycles.eq(1), cls.eq(0), propagating.eq(len(classes) > 0)]
            if lead:
                m.d.sync += [leading.eq(lead), ext_drawing.eq(1), ext_index.eq(0)]
            else:
                m.d.sync += [sweeping.eq(1), index.eq(0)]

        m.d.sync += self.step_done.eq(0)  # the step's end below raises it for one cycle
        # both engines done, registered: the step ends a cycle later, and its many enables start at a register
        # instead of at the end of the busy and drained trees (never on the cycle a step starts: stale)
        step_over = Signal()
        m.d.sync += step_over.eq(~sweep_busy & ~propagating & drained & ~start_step)
        # the sweep over, registered (a cycle late: a live class ends a cycle after the sweep; stale only in a
        # step's first cycle, when the front end is loading its first class)
        sweep_idle = Signal()
        m.d.sync += sweep_idle.eq(~sweep_busy)
        with m.FSM(name="control"):
            with m.State("IDLE"):
                m.d.comb += [self.run.ready.eq(1), self.busy.eq(0)]
                with m.If(self.run.valid & (self.run.payload != 0)):
                    m.d.sync += steps_left.eq(self.run.payload)
                    m.d.comb += start_step.eq(1)
                    m.next = "STEP"
            with m.State("STEP"):
                with m.If(step_over):
                    for lane in range(lanes):
                        m.d.sync += starts[lane][Mux_mod(slot + 1, slots)].eq(write_pointer[lane])
                    m.d.sync += [timestep.eq(timestep + 1), slot.eq(Mux_mod(slot + 1, slots)), bank.eq(~bank),
                                 step_term.eq(step_term + net.neurons * (self.inject_bug != "external_counter_stale")),
                                 steps_left.eq(steps_left - 1), self.step_cycles.eq(cycles)]
                    m.d.sync += self.step_done.eq(1)
                    with m.If(steps_left == 1):
                        m.next = "IDLE"
                    with m.Else():  # the next step starts at this edge, on the swapped bank
                        m.d.comb += start_step.eq(1)

        with m.FSM(name="propagation"):
            with m.State("CLASS"):  # the windows of this delay: every lane's pointers
                with m.If(propagating):
                    for lane in range(lanes):
                        m.d.sync += [pointer[lane].eq(starts[lane][first_slot]),
                                     window_end[lane].eq(starts[lane][Mux_mod(first_slot + 1, slots)])]
                    m.d.sync += live.eq(class_live)
                    m.next = "PICK"
            with m.State("PICK"):  # the next queued spike and its first projection of this delay, or the next delay
                m.d.comb += reader_on.eq(1)
                with m.If(spikes_queued != 0):
                    m.d.comb += pop_spike.eq(1)
                    m.d.sync += [spike.eq(next_spike), member.eq(next_first)]
                    m.next = "PROJECTION"
                with m.Elif(reader_done & (~live | sweep_idle)):
                    with m.If(cls == len(classes) - 1):
                        m.d.sync += propagating.eq(0)
                    with m.Else():
                        m.d.sync += cls.eq(cls + 1)
                    m.next = "CLASS"
            with m.State("PROJECTION"):  # a projection of this delay that starts at the spike's population
                m.d.comb += reader_on.eq(1)
                with m.If(is_generated):
                    # the generator's targets enter the lanes' pipelines where stored entries do: once the
                    # stored walks are over
                    with m.If(walks_idle):
                        m.d.sync += [row_channel.eq(channel_of), generator_now.eq(generator_of)]
                        m.next = "KEY"
                with m.Elif(room & drawn_idle):  # read its row parts; after the spike's last, straight to the next
                    m.d.comb += launch.eq(1)
                    m.d.sync += member.eq(next_after)
                    with m.If(~more):
                        with m.If(spikes_queued != 0):
                            m.d.comb += pop_spike.eq(1)
                            m.d.sync += [spike.eq(next_spike), member.eq(next_first)]
                        with m.Else():
                            m.next = "PICK"
            with m.State("KEY"):  # the row's key and weight pass their ROMs' registers
                m.d.comb += reader_on.eq(1)
                m.next = "KEY2"
            with m.State("KEY2"):
                m.d.comb += reader_on.eq(1)
                m.next = "REQUEST"
            with m.State("REQUEST"):  # the row's key to its generator
                m.d.comb += [requesting.eq(1), reader_on.eq(1)]
                m.d.sync += row_weight.eq(Array(weight_data)[proj])
                with m.If(row_ready):
                    m.next = "DRAW"
            with m.State("DRAW"):  # the generator's beats, one per cycle, to the lanes' queues, until the row's end
                m.d.comb += [drawing.eq(1), reader_on.eq(1)]
                with m.If(drawn_taken & drawn_end):
                    m.d.sync += member.eq(next_after)
                    m.next = "PICK"
                    with m.If(more):
                        m.next = "PROJECTION"
        return m


def regenerated_constants(generated, tables, proj, target_bits: int):
    """The projection `proj`'s (a Signal indexing `generated`, each projection's `Procedural` or None) regenerated-row
    constants as multiplexers: whether its rows are regenerated, its generator (the index of its skip table in
    `tables`), its target population's first index and size."""
    is_generated = Array(Const(int(gen is not None), 1) for gen in generated)[proj]
    generator_of = Array(Const(tables.index(tuple(gen.table)) if gen is not None else 0, range(max(1, len(tables))))
                         for gen in generated)[proj]
    target_offset = Array(Const(gen.target_offset if gen is not None else 0, target_bits + 1)
                          for gen in generated)[proj]
    target_size = Array(Const(gen.target_size if gen is not None else 0, target_bits + 1) for gen in generated)[proj]
    return is_generated, generator_of, target_offset, target_size


class _NoProjection:
    source_offset = source_size = channel = 0


def Mux_mod(value, modulus: int):  # noqa: N802 - reads as the Mux it builds
    """value mod `modulus` for a value in [0, 2 * modulus): one compare and one subtract."""
    return Mux(value >= modulus, value - modulus, value)[:bits_for(modulus) + 1]


#: cycles from a local index's issue to the datapath's inputs: the memories' read, its register, one more
READ_STAGES = 3
#: cycles between a local index's read and its state written back, the datapath's stages aside: the read stages
#: and the write-back (the "pipeline latency" of the bound max(D, fan-out / P) + latency)
SWEEP_LATENCY = READ_STAGES + 1


__all__ = ["BUGS", "SWEEP_LATENCY", "NetworkCore", "delay_classes", "history_depth", "lane_lengths", "lane_rows",
           "monitor_layout", "param_words", "population_words", "row_tables", "step_cycles"]
