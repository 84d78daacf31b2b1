"""The array with its streams packed wide, for consumers that are slow per beat (testbench, host).

`monitor` carries `monitor_pack` beats per transfer (half a step when the lane depth allows),
`stim` takes `stim_pack` stimulus beats per transfer (a whole step when the lane depth allows),
and `spikes` carries up to `SPIKE_PACK` AER
events with their count (flushed early when the array goes idle). `status` gathers the handshake
signals a testbench polls into one word: stim.ready, monitor.valid, spikes.valid, busy; `attention`
rises when any transfer can happen, so a testbench can sleep on one edge.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import ArraySpec

from .array import NeuronArray
from .layouts import aer_layout, cfg_layout, monitor_layout, stats_layout, stim_layout
from .streams import StreamPacker, StreamUnpacker, packed_layout

SPIKE_PACK = 8
MAX_PACK = 32


def monitor_pack(spec: ArraySpec) -> int:
    """Beats per wide transfer: the largest divisor of the lane depth up to half of it (MAX_PACK at most).

    At least two transfers per step, so that a consumer holding the first one back-pressures the
    array while it is still updating.
    """
    limit = max(1, min(spec.depth // 2, MAX_PACK))
    return max(k for k in range(1, limit + 1) if spec.depth % k == 0)


def packed_monitor_layout(spec: ArraySpec, pack: int):
    return packed_layout(monitor_layout(spec), pack)


def packed_aer_layout(spec: ArraySpec):
    return packed_layout(aer_layout(spec), SPIKE_PACK)


def packed_stim_layout(spec: ArraySpec, pack: int):
    return data.ArrayLayout(stim_layout(spec), pack)


def stim_pack(spec: ArraySpec) -> int:
    """Stimulus beats per wide transfer: a whole step's worth when the lane depth allows (MAX_PACK at most).

    Stimulus can be sent ahead, so one transfer per step costs the producer least.
    """
    return max(k for k in range(1, min(spec.depth, MAX_PACK) + 1) if spec.depth % k == 0)


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
