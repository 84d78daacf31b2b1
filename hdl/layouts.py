"""Packed records of the array, derived from the spec (the only place their widths come from).

The same layouts pack and unpack words in the testbench and the host driver (`pack`/`unpack`), so
a field moved here moves everywhere.
"""

from __future__ import annotations

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from lapicque.spec import DECAY_SHIFT, FLAG_NAMES, PARAM_NAMES, ArraySpec

#: cfg targets: what a configuration write goes to
CFG_STATE, CFG_PARAM, CFG_WEIGHT = 0, 1, 2
TIMESTEP_BITS = 32
CYCLE_BITS = 32


def bits_for(count: int) -> int:
    """Bits to hold 0..count-1 (at least 1)."""
    return max(1, (count - 1).bit_length())


def channel_field(name: str, channel: int) -> str:
    """A channel's field: `i`/`decay`/`acc` for the first channel (the array's one), `i1`, `decay1`, ... after."""
    return name if channel == 0 else f"{name}{channel}"


def state_layout(spec: ArraySpec) -> data.StructLayout:
    """v, i, ref, pulse; a network with several synaptic channels adds i1, i2, ... (`channel_field`)."""
    w = spec.widths
    extra = {channel_field("i", c): signed(w.i) for c in range(1, len(spec.channels))}
    return data.StructLayout({
        "v": signed(w.v), "i": signed(w.i), "ref": unsigned(w.refractory), "pulse": unsigned(1), **extra,
    })


def param_layout(spec: ArraySpec) -> data.StructLayout:
    """The parameters in `PARAM_NAMES` order; a network with several channels adds decay1, decay2, ..."""
    w = spec.widths
    extra = {channel_field("decay", c): unsigned(DECAY_SHIFT + 1) for c in range(1, len(spec.channels))}
    return data.StructLayout({
        "bias": signed(w.bias),
        "leak": unsigned(spec.leak_bits),
        "decay": unsigned(DECAY_SHIFT + 1),
        "theta_hi": signed(w.v),
        "theta_lo": signed(w.v),
        "refractory": unsigned(w.refractory),
        "v_reset": signed(w.v),
        "reset_current": unsigned(w.v - 1),
        "leak_mode": unsigned(1),
        "reset_mode": unsigned(1),
        "hysteresis": unsigned(1),
        **extra,
    })


def lane_update_layout(spec: ArraySpec) -> data.StructLayout:
    """What one lane reports for one neuron update: the new state, the spike and the event flags."""
    return data.StructLayout({
        "state": state_layout(spec), "spike": unsigned(1), "flags": unsigned(len(FLAG_NAMES)),
    })


def monitor_layout(spec: ArraySpec) -> data.StructLayout:
    """One monitor beat: the updates of local index `index` in every lane (neuron = index*lanes + lane)."""
    return data.StructLayout({
        "cycle": unsigned(CYCLE_BITS),
        "timestep": unsigned(TIMESTEP_BITS),
        "index": unsigned(bits_for(spec.depth)),
        "lanes": data.ArrayLayout(lane_update_layout(spec), spec.lanes),
    })


def aer_layout(spec: ArraySpec) -> data.StructLayout:
    """A spike event (address-event representation): the timestep it fired in and the neuron."""
    return data.StructLayout({"timestep": unsigned(TIMESTEP_BITS), "neuron": unsigned(bits_for(spec.neurons))})


def cfg_layout(spec: ArraySpec) -> data.StructLayout:
    """A configuration write: target (state, param or weight memory), lane, address, data."""
    width = max(state_layout(spec).size, param_layout(spec).size, spec.widths.w)
    return data.StructLayout({
        "target": unsigned(2),
        "lane": unsigned(bits_for(spec.lanes)),
        "addr": unsigned(bits_for(spec.neurons * spec.depth)),
        "data": unsigned(width),
    })


def stim_layout(spec: ArraySpec) -> data.ArrayLayout:
    """External input for one local index in every lane."""
    return data.ArrayLayout(signed(spec.widths.ext), spec.lanes)


STAT_NAMES = (
    "cycles", "busy_cycles", "update_cycles", "propagate_cycles", "stall_queue_full", "stall_monitor_full",
    "stim_starved", "spike_backpressure", "monitor_backpressure",
)


def stats_layout() -> data.StructLayout:
    """Performance counters, each 32-bit, counting cycles since reset."""
    return data.StructLayout({name: unsigned(32) for name in STAT_NAMES})


# -- configuration writes (testbench and host driver load the array the same way) ---------------


def neuron_writes(spec: ArraySpec, state) -> list[tuple[int, int, int, int]]:
    """(target, lane, addr, data) writes of every neuron's parameters and its state.

    `state` has arrays `v`, `i`, `ref`, `pulse` (a `lapicque.golden.State` or alike).
    """
    p_layout, s_layout = param_layout(spec), state_layout(spec)
    writes = []
    for n in range(spec.neurons):
        lane, local = n % spec.lanes, n // spec.lanes
        params = {name: int(spec.params[name][n]) for name in PARAM_NAMES}
        values = {"v": int(state.v[n]), "i": int(state.i[n]), "ref": int(state.ref[n]), "pulse": int(state.pulse[n])}
        writes.append((CFG_PARAM, lane, local, pack(p_layout, params)))
        writes.append((CFG_STATE, lane, local, pack(s_layout, values)))
    return writes


def weight_writes(spec: ArraySpec) -> list[tuple[int, int, int, int]]:
    """(target, lane, addr, data) writes of every weight, zeros too: memories start unknown."""
    mask = (1 << spec.widths.w) - 1
    depth, lanes = spec.depth, spec.lanes
    return [
        (CFG_WEIGHT, dst % lanes, src * depth + dst // lanes, int(spec.weights[src, dst]) & mask)
        for src in range(spec.neurons) for dst in range(spec.neurons)
    ]


def cfg_word(spec: ArraySpec, write: tuple[int, int, int, int]) -> int:
    target, lane, addr, data = write
    return pack(cfg_layout(spec), {"target": target, "lane": lane, "addr": addr, "data": data})


# -- packing to and from Python ints (testbench, host driver) ------------------------------------


def pack(layout, values) -> int:
    """Pack a dict (StructLayout) or list (ArrayLayout) of ints into one unsigned int."""
    word = 0
    for key, fld in _fields(layout):
        value = values[key]
        shape = fld.shape
        if isinstance(shape, data.Layout):
            raw = pack(shape, value)
        else:
            raw = int(value) & ((1 << fld.width) - 1)
        word |= raw << fld.offset
    return word


def unpack(layout, word: int):
    """Unpack one unsigned int into a dict (StructLayout) or list (ArrayLayout), signs restored."""
    out = {} if isinstance(layout, data.StructLayout) else []
    for key, fld in _fields(layout):
        raw = (word >> fld.offset) & ((1 << fld.width) - 1)
        shape = fld.shape
        if isinstance(shape, data.Layout):
            value = unpack(shape, raw)
        else:
            if shape.signed and raw >> (fld.width - 1):
                raw -= 1 << fld.width
            value = raw
        if isinstance(out, dict):
            out[key] = value
        else:
            out.append(value)
    return out


def _fields(layout):
    if isinstance(layout, data.StructLayout):
        return list(layout)
    return [(k, layout[k]) for k in range(layout.length)]
