"""Properties to prove: the pipelined datapath against the contract's combinational reference.

`DatapathEquivalence` drives `NeuronDatapath` and `ContractReference` with the same free inputs
(top-level ports, so every value of every field, every cycle) and asserts that the datapath's update
equals the reference's update of the inputs `latency` cycles earlier. Assumed: the parameters lie
in the ranges the spec allows (decay 0..4096; an exponential leak 0..4096, a linear one up to the
membrane's maximum; theta_lo below theta_hi for a hysteresis neuron), and `en` is high (the pipeline
advances every cycle; a held pipeline is simulated, `tests/hdl/test_datapath.py`: with `en` free the
latency-8 base case did not finish in 5 minutes).

The reference reads the inputs through registers placed like the datapath's first pipeline cut, so
that after flattening Yosys merges them with the datapath's own and both sides share one multiplier
per product: the solver then proves everything around the products (rounding, sums, saturation,
thresholds, reset, refractory, hysteresis, flags) for every input, instead of re-deriving that two
multipliers agree, which takes it minutes per property.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from amaranth.hdl import Assert, Assume, Cover, Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.datapath import NeuronDatapath
from lapicque.hdl.layouts import lane_update_layout, param_layout, state_layout
from lapicque.spec import DECAY_ONE, FLAG_NAMES, ArraySpec, signed_range

from .reference import ContractReference


def input_alignment(latency: int, registered_memories: bool) -> tuple[int, int]:
    """Cycles after which a `NeuronDatapath` of `latency` has taken in (state and parameters, acc and ext):
    what an update `latency` cycles later is computed from. Behind registered memories acc and ext are
    registered beside the RAMs' output registers, a cycle before state and parameters arrive."""
    if latency == 0:
        return 0, 0
    return (1, 2) if registered_memories else (1, 1)


def delayed(m: Module, value, cycles: int, *, en=None, name: str | None = None):
    """`value` through `cycles` registers of `m`'s sync domain, each advancing when `en` is high (always when
    None)."""
    name = name or getattr(value, "name", "in")
    for k in range(cycles):
        reg = Signal.like(value, name=f"{name}_d{k}")
        if en is None:
            m.d.sync += reg.eq(value)
        else:
            with m.If(en):
                m.d.sync += reg.eq(value)
        value = reg
    return value


@dataclass(frozen=True)
class Property:
    """One proof job: its name, kind (prove: k-induction; bmc: bounded), depth and the design to prove."""

    name: str
    kind: str
    depth: int
    spec: ArraySpec = field(repr=False)
    latency: int = 0
    registered_memories: bool = False
    inject_bug: str | None = None
    reference_rounding: str | None = None
    description: str = ""
    #: memories flattened to registers before the solver sees them (sby.run_property)
    flat_memories: bool = False
    #: another harness than the datapath's: called with `checks=` (formal/streams.py, formal/whole_array.py)
    build: Callable[[bool], wiring.Component] | None = field(default=None, repr=False, compare=False)

    @property
    def is_datapath(self) -> bool:
        return self.build is None

    def design(self, checks: bool = True) -> wiring.Component:
        """The harness; `checks=False` leaves out the assertions (to replay a counterexample in simulation)."""
        if self.build is not None:
            return self.build(checks=checks)
        return DatapathEquivalence(self.spec, self.latency, registered_memories=self.registered_memories,
                                   inject_bug=self.inject_bug, reference_rounding=self.reference_rounding,
                                   checks=checks)


class DatapathEquivalence(wiring.Component):
    """The datapath at `latency` and the contract's reference, fed the same free inputs; asserts equal updates.

    `reference_rounding` proves the datapath against another rounding's reference (a seeded bug: the
    proof must fail); `inject_bug` builds a known-wrong datapath (`hdl.datapath.BUGS`).
    """

    def __init__(self, spec: ArraySpec, latency: int, *, registered_memories: bool = False,
                 inject_bug: str | None = None, reference_rounding: str | None = None, checks: bool = True):
        self.spec = spec
        self.checks = checks
        self.latency = latency
        self.registered_memories = registered_memories
        self.inject_bug = inject_bug
        self.reference_rounding = reference_rounding or spec.rounding
        super().__init__({
            "state": In(state_layout(spec)),
            "params": In(param_layout(spec)),
            "acc": In(signed(spec.acc_bits)),
            "ext": In(signed(spec.widths.ext)),
            "update": Out(lane_update_layout(spec)),
            "expected": Out(lane_update_layout(spec)),
        })

    def elaborate(self, platform):
        from dataclasses import replace

        m = Module()
        spec = self.spec
        m.submodules.datapath = dp = NeuronDatapath(spec, latency=self.latency, inject_bug=self.inject_bug,
                                                    registered_memories=self.registered_memories)
        m.submodules.reference = ref = ContractReference(replace(spec, rounding=self.reference_rounding))
        m.d.comb += [dp.state.eq(self.state), dp.params.eq(self.params), dp.acc.eq(self.acc), dp.ext.eq(self.ext),
                     dp.en.eq(1), self.update.eq(dp.update)]

        # the reference's inputs pass the registers of the datapath's first cut(s) (merged with them)
        state_delay, input_delay = input_alignment(self.latency, self.registered_memories)
        m.d.comb += [ref.state.eq(delayed(m, self.state, state_delay)),
                     ref.params.eq(delayed(m, self.params, state_delay)),
                     ref.acc.eq(delayed(m, self.acc, input_delay)), ref.ext.eq(delayed(m, self.ext, input_delay))]
        expected = delayed(m, ref.update, self.latency - input_delay)
        m.d.comb += self.expected.eq(expected)

        if not self.checks:
            return m
        # assumptions: the parameters the spec allows
        p = self.params
        _, v_hi = signed_range(spec.widths.v)
        if self.latency:  # from the initial state, never reset again (a reset empties both pipelines alike)
            m.d.comb += Assume(~ResetSignal("sync"))
        m.d.comb += [
            Assume(p.decay <= DECAY_ONE),
            Assume(Mux(p.leak_mode == 0, p.leak <= DECAY_ONE, p.leak <= v_hi)),
            Assume(~p.hysteresis | (p.theta_lo < p.theta_hi)),
        ]
        # compare once the pipeline holds only values that entered since reset
        filled = Signal(range(self.latency + 1))
        with m.If(filled < self.latency):
            m.d.sync += filled.eq(filled + 1)
        with m.If(filled == self.latency):
            m.d.comb += Assert(dp.update.as_value() == expected.as_value())
            # not vacuous: every event the contract names happens under these assumptions (`mode cover`)
            m.d.comb += [Cover(dp.update.spike), Cover(dp.update.state.pulse), Cover(dp.update.state.ref != 0)]
            m.d.comb += [Cover(dp.update.flags[k]) for k in range(len(FLAG_NAMES))]
        return m
