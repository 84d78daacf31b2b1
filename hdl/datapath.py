"""The neuron update as combinational logic: one neuron's new state from its old state and inputs.

Update equations (codes; see `lapicque.spec` for the full contract)::

    i' = sat_i(decay(i) + (acc + ext) << e),  decay(x) = x - ((x * decay) >> 12)  (rounding "floor")
                                        or trunc(x * (4096 - decay) / 4096)  (rounding "toward_zero")
    if ref > 0:  ref' = ref - 1, v' = v
    else:        v_pre = sat_v(leak(v) + i' + bias - (reset_current if hysteresis and pulse))
                 normal:     spike = v_pre >= theta_hi; v' = v_reset | sat_v(v_pre - theta_hi)
                 hysteresis: pulse starts at v_pre >= theta_hi, ends at v_pre <= theta_lo

Latency: `latency` cycles (0 to `MAX_LATENCY`), one update in per cycle while `en` is high; the
whole pipeline holds when `en` is low. Registers are cut, in order: at the inputs (the memories'
read data); after the two multiplies (so that DSP blocks can absorb them); after the unsaturated
current, the leak and the drive (bias minus reset current); after the current's saturation and
leak + drive; after the membrane's sum and saturation; after the threshold comparisons; after the
result. Each stage is then one adder or one saturation deep (100 MHz on an ECP5). Latency 0 is
purely combinational. The result does not depend on the latency, only its timing (the tests run
every latency against the same cases).

`inject_bug` is for the verification tests only: it makes a known-wrong datapath that the
scoreboard must catch.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import DECAY_SHIFT, ArraySpec, signed_range

from .layouts import channel_field, lane_update_layout, param_layout, state_layout

BUGS = ("refractory_off_by_one", "threshold_strict", "current_wraps")
#: a DSP block's signed operand (the ECP5's 18 x 18, the iCE40's 16 x 16 takes two): wider membranes split the
#: leak's multiply in two
MULTIPLIER_BITS = 18
MAX_LATENCY = 7


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
    """One neuron update, pipelined `latency` cycles deep.

    Ports: `state`, `params`, `acc`, `ext` in; `update` out `latency` cycles later; `en` advances
    the pipeline (tie high when it never stalls).
    """

    def __init__(self, spec: ArraySpec, *, latency: int = 0, inject_bug: str | None = None,
                 registered_memories: bool = False):
        """`registered_memories`: `state` and `params` come from registers already (the RAMs' own
        output registers, enabled with `en`): a first cut registers only `acc` and `ext` beside them,
        and the usual cuts follow (up to `MAX_LATENCY` + 1 in all). On an ECP5 the EBR's output
        register is far from the multipliers; the input register after it takes the route."""
        if inject_bug is not None and inject_bug not in BUGS:
            raise ValueError(f"inject_bug must be one of {', '.join(BUGS)}, not {inject_bug!r}")
        most = MAX_LATENCY + int(registered_memories)
        if not isinstance(latency, int) or not int(registered_memories) <= latency <= most:
            raise ValueError(f"latency must be an integer {int(registered_memories)}..{most}, not {latency!r}")
        self.spec = spec
        self.latency = latency
        self.registered_memories = registered_memories
        self.inject_bug = inject_bug
        self.channels = len(spec.channels)  # a network's synaptic currents: acc, acc1, ...; i, i1, ...
        super().__init__({
            "state": In(state_layout(spec)),
            "params": In(param_layout(spec)),
            **{channel_field("acc", c): In(signed(spec.acc_bits)) for c in range(self.channels)},
            "ext": In(signed(spec.widths.ext)),
            "en": In(1, init=1),
            "update": Out(lane_update_layout(spec)),
        })

    def _round_up(self, m: Module, state, factor, name: str):
        """`toward_zero` takes one more than `floor` off a state >= 0 whose product state x factor has low 12
        bits that are not all 0 (a ceiling: the kept part is then truncated toward zero). Those bits are 0
        exactly when the trailing zeros of state and factor add up to 12 or more, so the bit comes from the
        operands, beside the multiply, not after it: for every k, state has a 1 in bits 0..k and factor one
        in bits 0..11-k. Registered with the products, it enters the next sum as a 1-bit operand."""
        bit = Signal(name=name)
        low_state = [state[:min(k + 1, len(state))].any() for k in range(DECAY_SHIFT)]
        low_factor = [factor[:min(k + 1, len(factor))].any() for k in range(DECAY_SHIFT)]
        nonzero_low_product = Cat(*(low_state[k] & low_factor[DECAY_SHIFT - 1 - k]
                                    for k in range(DECAY_SHIFT))).any()
        m.d.comb += bit.eq((state >= 0) & nonzero_low_product)
        return bit

    def elaborate(self, platform):
        m = Module()
        w = self.spec.widths
        out = Signal(lane_update_layout(self.spec), name="result")
        cut_number = 0

        def cut(**values):
            """Register `values` at the next pipeline cut (if this latency has it); returns them."""
            nonlocal cut_number
            cut_number += 1
            if cut_number > self.latency:
                return values
            staged = {}
            for name, value in values.items():
                reg = Signal(value.shape(), name=f"s{cut_number}_{name}")
                with m.If(self.en):
                    m.d.sync += reg.eq(value)
                staged[name] = reg
            return staged

        # the memories' read data, registered: an ECP5 EBR's output is slow (about 6 ns), too slow
        # to feed a multiplier in the same cycle at 100 MHz (with `registered_memories`, behind the
        # RAMs' own output registers, which the first cut pairs with)
        # each synaptic channel c has its accumulator, current and decay: acc/i/decay for the first (the
        # array's only one), acc1/i1/decay1 and so on for a network's others
        channels = range(self.channels)
        accs = {channel_field("acc", c): getattr(self, channel_field("acc", c)) for c in channels}
        ext = self.ext
        if self.registered_memories:
            x = cut(ext=ext, **accs)
            accs, ext = {name: x[name] for name in accs}, x["ext"]
        x = cut(s=self.state, p=self.params, ext=ext, **accs)
        s, p = x["s"], x["p"]

        # the multiplies, alone in their stage
        prods, rounding = {}, {}
        for c in channels:
            i_c, decay_c = getattr(s, channel_field("i", c)), getattr(p, channel_field("decay", c))
            prods[channel_field("prod_i", c)] = prod = Signal(signed(w.i + DECAY_SHIFT + 2),
                                                              name=channel_field("prod_i", c))
            m.d.comb += prod.eq(i_c * decay_c)
            if self.spec.rounding != "floor":
                rounding[channel_field("round_i", c)] = self._round_up(m, i_c, decay_c, channel_field("round_i", c))
        if w.v <= MULTIPLIER_BITS:
            prod_v = Signal(signed(w.v + self.spec.leak_bits + 1), name="prod_v")
            m.d.comb += prod_v.eq(s.v * p.leak)
            membrane_products = {"prod_v": prod_v}
        else:
            # a membrane wider than a DSP block's operand: two half-width products, added in the next stage
            # (one wide product spans two blocks and an adder in one stage: 79 MHz on the ECP5 at 20 bits).
            # Only the exponential leak multiplies, and its factor is at most 4096: its 13 low bits
            factor = p.leak[:DECAY_SHIFT + 1]
            low = w.v // 2
            prod_v_lo = Signal(unsigned(low + DECAY_SHIFT + 1), name="prod_v_lo")
            prod_v_hi = Signal(signed(w.v - low + DECAY_SHIFT + 2), name="prod_v_hi")
            m.d.comb += [prod_v_lo.eq(s.v[:low] * factor), prod_v_hi.eq(s.v[low:].as_signed() * factor)]
            membrane_products = {"prod_v_lo": prod_v_lo, "prod_v_hi": prod_v_hi}
        if self.spec.rounding != "floor":
            rounding["round_v"] = self._round_up(m, s.v, p.leak, "round_v")
        x = cut(s=s, p=p, ext=x["ext"], **membrane_products, **{name: x[name] for name in accs}, **prods, **rounding)
        s, p = x["s"], x["p"]

        # 1. synaptic currents, unsaturated; 2. the leak, and what the membrane adds besides them
        e = self.spec.weight_exponent  # a constant shift of the input: wiring, no logic
        raws = {}
        for c in channels:
            raws[channel_field("i_raw", c)] = i_raw = Signal(signed(max(w.i, self.spec.acc_bits + e, w.ext + e) + 3),
                                                             name=channel_field("i_raw", c))
            drive_c = x[channel_field("acc", c)] + x["ext"] if c == 0 else x[channel_field("acc", c)]
            m.d.comb += i_raw.eq(getattr(s, channel_field("i", c)) - (x[channel_field("prod_i", c)] >> DECAY_SHIFT)
                                 - x.get(channel_field("round_i", c), 0) + (drive_c << e))
        leaked = Signal(signed(w.v + 1), name="leaked")
        with m.If(p.leak_mode == 0):
            product = x["prod_v"] if "prod_v" in x else (x["prod_v_hi"] << (w.v // 2)) + x["prod_v_lo"]
            m.d.comb += leaked.eq(s.v - (product >> DECAY_SHIFT) - x.get("round_v", 0))
        with m.Elif(s.v > 0):
            m.d.comb += leaked.eq(Mux(s.v > p.leak, s.v - p.leak, 0))
        with m.Else():
            m.d.comb += leaked.eq(Mux(-s.v > p.leak, s.v + p.leak, 0))
        to_rest = Signal(name="leak_to_rest_raw")
        m.d.comb += to_rest.eq((s.v != 0) & (leaked == 0))
        drive = Signal(signed(max(w.bias, w.v) + 2), name="drive")  # bias minus the reset current
        m.d.comb += drive.eq(p.bias - Mux(p.hysteresis & s.pulse, p.reset_current, 0))
        # from here on only the threshold stage's parameters travel
        late = {name: getattr(p, name) for name in
                ("theta_hi", "theta_lo", "refractory", "v_reset", "reset_mode", "hysteresis")}
        x = cut(s=s, leaked=leaked, to_rest=to_rest, drive=drive, **raws, **late)

        news, i_high, i_low = {}, [], []
        for c in channels:
            i_new, high, low = _saturate(m, x[channel_field("i_raw", c)], w.i, channel_field("i_new", c))
            if self.inject_bug == "current_wraps":  # keeps the low bits where the contract saturates
                i_new = x[channel_field("i_raw", c)][:w.i].as_signed()
            news[channel_field("i_new", c)] = i_new
            i_high.append(high)
            i_low.append(low)
        v_part = Signal(signed(max(w.bias, w.v) + 3), name="v_part")
        m.d.comb += v_part.eq(x["leaked"] + x["drive"])
        late = {name: x[name] for name in late}
        x = cut(s=x["s"], i_high=Cat(*i_high).any(), i_low=Cat(*i_low).any(), v_part=v_part, to_rest=x["to_rest"],
                **news, **late)

        currents = x["v_part"]
        for name in news:  # the membrane takes every channel's current
            currents = currents + x[name]
        v_pre, v_high, v_low = _saturate(m, currents, w.v, "v_pre")
        x = cut(s=x["s"], i_high=x["i_high"], i_low=x["i_low"], to_rest=x["to_rest"],
                v_pre=v_pre, v_high=v_high, v_low=v_low, **{name: x[name] for name in news},
                **{name: x[name] for name in late})
        news = {name: x[name] for name in news}
        s = x["s"]
        v_pre = x["v_pre"]

        # 3./4. threshold, reset, hysteresis pulse: the comparisons and the subtraction first
        crossed = Signal(name="crossed")
        below = Signal(name="below_theta_lo")
        v_diff = Signal(signed(w.v + 1), name="v_diff")
        m.d.comb += [
            crossed.eq((v_pre > x["theta_hi"]) if self.inject_bug == "threshold_strict" else (v_pre >= x["theta_hi"])),
            below.eq(v_pre <= x["theta_lo"]),
            v_diff.eq(v_pre - x["theta_hi"]),
        ]
        x = cut(s=s, i_high=x["i_high"], i_low=x["i_low"], to_rest=x["to_rest"], v_pre=v_pre,
                v_high=x["v_high"], v_low=x["v_low"], crossed=crossed, below=below, v_diff=v_diff, **news,
                **{name: x[name] for name in ("refractory", "v_reset", "reset_mode", "hysteresis")})
        s, v_pre = x["s"], x["v_pre"]
        hysteresis, reset_mode = x["hysteresis"], x["reset_mode"]
        refractory = Signal(name="refractory")
        m.d.comb += refractory.eq(s.ref != 0)
        active = ~refractory
        fired = Signal(name="fired")
        started = Signal(name="started")
        released = Signal(name="released")
        m.d.comb += [
            fired.eq(active & ~hysteresis & x["crossed"]),
            started.eq(active & hysteresis & ~s.pulse & x["crossed"]),
            released.eq(active & hysteresis & s.pulse & x["below"]),
        ]
        v_sub, sub_high, sub_low = _saturate(m, x["v_diff"], w.v, "v_sub")
        pulse_new = hysteresis & ((s.pulse & ~released) | started)
        ref_load = x["refractory"] + 1 if self.inject_bug == "refractory_off_by_one" else x["refractory"]

        with m.If(refractory):
            m.d.comb += [out.state.v.eq(s.v), out.state.ref.eq(s.ref - 1)]
        with m.Else():
            m.d.comb += out.state.v.eq(Mux(fired, Mux(reset_mode, v_sub, x["v_reset"]), v_pre))
            m.d.comb += out.state.ref.eq(Mux(fired | released, ref_load, 0))
        subtract = fired & reset_mode
        m.d.comb += [
            *(getattr(out.state, channel_field("i", c)).eq(x[channel_field("i_new", c)]) for c in channels),
            out.state.pulse.eq(pulse_new),
            out.spike.eq(fired | pulse_new),
            out.flags.eq(Cat(
                x["i_high"] | (active & x["v_high"]) | (subtract & sub_high),
                x["i_low"] | (active & x["v_low"]) | (subtract & sub_low),
                active & x["to_rest"],
                (fired | released) & (x["refractory"] != 0),
                refractory & (s.ref == 1),
                released,
            )),
        ]
        # 4. the result itself, so that write-back and the spike queue start from a register
        m.d.comb += self.update.eq(cut(result=out)["result"])
        return m


__all__ = ["BUGS", "MAX_LATENCY", "NeuronDatapath"]
