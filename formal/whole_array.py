"""The whole array against the contract, step by step: part 4 of `lapicque prove`.

`ArrayProperties` drives a small `NeuronArray` (4 neurons in 2 lanes, the reduced widths) from free
top-level inputs: configuration writes of any state, parameter and weight, runs of any length,
any stimulus and any back-pressure on the spike stream. Beside it, a shadow of the array: every
neuron's state and parameters and every weight as the configuration wrote them, each state as its
last update left it, and the accumulators the contract implies (the weights of the previous step's
spikes). Asserted, at every cycle of a bounded run (BMC to `ARRAY_DEPTH`):

- updates are written back in order, local index by local index and timestep by timestep, and the
  inputs each lane's datapath computed the update from are the shadow's: the neuron's state,
  parameters and accumulated input, and the stimulus the array took for it. So the state and
  parameter memories, the accumulator double buffer (a step's first spike writing over its bank's old
  contents, a bank no spike wrote reading as 0, the next step's sweep starting beside the last spike's
  propagation), the propagation engine, the stimulus path and the pipeline's stalls are checked by what they
  must deliver;
- the monitor carries every update written back, in order, unchanged;
- every spike event names a neuron whose update spiked in that timestep, once (none invented or
  duplicated), and once the array is idle with its spike stream ready, every spike has been
  emitted (none lost).

The proof is compositional: the datapath's own proof (`properties.DatapathEquivalence`, the same
datapath, latency and stalls) shows that the update it computes from those inputs is the
contract's, so the array's updates and spikes are the contract's. Comparing the arithmetic here
again would make the solver re-derive the datapath's products against a second copy every cycle
(minutes per step, where this takes seconds).

Assumed: the monitor is read as fast as it is written (it is the scoreboard's tap); parameters
within the spec's ranges (the datapath proof's assumptions), written to addresses that exist.
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, ResetSignal, Signal, signed
from amaranth.hdl import Assert as _Assert
from amaranth.hdl import Assume as _Assume
from amaranth.hdl import Cover as _Cover
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.array import NeuronArray
from lapicque.hdl.layouts import (
    CFG_PARAM,
    CFG_STATE,
    CFG_WEIGHT,
    aer_layout,
    cfg_layout,
    lane_update_layout,
    monitor_layout,
    param_layout,
    state_layout,
    stim_layout,
    unpack,
)
from lapicque.spec import DECAY_ONE, ArraySpec, signed_range

from .properties import delayed, input_alignment

#: cycles the whole array is checked to: reset's clearing, configuration writes and three timesteps (measured by
#: the cover of three timesteps, reached at cycle 22)
ARRAY_DEPTH = 24
#: the array's datapath stages in this proof: the pipeline's control is one generator for every length (a loop
#: over stages), and the shortest the alignment allows reaches three timesteps within `ARRAY_DEPTH` cycles
ARRAY_LATENCY = 2
#: timesteps the spike bookkeeping tells apart (more than a bounded run can reach)
TRACKED_STEPS = 8
#: cycles with the array idle and the spike stream ready after which every spike must be out
DRAIN_CYCLES = 8


def _fed_layout(spec: ArraySpec) -> data.StructLayout:
    """A datapath's inputs for one update."""
    return data.StructLayout({"state": state_layout(spec), "params": param_layout(spec),
                              "acc": signed(spec.acc_bits), "ext": signed(spec.widths.ext)})


