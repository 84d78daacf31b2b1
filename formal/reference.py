"""The neuron contract written as combinational Amaranth, one expression per line of the contract.

This is the reference the datapath is proved against (`lapicque prove`). It shares nothing with
`hdl/datapath.py` but the port layouts: no pipeline, no shared helpers, every intermediate as wide as
Amaranth's arithmetic makes it (nothing can overflow before the contract's own saturation). Each line
below is a line of `lapicque.spec`'s update rule (and of `golden/neuron.py`'s `array_step`).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.layouts import lane_update_layout, param_layout, state_layout
from lapicque.spec import DECAY_ONE, DECAY_SHIFT, ArraySpec, signed_range


def decay(x, d, rounding: str):
    """decay(x, d): floor, x - floor(x d / 4096); toward_zero, trunc(x (4096 - d) / 4096).

    toward_zero is written with the decrement q = x d / 4096, as x - ceil(q) for x >= 0 and x - floor(q)
    below: the kept part x - q has x's sign (0 <= d <= 4096), so truncating it toward zero is flooring
    it for x >= 0 and ceiling it below. (The solver then meets one product, x d, on both sides, where
    x (4096 - d) against the datapath's x d is a multiplier-equivalence problem that takes it minutes;
    `tests/formal/test_reference.py` checks this form against the contract's, exhaustively at small widths.)
    """
    product = x * d
    floor_q = product >> DECAY_SHIFT  # arithmetic shift: floor(x d / 4096)
    if rounding == "floor":
        return x - floor_q
    ceil_q = (product + (DECAY_ONE - 1)) >> DECAY_SHIFT
    return Mux(x >= 0, x - ceil_q, x - floor_q)


def clamp(x, bits: int):
    lo, hi = signed_range(bits)
    return Mux(x > hi, hi, Mux(x < lo, lo, x))


class ContractReference(wiring.Component):
    """One neuron update, combinational, with the datapath's ports (`state`, `params`, `acc`, `ext` in,
    `update` out)."""

    def __init__(self, spec: ArraySpec):
        self.spec = spec
        super().__init__({
            "state": In(state_layout(spec)),
            "params": In(param_layout(spec)),
            "acc": In(signed(spec.acc_bits)),
            "ext": In(signed(spec.widths.ext)),
            "update": Out(lane_update_layout(spec)),
        })

    def elaborate(self, platform):
        m = Module()
        spec, w = self.spec, self.spec.widths
        s, p = self.state, self.params
        i_lo, i_hi = signed_range(w.i)
        v_lo, v_hi = signed_range(w.v)

        # i <- sat_i( decay(i, decay) + (acc + ext) << weight_exponent )
        i_raw = decay(s.i, p.decay, spec.rounding) + ((self.acc + self.ext) << spec.weight_exponent)
        i_new = clamp(i_raw, w.i)
        # if ref > 0: refractory (v unchanged, no spike)
        refractory = s.ref > 0
        active = ~refractory
        # leak(v): exponential decay(v, leak), or linear toward 0 by leak, clamped at 0
        linear = Mux(s.v > 0, Mux(s.v - p.leak > 0, s.v - p.leak, 0), Mux(s.v + p.leak < 0, s.v + p.leak, 0))
        leaked = Mux(p.leak_mode == 0, decay(s.v, p.leak, spec.rounding), linear)
        # v_pre = sat_v( leak(v) + i + bias - (reset_current if hysteresis and pulse) )
        pull = Mux(p.hysteresis & s.pulse, p.reset_current, 0)
        v_raw = leaked + i_new + p.bias - pull
        v_pre = clamp(v_raw, w.v)
        # normal: spike when v_pre >= theta_hi; v <- v_reset (absolute) or sat_v(v_pre - theta_hi) (subtract)
        crossed = active & (v_pre >= p.theta_hi)
        fired = crossed & ~p.hysteresis
        sub_raw = v_pre - p.theta_hi
        subtract = fired & p.reset_mode
        v_new = Mux(refractory, s.v, Mux(fired, Mux(subtract, clamp(sub_raw, w.v), p.v_reset), v_pre))
        # hysteresis: a pulse starts at theta_hi, spikes every step while high, ends at v_pre <= theta_lo
        started = crossed & p.hysteresis & ~s.pulse
        released = active & p.hysteresis & s.pulse & (v_pre <= p.theta_lo)
        pulse_new = p.hysteresis & ((s.pulse & ~released) | started)
        spike = fired | pulse_new
        ended = fired | released
        # ref <- ref - 1 while refractory; refractory after a spike (normal) or a pulse's end (hysteresis)
        ref_new = Mux(refractory, s.ref - 1, Mux(ended, p.refractory, 0))
        u = self.update
        m.d.comb += [
            u.state.v.eq(v_new),
            u.state.i.eq(i_new),
            u.state.ref.eq(ref_new),
            u.state.pulse.eq(pulse_new),
            u.spike.eq(spike),
            # event flags, in FLAG_NAMES order
            u.flags.eq(Cat(
                (i_raw > i_hi) | (active & (v_raw > v_hi)) | (subtract & (sub_raw > v_hi)),  # sat_high
                (i_raw < i_lo) | (active & (v_raw < v_lo)) | (subtract & (sub_raw < v_lo)),  # sat_low
                active & (s.v != 0) & (leaked == 0),  # leak_to_rest
                ended & (p.refractory > 0),  # refractory_entry
                refractory & (s.ref == 1),  # refractory_exit
                released,  # hysteresis_release
            )),
        ]
        return m
