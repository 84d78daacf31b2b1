"""External Poisson input in hardware: a lane's neurons' counts drawn as the sweep reaches them (issue 20).

The contract is `lapicque.golden.external`: neuron n's input at step t is count * weight, count the number of
entries of its population's table C at or below u = hash32(base + t N + n) >> 8. `PoissonInput` draws one
neuron per cycle in a pipeline of `LATENCY` stages that never stalls (the sweep it feeds never does): the
neuron's population and x (one cycle), lowbias32 in seven (`procedural`'s stages), u compared with every
entry of the population's table at once (a thermometer code), the code's ones counted, the count times the
population's weight. Populations without external input draw nothing (their count is 0).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.golden.external import UNIFORM_BITS

from .procedural import HASH_MULTIPLIERS, _PartialProducts

#: cycles from a neuron's index at `index` (with `issue`) to its input at `ext`
LATENCY = 11


def has_external(net) -> bool:
    return any(pop.external is not None for pop in net.populations.values())


def _ones(bits: list) -> Signal:
    """The number of ones among `bits`, as a balanced tree of adders."""
    level = list(bits)
    while len(level) > 1:
        level = [level[k] + level[k + 1] if k + 1 < len(level) else level[k] for k in range(0, len(level), 2)]
    return level[0]


class PoissonInput(wiring.Component):
    """Lane `lane`'s external input: `index` is a local index (neuron index * lanes + lane), `step_term` the
    step's t N mod 2**32; `ext` is that neuron's input `LATENCY` cycles later."""

    def __init__(self, net, lane: int, index_bits: int):
        self.net, self.lane = net, lane
        self.pops = [(offset, pop.size, pop.external) for offset, pop in zip(net.offsets.values(),
                                                                              net.populations.values(), strict=True)]
        super().__init__({
            "index": In(index_bits),
            "step_term": In(32),
            "ext": Out(signed(net.widths.ext)),
        })

    def elaborate(self, platform):
        m = Module()
        net, pops = self.net, self.pops
        tables = [[] if e is None else [int(c) for c in e.table()] for _, _, e in pops]
        entries = max(1, max(len(t) for t in tables))
        pop_bits = max(1, (len(pops) - 1).bit_length())

        # stage 1: the neuron's population and its counter x = base + t N + n
        neuron = Signal(range(net.neurons + 1))
        m.d.comb += neuron.eq(self.index * net.lanes + self.lane)
        which = Const(len(pops) - 1, pop_bits)
        for k in reversed(range(len(pops) - 1)):
            which = Mux(neuron < pops[k + 1][0], k, which)
        base = Array(Const(0 if e is None else e.base, 32) for _, _, e in pops)[which]
        x = Signal(32)
        pop = [Signal(pop_bits, name=f"pop{s}") for s in range(10)]
        m.d.sync += [x.eq((base + self.step_term + neuron)[:32]), pop[0].eq(which)]
        m.d.sync += [pop[s + 1].eq(pop[s]) for s in range(9)]

        # stages 2-8: lowbias32
        s0, s1, s2, s3, s4 = (Signal(32, name=f"hash{s}") for s in range(5))
        times_a = _PartialProducts(s0, HASH_MULTIPLIERS[0], "times_a")
        times_b = _PartialProducts(s2, HASH_MULTIPLIERS[1], "times_b")
        m.d.sync += [s0.eq(x ^ (x >> 16)), *times_a.registers(), s1.eq(times_a.product()), s2.eq(s1 ^ (s1 >> 15)),
                     *times_b.registers(), s3.eq(times_b.product()), s4.eq(s3 ^ (s3 >> 16))]

        # stage 9: u against every entry of its population's table (entries past a table's end never reached)
        u = s4[32 - UNIFORM_BITS:]
        at_or_above = Signal(entries)
        one = 1 << UNIFORM_BITS
        codes = [Cat(*(u >= Const(t[k] if k < len(t) else one, UNIFORM_BITS + 1) for k in range(entries)))
                 for t in tables]
        m.d.sync += at_or_above.eq(Array(codes)[pop[7]])

        # stage 10: the count; stage 11: times the population's weight
        count = Signal(range(entries + 1))
        m.d.sync += count.eq(_ones([at_or_above[k] for k in range(entries)]))
        weight = Array(Const(0 if e is None else e.weight, signed(net.widths.ext)) for _, _, e in pops)[pop[9]]
        m.d.sync += self.ext.eq(count * weight)
        return m
