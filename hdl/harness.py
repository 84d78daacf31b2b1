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
spikes.valid, busy; `attention` rises when a transfer the testbench takes part in can happen, so a
testbench can sleep on one edge: a stimulus transfer, and with `watch` high an output transfer (a
testbench whose simulator records the outputs wakes for them only to back-pressure them).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import ArraySpec

from .array import NeuronArray
from .bridge import BridgedArray
from .layouts import aer_layout, cfg_layout, monitor_layout, stats_layout, stim_layout
from .streams import StreamPacker, StreamUnpacker, packed_layout

SPIKE_PACK = 32
MAX_BEATS = 128
MAX_TRANSFER_BITS = 8192


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
            "watch": In(1),
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
            self.attention.eq((self.watch & (self.monitor.valid | self.spikes.valid))
                              | (self.stim.valid & self.stim.ready)),
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


def network_monitor_layout(net):
    from .network import monitor_layout  # here: the array's testbenches import this module, not the network core

    return monitor_layout(net)


class RecordedNetwork(wiring.Component):
    """The network core (`core`: "parallel", `NetworkCore`, or "serial", `SerialNetworkCore`) with its monitor beats
    and each step's cycle count as output streams, for a simulator that records them itself
    (`sim.runner.testbench_top`'s `record`): the testbench does not wake per beat, it starts the run and waits
    for its end. The core's monitor has no back-pressure: `lost` (sticky) says a beat or a count found its
    `ready` low, and a run must fail on it."""

    def __init__(self, net, rows, *, latency: int = 1, inject_bug: str | None = None, core: str = "parallel"):
        from .network import NetworkCore
        from .serial_network import SerialNetworkCore

        self.net = net
        kind = {"parallel": NetworkCore, "serial": SerialNetworkCore}[core]
        self._core = kind(net, rows, latency=latency, inject_bug=inject_bug)
        super().__init__({
            "run": In(stream.Signature(unsigned(16))),
            "busy": Out(1),
            # a flat word laid out as the core's monitor layout: one signal in the simulator
            "monitor": Out(stream.Signature(unsigned(network_monitor_layout(net).size))),
            "cycles": Out(stream.Signature(unsigned(32))),
            "history_overflow": Out(1),
            "lost": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self._core
        wiring.connect(m, wiring.flipped(self.run), core.run)
        m.d.comb += [
            self.monitor.valid.eq(core.monitor_valid), self.monitor.payload.eq(core.monitor),
            self.cycles.valid.eq(core.step_done), self.cycles.payload.eq(core.step_cycles),
            self.busy.eq(core.busy), self.history_overflow.eq(core.history_overflow),
        ]
        with m.If((self.monitor.valid & ~self.monitor.ready) | (self.cycles.valid & ~self.cycles.ready)):
            m.d.sync += self.lost.eq(1)
        return m
