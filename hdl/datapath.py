"""The neuron update as combinational logic: one neuron's new state from its old state and inputs.

Update equations (codes; see `lapicque.spec` for the full contract)::

    i' = sat_i(i - ((i * decay) >> 12) + acc + ext)
    if ref > 0:  ref' = ref - 1, v' = v
    else:        v_pre = sat_v(leak(v) + i' + bias - (reset_current if hysteresis and pulse))
                 normal:     spike = v_pre >= theta_hi; v' = v_reset | sat_v(v_pre - theta_hi)
                 hysteresis: pulse starts at v_pre >= theta_hi, ends at v_pre <= theta_lo

Latency 0 (combinational); the array registers around it, giving one update per cycle per lane.
`inject_bug` is for the verification tests only: it makes a known-wrong datapath that the
scoreboard must catch.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import DECAY_SHIFT, ArraySpec, signed_range

from .layouts import lane_update_layout, param_layout, state_layout

BUGS = ("refractory_off_by_one", "threshold_strict")


def _saturate(m: Module, value, bits: int, name: str):
    """Clamp `value` to signed(bits); returns (result, went_high, went_low)."""
    lo, hi = signed_range(bits)
    result = Signal(signed(bits), name=name)
    high = Signal(name=f"{name}_sat_high")
    low = Signal(name=f"{name}_sat_low")
    m.d.comb += [
        high.eq(value > hi),
        low.eq(value < lo),
        result.eq(Mux(high, hi, Mux(low, lo, value))),
    ]
    return result, high, low


class NeuronDatapath(wiring.Component):
    """One neuron update (combinational). Ports: `state`, `params`, `acc`, `ext` in; `update` out."""

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None):
        if inject_bug is not None and inject_bug not in BUGS:
            raise ValueError(f"inject_bug must be one of {', '.join(BUGS)}, not {inject_bug!r}")
        self.spec = spec
        self.inject_bug = inject_bug
        super().__init__({
            "state": In(state_layout(spec)),
            "params": In(param_layout(spec)),
            "acc": In(signed(spec.acc_bits)),
            "ext": In(signed(spec.widths.ext)),
            "update": Out(lane_update_layout(spec)),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.spec.widths
        s, p, out = self.state, self.params, self.update

        def decay(x, d):
            return x - ((x * d) >> DECAY_SHIFT)

        # 1. synaptic current
        i_new, i_high, i_low = _saturate(m, decay(s.i, p.decay) + self.acc + self.ext, w.i, "i_new")

        # 2. membrane
        refractory = Signal(name="refractory")
        m.d.comb += refractory.eq(s.ref != 0)
        leaked = Signal(signed(w.v + 1), name="leaked")
        with m.If(p.leak_mode == 0):
            m.d.comb += leaked.eq(decay(s.v, p.leak))
        with m.Elif(s.v > 0):
            m.d.comb += leaked.eq(Mux(s.v > p.leak, s.v - p.leak, 0))
        with m.Else():
            m.d.comb += leaked.eq(Mux(-s.v > p.leak, s.v + p.leak, 0))
        pull = Mux(p.hysteresis & s.pulse, p.reset_current, 0)
        v_pre, v_high, v_low = _saturate(m, leaked + i_new + p.bias - pull, w.v, "v_pre")

        # 3./4. threshold, reset, hysteresis pulse
        active = ~refractory
        crossed = (v_pre > p.theta_hi) if self.inject_bug == "threshold_strict" else (v_pre >= p.theta_hi)
        fired = Signal(name="fired")
        started = Signal(name="started")
        released = Signal(name="released")
        m.d.comb += [
            fired.eq(active & ~p.hysteresis & crossed),
            started.eq(active & p.hysteresis & ~s.pulse & crossed),
            released.eq(active & p.hysteresis & s.pulse & (v_pre <= p.theta_lo)),
        ]
        v_sub, sub_high, sub_low = _saturate(m, v_pre - p.theta_hi, w.v, "v_sub")
        pulse_new = p.hysteresis & ((s.pulse & ~released) | started)
        ref_load = p.refractory + 1 if self.inject_bug == "refractory_off_by_one" else p.refractory

        with m.If(refractory):
            m.d.comb += [out.state.v.eq(s.v), out.state.ref.eq(s.ref - 1)]
        with m.Else():
            m.d.comb += out.state.v.eq(Mux(fired, Mux(p.reset_mode, v_sub, p.v_reset), v_pre))
            m.d.comb += out.state.ref.eq(Mux(fired | released, ref_load, 0))
        subtract = fired & p.reset_mode
        m.d.comb += [
            out.state.i.eq(i_new),
            out.state.pulse.eq(pulse_new),
            out.spike.eq(fired | pulse_new),
            out.flags.eq(Cat(
                i_high | (active & v_high) | (subtract & sub_high),
                i_low | (active & v_low) | (subtract & sub_low),
                active & (s.v != 0) & (leaked == 0),
                (fired | released) & (p.refractory != 0),
                refractory & (s.ref == 1),
                released,
            )),
        ]
        return m


__all__ = ["BUGS", "NeuronDatapath"]
