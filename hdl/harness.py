"""The array with its streams packed wide, for consumers that are slow per transfer (testbench, host).

A Python testbench pays tens of microseconds per transfer whatever its width, so the streams are
packed until a transfer is about `MAX_TRANSFER_BITS` wide (`MAX_BEATS` beats at most), which is
several timesteps of updates for small arrays:

- `monitor` carries `monitor_pack(spec)` monitor beats per transfer, flushed early when the array
  goes idle (a partial transfer holds its beats in the top slots, see `StreamPacker`);
- `stim` takes `stim_pack(spec)` stimulus beats per transfer (beats past the end of a run are
  never consumed);
- `spikes` carries up to `SPIKE_PACK` AER events, flushed early when the array goes idle.

`status` gathers the handshake signals a testbench polls into one word: stim.ready, monitor.valid,
spikes.valid, busy; `attention` rises when any transfer can happen, so a testbench can sleep on
one edge.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Shape, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import ArraySpec

from .array import NeuronArray
from .bridge import BridgedArray
from .layouts import aer_layout, cfg_layout, monitor_layout, stats_layout, stim_layout
from .streams import StreamPacker, StreamUnpacker, packed_layout

SPIKE_PACK = 32
MAX_BEATS = 128
MAX_TRANSFER_BITS = 32768


def _beats_per_transfer(beat_bits: int) -> int:
    return max(1, min(MAX_BEATS, MAX_TRANSFER_BITS // beat_bits))


def monitor_pack(spec: ArraySpec) -> int:
    """Monitor beats per wide transfer."""
    return _beats_per_transfer(monitor_layout(spec).size)


def stim_pack(spec: ArraySpec) -> int:
    """Stimulus beats per wide transfer."""
    return _beats_per_transfer(stim_layout(spec).size)


def packed_monitor_layout(spec: ArraySpec, pack: int):
    return packed_layout(monitor_layout(spec), pack)


def packed_aer_layout(spec: ArraySpec):
    return packed_layout(aer_layout(spec), SPIKE_PACK)


def packed_stim_layout(spec: ArraySpec, pack: int):
    return data.ArrayLayout(stim_layout(spec), pack)


class PackedArray(wiring.Component):
    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None):
        self.spec = spec
        self.inject_bug = inject_bug
        self.pack = monitor_pack(spec)
        self.stim_pack = stim_pack(spec)
        self._stim = StreamUnpacker(stim_layout(spec), self.stim_pack)
        self._monitor = StreamPacker(monitor_layout(spec), self.pack)
        self._spikes = StreamPacker(aer_layout(spec), SPIKE_PACK)
        super().__init__({
            "run": In(stream.Signature(16)),
            "cfg": In(stream.Signature(cfg_layout(spec))),
            # flat words laid out as packed_*_layout: one signal each in the simulator
            "stim": In(stream.Signature(packed_stim_layout(spec, self.stim_pack).size)),
            "monitor": Out(stream.Signature(packed_monitor_layout(spec, self.pack).size)),
            "spikes": Out(stream.Signature(packed_aer_layout(spec).size)),
            "status": Out(4),
            "attention": Out(1),
            "busy": Out(1),
            "timestep": Out(32),
            "stats": Out(stats_layout()),
        })

    def elaborate(self, platform):
        m = Module()
        array = NeuronArray(self.spec, inject_bug=self.inject_bug)
        m.submodules.array = array
        m.submodules.stim_unpacker = self._stim
        m.submodules.monitor_packer = self._monitor
        m.submodules.spike_packer = self._spikes
        wiring.connect(m, wiring.flipped(self.run), array.run)
        wiring.connect(m, wiring.flipped(self.cfg), array.cfg)
        wiring.connect(m, wiring.flipped(self.stim), self._stim.wide)
        wiring.connect(m, self._stim.narrow, array.stim)
        wiring.connect(m, array.monitor, self._monitor.narrow)
        wiring.connect(m, self._monitor.wide, wiring.flipped(self.monitor))
        wiring.connect(m, array.spikes, self._spikes.narrow)
        wiring.connect(m, self._spikes.wide, wiring.flipped(self.spikes))
        m.d.comb += [
            self._monitor.flush.eq(~array.busy),
            self._spikes.flush.eq(~array.busy),
            self.busy.eq(array.busy),
            self.timestep.eq(array.timestep),
            self.stats.eq(array.stats),
            self.status.eq(Cat(self.stim.ready, self.monitor.valid, self.spikes.valid, array.busy)),
            # rises when a transfer can happen: what a sleeping testbench waits for
            self.attention.eq(self.monitor.valid | self.spikes.valid | (self.stim.valid & self.stim.ready)),
        ]
        return m


class BoardProbe(wiring.Component):
    """The board's bridged array (UART lines in and out) with its monitor tapped and packed wide,
    for the co-simulation testbench: the host's bytes go in on `rx`, its records come out on `tx`,
    and every update the array makes comes out on `monitor` for the scoreboard."""

    def __init__(self, spec: ArraySpec, *, divisor: int, inject_bug: str | None = None, **memory_options):
        self.spec = spec
        self.pack = monitor_pack(spec)
        self._core = BridgedArray(spec, divisor=divisor, blink_cycles=16, tap=True, inject_bug=inject_bug,
                                  **memory_options)
        self._monitor = StreamPacker(monitor_layout(spec), self.pack)
        super().__init__({
            "rx": In(1, init=1),
            "tx": Out(1, init=1),
            "activity": Out(2),
            "monitor": Out(stream.Signature(packed_monitor_layout(spec, self.pack).size)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self._core
        m.submodules.monitor_packer = self._monitor
        wiring.connect(m, core.probe, self._monitor.narrow)
        wiring.connect(m, self._monitor.wide, wiring.flipped(self.monitor))
        m.d.comb += [
            core.rx.eq(self.rx),
            self.tx.eq(core.tx),
            self.activity.eq(core.activity),
            self.busy.eq(core.busy),
            self._monitor.flush.eq(~core.busy),
        ]
        return m


#: step counts per transfer of `PackedNetwork.cycles`
CYCLES_PACK = 16


#: bits of a network monitor transfer: Yosys' `opt` (hdl/verilog.py) takes a minute over a word of 18 kbit,
#: seconds over 4 kbit
NETWORK_TRANSFER_BITS = 2048


def network_monitor_layout(net):
    from .network import monitor_layout  # here: the array's testbenches import this module, not the network core

    return monitor_layout(net)


def network_monitor_pack(net) -> int:
    """Network monitor beats per wide transfer."""
    return max(2, min(MAX_BEATS, NETWORK_TRANSFER_BITS // network_monitor_layout(net).size))


class BeatCollector(wiring.Component):
    """Beats that cannot wait (a valid without a ready: the network core's monitor) collected `count` to a
    transfer laid out as a `StreamPacker`'s (`packed_layout`: oldest lowest, a partial transfer's items in the top
    slots): a full set, or what is collected when `flush` is high, is copied out as one transfer, valid for
    one cycle, while the next beat is already being collected (no cycle lost between transfers). The
    consumer reads a transfer in the cycle it is valid (`wide.ready` high then); `lost` (sticky) says it was
    not ready for one."""

    def __init__(self, shape, count: int):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        self.shape, self.count = shape, count
        super().__init__({
            "valid": In(1),
            "payload": In(shape),
            "flush": In(1),
            "wide": Out(stream.Signature(unsigned(packed_layout(shape, count).size))),
            "lost": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        layout = packed_layout(self.shape, self.count)
        item_bits = Shape.cast(self.shape).width
        word = self.wide.payload
        out_items = word[:layout["items"].width]
        out_data = word[layout["data"].offset:layout["data"].offset + self.count * item_bits]
        # items shift in from the top (a dynamic slot index on a word this wide makes a simulator slow to
        # build): a full transfer holds item 0 in slot 0, a flushed one its items in the top slots
        slots = Signal(self.count * item_bits)
        shifted = Cat(slots[item_bits:], self.payload)
        items = Signal(range(self.count + 1))
        m.d.sync += self.wide.valid.eq(0)
        with m.If(self.wide.valid & ~self.wide.ready):
            m.d.sync += self.lost.eq(1)
        with m.If(self.valid):
            m.d.sync += [slots.eq(shifted), items.eq(items + 1)]
            with m.If(items == self.count - 1):  # full with this beat: out it goes, the next starts afresh
                m.d.sync += [self.wide.valid.eq(1), out_items.eq(self.count), items.eq(0), out_data.eq(shifted)]
        with m.Elif(self.flush & (items != 0)):
            m.d.sync += [self.wide.valid.eq(1), out_items.eq(items), out_data.eq(slots), items.eq(0)]
        return m


class PackedNetwork(wiring.Component):
    """The network core with its monitor collected wide (`network_monitor_pack(net)` beats a transfer) and each
    step's cycle count on a stream of its own (`CYCLES_PACK` a transfer), both flushed when the core goes idle:
    a testbench wakes once a transfer instead of once a beat. The core's monitor has no back-pressure, so a
    testbench reads every transfer in the cycle it appears: `lost` (sticky) says it did not, and a run must fail
    on it."""

    def __init__(self, net, rows, *, latency: int = 1, inject_bug: str | None = None):
        self.net = net
        from .network import NetworkCore

        self.pack = network_monitor_pack(net)
        self._core = NetworkCore(net, rows, latency=latency, inject_bug=inject_bug)
        self._monitor = BeatCollector(network_monitor_layout(net), self.pack)
        self._cycles = BeatCollector(unsigned(32), CYCLES_PACK)
        super().__init__({
            "run": In(stream.Signature(unsigned(16))),
            "busy": Out(1),
            "monitor": Out(stream.Signature(packed_layout(network_monitor_layout(net), self.pack).size)),
            "cycles": Out(stream.Signature(packed_layout(unsigned(32), CYCLES_PACK).size)),
            "history_overflow": Out(1),
            "lost": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self._core
        m.submodules.monitor_collector = self._monitor
        m.submodules.cycles_collector = self._cycles
        wiring.connect(m, wiring.flipped(self.run), core.run)
        wiring.connect(m, self._monitor.wide, wiring.flipped(self.monitor))
        wiring.connect(m, self._cycles.wide, wiring.flipped(self.cycles))
        m.d.comb += [
            self._monitor.valid.eq(core.monitor_valid), self._monitor.payload.eq(core.monitor),
            self._cycles.valid.eq(core.step_done), self._cycles.payload.eq(core.step_cycles),
            self._monitor.flush.eq(~core.busy), self._cycles.flush.eq(~core.busy),
            self.busy.eq(core.busy), self.history_overflow.eq(core.history_overflow),
            self.lost.eq(self._monitor.lost | self._cycles.lost),
        ]
        return m