class FreeDatapath(wiring.Component):
    """A datapath whose update is whatever `choice` says, every cycle: it stands in for `NeuronDatapath` in the
    whole array, so that the proof covers every update the array could be handed (a superset of the contract's,
    which the datapath's own proof covers) without the solver carrying the arithmetic."""

    def __init__(self, spec: ArraySpec):
        super().__init__({
            "state": In(state_layout(spec)), "params": In(param_layout(spec)),
            "acc": In(signed(spec.acc_bits)), "ext": In(signed(spec.widths.ext)), "en": In(1, init=1),
            "update": Out(lane_update_layout(spec)),
            "choice": In(lane_update_layout(spec)),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.update.eq(self.choice)
        return m


class ArrayProperties(wiring.Component):
    """A `NeuronArray` of `spec` (monitor on) between free inputs and the contract's shadow of it."""

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None, checks: bool = True):
        if not spec.monitor:
            raise ValueError("the whole-array properties read the monitor: build the spec with monitor=True")
        self.spec, self.inject_bug, self.checks = spec, inject_bug, checks
        super().__init__({
            "run_valid": In(1), "run_steps": In(16),
            "cfg_valid": In(1), "cfg": In(cfg_layout(spec)),
            "stim_valid": In(1), "stim": In(stim_layout(spec)),
            "spikes_ready": In(1),
            # every lane's datapath output, free on every cycle (FreeDatapath)
            "updates": In(data.ArrayLayout(lane_update_layout(spec), spec.lanes)),
            "spike": Out(aer_layout(spec)), "spike_valid": Out(1),
            "beat": Out(monitor_layout(spec)), "beat_valid": Out(1),
            # what each lane's datapath was fed for the update it is writing back, and what the shadow says
            "fed": Out(data.ArrayLayout(_fed_layout(spec), spec.lanes)),
            "expected": Out(data.ArrayLayout(_fed_layout(spec), spec.lanes)),
        })

    def explain(self, trace: list[dict[str, int]]) -> dict:
        """A replayed counterexample's table (formal.prove.replay): the free inputs of the last steps, and what
        each lane's datapath was fed against the shadow's inputs for the update being written back."""
        steps = range(max(0, len(trace) - 3), len(trace))
        inputs = [{"signal": f"step {t}: {name}", "value": trace[t][name]} for t in steps
                  for name in ("run_valid", "run_steps", "cfg_valid", "cfg", "stim_valid", "stim", "spikes_ready")]
        lanes = data.ArrayLayout(_fed_layout(self.spec), self.spec.lanes)
        outputs = []
        for lane, (fed, expected) in enumerate(zip(unpack(lanes, trace[-1]["fed"]),
                                                   unpack(lanes, trace[-1]["expected"]), strict=True)):
            for key in ("state", "params"):
                for field in fed[key]:
                    outputs.append({"signal": f"lane {lane}: {key}.{field}", "expected": expected[key][field],
                                    "got": fed[key][field]})
            for key in ("acc", "ext"):
                outputs.append({"signal": f"lane {lane}: {key}", "expected": expected[key], "got": fed[key]})
        return {"step": len(trace) - 1, "inputs": inputs, "outputs": outputs,
                "differs": [o["signal"] for o in outputs if o["expected"] != o["got"]]}

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        lanes, depth, neurons = spec.lanes, spec.depth, spec.neurons
        m.submodules.array = array = NeuronArray(spec, inject_bug=self.inject_bug, latency=ARRAY_LATENCY,
                                                 datapath=lambda: FreeDatapath(spec))
        for lane, dp in enumerate(array.datapaths):
            m.d.comb += dp.choice.eq(self.updates[lane])
        m.d.comb += [
            array.run.valid.eq(self.run_valid), array.run.payload.eq(self.run_steps),
            array.cfg.valid.eq(self.cfg_valid), array.cfg.payload.eq(self.cfg),
            array.stim.valid.eq(self.stim_valid), array.stim.payload.eq(self.stim),
            array.spikes.ready.eq(self.spikes_ready),
            array.monitor.ready.eq(1),
            self.spike.eq(array.spikes.payload), self.spike_valid.eq(array.spikes.valid),
            self.beat.eq(array.monitor.payload), self.beat_valid.eq(array.monitor.valid),
        ]
        # without checks (a counterexample replayed in simulation) the shadow is built, nothing asserted
        checks = self.checks

        def Assert(condition):  # noqa: N802 (named as the statement it stands for)
            return [_Assert(condition, src_loc_at=1)] if checks else []

        def Assume(condition):  # noqa: N802
            return [_Assume(condition, src_loc_at=1)] if checks else []

        def Cover(condition):  # noqa: N802
            return [_Cover(condition, src_loc_at=1)] if checks else []

        m.d.comb += Assume(~ResetSignal("sync"))

        # -- the shadow: what the configuration wrote, and what the contract makes of it ------------
        state_shape, param_shape = state_layout(spec), param_layout(spec)
        states = Array(Signal(state_shape, name=f"shadow_state{n}") for n in range(neurons))
        params = Array(Signal(param_shape, name=f"shadow_params{n}") for n in range(neurons))
        weights = Array(Array(Signal(signed(spec.widths.w), name=f"shadow_w{src}_{dst}") for dst in range(neurons))
                        for src in range(neurons))
        acc_now = Array(Signal(signed(spec.acc_bits), name=f"shadow_acc{n}") for n in range(neurons))
        acc_next = [Signal(signed(spec.acc_bits), name=f"shadow_acc_next{n}") for n in range(neurons)]
        taken_ext = Array(Signal(stim_layout(spec), name=f"taken_ext{k}") for k in range(depth))

        # configuration writes land in the shadow as they are taken
        cfg = self.cfg
        cfg_taken = array.cfg.valid & array.cfg.ready
        local = cfg.addr[: max(1, (depth - 1).bit_length())]
        with m.If(cfg_taken):
            with m.Switch(cfg.target):
                with m.Case(CFG_STATE):
                    m.d.sync += states[local * lanes + cfg.lane].eq(cfg.data[: state_shape.size])
                with m.Case(CFG_PARAM):
                    m.d.sync += params[local * lanes + cfg.lane].eq(cfg.data[: param_shape.size])
                with m.Case(CFG_WEIGHT):
                    # lane memory address src * depth + local index of the target
                    for src in range(neurons):
                        for k in range(depth):
                            with m.If(cfg.addr == src * depth + k):
                                m.d.sync += weights[src][k * lanes + cfg.lane].eq(cfg.data[: spec.widths.w])
        # what the configuration may write: parameters the spec allows, addresses that exist, a valid target
        written = param_shape(cfg.data[: param_shape.size])
        _, v_hi = signed_range(spec.widths.v)
        with m.If(self.cfg_valid):
            m.d.comb += Assume(cfg.target <= CFG_WEIGHT)
            m.d.comb += Assume(cfg.lane < lanes)
            with m.If(cfg.target != CFG_WEIGHT):
                m.d.comb += Assume(cfg.addr < depth)
            with m.If(cfg.target == CFG_PARAM):
                m.d.comb += [
                    # the datapath proof's assumptions: what it proves the contract for
                    *Assume(written.decay <= DECAY_ONE),
                    *Assume(Mux(written.leak_mode == 0, written.leak <= DECAY_ONE, written.leak <= v_hi)),
                    *Assume(~written.hysteresis | (written.theta_lo < written.theta_hi)),
                ]

        # the stimulus the array takes for each local index (taken in order, one beat per index)
        stim_index = Signal(range(depth), name="stim_index")
        with m.If(array.stim.valid & array.stim.ready):
            m.d.sync += taken_ext[stim_index].eq(self.stim)
            m.d.sync += stim_index.eq(Mux(stim_index == depth - 1, 0, stim_index + 1))

        # -- what each datapath is fed, aligned with the update it produces -------------------------
        # The alignment the datapath's own proof uses (properties.DatapathEquivalence, registered memories),
        # each register advancing with the datapath's enable. That proof shows the update is the contract's
        # of these inputs.
        state_delay, input_delay = input_alignment(ARRAY_LATENCY, registered_memories=True)
        fed = []
        for lane, dp in enumerate(array.datapaths):
            inputs = Signal(_fed_layout(spec), name=f"fed_now{lane}")
            m.d.comb += [inputs.state.eq(delayed(m, dp.state, state_delay, en=dp.en, name=f"state{lane}")),
                         inputs.params.eq(delayed(m, dp.params, state_delay, en=dp.en, name=f"params{lane}")),
                         inputs.acc.eq(delayed(m, dp.acc, input_delay, en=dp.en, name=f"acc{lane}")),
                         inputs.ext.eq(delayed(m, dp.ext, input_delay, en=dp.en, name=f"ext{lane}"))]
            fed.append(delayed(m, inputs, ARRAY_LATENCY - input_delay, en=dp.en, name=f"fed{lane}"))

        # -- every update written back: the shadow's inputs went in, and its result is kept ---------
        index = array.write_back_index
        written_back = array.write_back
        expected_index = Signal(range(depth), name="expected_index")
        step = Signal(range(TRACKED_STEPS), name="step")  # timestep being updated, modulo TRACKED_STEPS
        spiked_now = Signal(neurons, name="spiked_now")
        with m.If(written_back):
            m.d.comb += [*Assert(index == expected_index),
                         *Assert(array.timestep[: step.shape().width] == step)]
            m.d.sync += expected_index.eq(Mux(expected_index == depth - 1, 0, expected_index + 1))
            with m.If(expected_index == depth - 1):
                m.d.sync += step.eq(step + 1)
        last_update = Array(Signal(lane_update_layout(spec), name=f"last_update{n}") for n in range(neurons))
        for lane, dp in enumerate(array.datapaths):
            neuron = expected_index * lanes + lane
            m.d.comb += [
                self.fed[lane].state.eq(fed[lane].state), self.fed[lane].params.eq(fed[lane].params),
                self.fed[lane].acc.eq(fed[lane].acc), self.fed[lane].ext.eq(fed[lane].ext),
                self.expected[lane].state.eq(states[neuron]), self.expected[lane].params.eq(params[neuron]),
                self.expected[lane].acc.eq(acc_now[neuron]),
                self.expected[lane].ext.eq(taken_ext[expected_index][lane]),
            ]
            with m.If(written_back):
                m.d.comb += Assert(self.fed[lane].as_value() == self.expected[lane].as_value())
                m.d.sync += [states[neuron].eq(dp.update.state), last_update[neuron].eq(dp.update)]
                with m.If(dp.update.spike):
                    m.d.comb += spiked_now.bit_select(neuron, 1).eq(1)
        # the next step's accumulators: the weights of this step's spikes (the contract's synaptic input)
        for dst in range(neurons):
            total = acc_next[dst]
            for src in range(neurons):
                total = total + Mux(spiked_now[src], weights[src][dst], 0)
            with m.If(written_back & (expected_index == depth - 1)):
                m.d.sync += [acc_now[dst].eq(total), acc_next[dst].eq(0)]
            with m.Else():
                m.d.sync += acc_next[dst].eq(total)

        # -- the monitor: every update written back, in order, unchanged ----------------------------
        beat = array.monitor.payload
        beat_taken = array.monitor.valid  # read at once (ready is high)
        beat_index = Signal(range(depth), name="beat_index")
        beat_step = Signal(range(TRACKED_STEPS), name="beat_step")
        with m.If(beat_taken):
            m.d.comb += [*Assert(beat.index == beat_index),
                         *Assert(beat.timestep[: beat_step.shape().width] == beat_step)]
            for lane in range(lanes):
                m.d.comb += Assert(beat.lanes[lane].as_value() == last_update[beat_index * lanes + lane].as_value())
            m.d.sync += beat_index.eq(Mux(beat_index == depth - 1, 0, beat_index + 1))
            with m.If(beat_index == depth - 1):
                m.d.sync += beat_step.eq(beat_step + 1)

        # -- every spike event: one the contract made, once; none left behind ------------------------
        pending = Array(Signal(neurons, name=f"pending_spikes{t}") for t in range(TRACKED_STEPS))
        spike_event = array.spikes.payload
        spike_taken = array.spikes.valid & array.spikes.ready
        emitted_now = Signal(neurons, name="emitted_now")
        m.d.comb += emitted_now.eq(Mux(spike_taken, 1 << spike_event.neuron, 0))
        event_step = spike_event.timestep[: step.shape().width]
        with m.If(spike_taken):
            m.d.comb += Assert((pending[event_step] & emitted_now) != 0)
        for t in range(TRACKED_STEPS):
            here_spiked = Mux(written_back & (step == t), spiked_now, 0)
            here_emitted = Mux(spike_taken & (event_step == t), emitted_now, 0)
            m.d.sync += pending[t].eq((pending[t] | here_spiked) & ~here_emitted)
        drained = Signal(range(DRAIN_CYCLES + 1), name="drained_cycles")
        with m.If(~array.busy & self.spikes_ready):
            with m.If(drained != DRAIN_CYCLES):
                m.d.sync += drained.eq(drained + 1)
        with m.Else():
            m.d.sync += drained.eq(0)
        with m.If(drained == DRAIN_CYCLES):
            for t in range(TRACKED_STEPS):
                m.d.comb += Assert(pending[t] == 0)

        # -- not vacuous -------------------------------------------------------------------------------
        m.d.comb += [
            *Cover(written_back & (spiked_now != 0)),  # a spike
            *Cover(spike_taken & (step >= 1)),  # a spike propagated and emitted
            *Cover(array.spikes.valid & ~array.spikes.ready),  # back-pressure on the spike stream
            *Cover(step == 3),  # three whole timesteps checked
            *Cover(array.overlap),  # a sweep started beside the propagation of the step before's last spike
        ]
        return m


def whole_array_spec(spec: ArraySpec, widths) -> ArraySpec:
    """The array the whole-array properties check: 4 neurons in 2 lanes with `spec`'s datapath at `widths`."""
    return ArraySpec(4, 2, widths, params={"theta_hi": 1, "leak": 0}, monitor=True, rounding=spec.rounding,
                     weight_exponent=spec.weight_exponent)

