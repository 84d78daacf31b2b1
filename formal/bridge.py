"""Properties of the host bridge: every command has exactly its effect, every record is whole and expected.

`HostBridge` for a small array (4 neurons in 2 lanes, reduced widths, with the monitor) sits between free
inputs: the host's bytes (`rx`), the line's ready (`tx`), the array's readies (`cfg`, `run`), its spikes and
monitor beats, `busy`, `timestep` and `busy_cycles`. A shadow written from the protocol (docs/protocol.md, the
byte lengths of `command_lengths` and `record_lengths`, not the bridge's state machine) parses the bytes the
bridge takes and predicts what each command must do. Asserted, every cycle:

- commands: a 'C' command makes exactly one configuration write, its payload the command's bytes; a
  'W' row makes one write per neuron, in order, each naming the weight memory, the neuron's lane, the
  row's address and the weight's bytes; an 'R' makes one run of its steps; an 'M' sets its watch slot;
  an 'I', 'Y' or unknown byte queues its reply; nothing is written, run or replied that no command asked
  for, and no byte is taken while a command's write or run is still waiting to be taken;
- records: the bytes on `tx` are whole records, each one that is due, each kind in its order: a spike
  record carries the spike the bridge took (each spike sent once, in order, unchanged, before any later
  record), a state record the next watched lane of the monitor beats taken (lowest lane first, its
  timestep, neuron and state unchanged; a lane is watched when a slot follows its neuron), a reply record
  is the oldest reply due (the identity's bytes as the host driver expects them, the sync's token, the
  dropped byte), a done record carries `timestep` and `busy_cycles` and starts only after the array has
  fallen quiet (busy low, no spike or beat for two cycles) and every watched state is out;
- streams: `tx`, `cfg` and `run` hold valid and payload until taken; `stim` is always zero;
- no deadlock: a spike waiting while the line is free is taken within `SPIKE_LATENCY` cycles, and a
  state record due is on the line as soon; a reply due while the line is free and nothing else waits is
  on the line within `REPLY_LATENCY` cycles; the bridge never leaves `rx` unready for two cycles in a row
  unless a write, a run or a reply is waiting on the other side (the consumer's readies are free:
  progress is asserted for when they are high, no fairness is assumed).

Assumed, of the array (what `NeuronArray` does): `busy` rises the cycle after a run of one or more steps
is taken and at no other time, `timestep` and `busy_cycles` change only while it is high, spikes and
monitor beats offered are held until taken, and once busy is low and none has been offered for two
cycles none is offered until the next run (its FIFOs drain without gaps of two cycles). The host's
bytes are held until taken.

Proved by k-induction (`BRIDGE_DEPTH`; the invariants that make it inductive are asserted too: every
register of the bridge holds what the shadow's state implies, `_invariants`), so for every cycle of every
run, not a bounded one; covers (BMC to `BRIDGE_COVER_DEPTH`) show each command's effect, each kind of
record, both lanes of a beat watched, a spike ahead of a reply and back-pressure inside a record reachable.
A bug that needs more cycles than the base case to show (two watch commands and a beat take about that)
fails the induction step instead: `unknown`, without a counterexample.
"""

from __future__ import annotations

from amaranth.hdl import Assert, Assume, Cat, Const, Cover, Module, Mux, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.bridge import (
    CMD_CFG,
    CMD_IDENT,
    CMD_RUN,
    CMD_SYNC,
    CMD_WATCH,
    CMD_WEIGHT_ROW,
    MAGIC,
    PROTOCOL_VERSION,
    REC_DONE,
    REC_ERROR,
    REC_IDENT,
    REC_SPIKE,
    REC_STATE,
    REC_SYNC,
    WATCH_SLOTS,
    HostBridge,
    command_lengths,
    datapath_code,
    record_lengths,
    state_bytes,
    weight_bytes,
)
from lapicque.hdl.layouts import CFG_WEIGHT, TIMESTEP_BITS, aer_layout, cfg_layout, monitor_layout
from lapicque.spec import ArraySpec

#: k-induction depth: the base case covers the first cycles of every run (a run's done record, a whole
#: configuration command and its write), the step every later cycle; the invariants make one step enough
BRIDGE_DEPTH = 11
#: the covers' depth: a whole identity record and a weight row reach their ends within it
BRIDGE_COVER_DEPTH = 40
#: cycles a spike may wait with the line free: the grant, then the take
SPIKE_LATENCY = 2
#: cycles a due reply may wait with the line free and no spike offered: the command's execution (or the
#: done's second quiet cycle), the grant, the load
REPLY_LATENCY = 3


def identity_bytes(spec: ArraySpec) -> bytes:
    """The identity record as docs/protocol.md lays it out (the host driver reads it so)."""
    w = spec.widths
    return (bytes([REC_IDENT]) + MAGIC + bytes([PROTOCOL_VERSION]) + (spec.neurons % (1 << 16)).to_bytes(2, "little")
            + bytes([spec.lanes, w.v, w.i, w.w, w.bias, w.ext, w.refractory, WATCH_SLOTS if spec.monitor else 0,
                     datapath_code(spec)]))


class BridgeProperties(wiring.Component):
    """`HostBridge(spec)` between free inputs and the protocol's shadow; see the module docstring."""

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None, checks: bool = True):
        self.spec, self.inject_bug, self.checks = spec, inject_bug, checks
        super().__init__({
            "rx_valid": In(1),
            "rx_payload": In(8),
            "tx_ready": In(1),
            "cfg_ready": In(1),
            "run_ready": In(1),
            "spike_valid": In(1),
            "spike_payload": In(aer_layout(spec)),
            "busy": In(1),
            "timestep": In(TIMESTEP_BITS),
            "busy_cycles": In(32),
            **({"monitor_valid": In(1), "monitor_payload": In(monitor_layout(spec))} if spec.monitor else {}),
            # what the bridge does, and what the shadow expects (for a counterexample's table)
            "tx_valid": Out(1),
            "tx_payload": Out(8),
            "expected_tx": Out(8),
            "cfg_valid": Out(1),
            "cfg_payload": Out(cfg_layout(spec)),
            "expected_cfg": Out(cfg_layout(spec)),
            "run_valid": Out(1),
            "run_payload": Out(16),
        })

    def explain(self, trace: list[dict[str, int]]) -> dict:
        """A replayed counterexample's table (formal.prove.replay): the host's and the array's inputs of the
        last steps, and the bytes and writes out against those expected."""
        steps = range(max(0, len(trace) - 4), len(trace))
        inputs = [{"signal": f"step {t}: {name}", "value": trace[t][name]} for t in steps
                  for name in ("rx_valid", "rx_payload", "tx_ready", "cfg_ready", "run_ready", "spike_valid", "busy")]
        outputs = [{"signal": f"step {t}: tx.payload", "expected": trace[t]["expected_tx"],
                    "got": trace[t]["tx_payload"]} for t in range(len(trace)) if trace[t]["tx_valid"]][-4:]
        outputs += [{"signal": f"step {t}: cfg.payload", "expected": trace[t]["expected_cfg"],
                     "got": trace[t]["cfg_payload"]} for t in range(len(trace)) if trace[t]["cfg_valid"]][-2:]
        return {"step": len(trace) - 1, "inputs": inputs, "outputs": outputs,
                "differs": [o["signal"] for o in outputs if o["expected"] != o["got"]]}

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        dut = HostBridge(spec, inject_bug=self.inject_bug)
        dut._MustUse__silence = True  # its elaboration, not the component, is the submodule
        # elaborated here, so that the invariants below can name its registers (`HostBridge.internals`)
        m.submodules.dut = dut.elaborate(platform)
        m.d.comb += [
            dut.rx.valid.eq(self.rx_valid), dut.rx.payload.eq(self.rx_payload),
            dut.tx.ready.eq(self.tx_ready), dut.cfg.ready.eq(self.cfg_ready), dut.run.ready.eq(self.run_ready),
            dut.spikes.valid.eq(self.spike_valid), dut.spikes.payload.eq(self.spike_payload),
            dut.busy.eq(self.busy), dut.timestep.eq(self.timestep), dut.busy_cycles.eq(self.busy_cycles),
            self.tx_valid.eq(dut.tx.valid), self.tx_payload.eq(dut.tx.payload),
            self.cfg_valid.eq(dut.cfg.valid), self.cfg_payload.eq(dut.cfg.payload),
            self.run_valid.eq(dut.run.valid), self.run_payload.eq(dut.run.payload),
        ]
        monitor_taken = Const(0)
        if spec.monitor:
            m.d.comb += [dut.monitor.valid.eq(self.monitor_valid), dut.monitor.payload.eq(self.monitor_payload)]
            monitor_taken = dut.monitor.valid & dut.monitor.ready
        rx_taken = dut.rx.valid & dut.rx.ready
        tx_taken = dut.tx.valid & dut.tx.ready
        cfg_taken = dut.cfg.valid & dut.cfg.ready
        run_taken = dut.run.valid & dut.run.ready
        spike_taken = dut.spikes.valid & dut.spikes.ready

        # -- the shadow's command parser: bytes by their index in the command -------------------------
        lengths = command_lengths(spec)
        longest = max(lengths.values())
        opcode = Signal(8, name="shadow_opcode")
        in_command = Signal(name="shadow_in_command")  # an opcode with payload bytes still to come

        def byte_buffer(count: int, index, filling, name: str):
            """`count` byte registers, a byte taken while `filling` stored at `index`; and their contents with
            this cycle's byte in place (what a command or a weight completed now carries)."""
            registers = [Signal(8, name=f"{name}{k}") for k in range(count)]
            with m.If(rx_taken & filling):
                with m.Switch(index):
                    for k in range(count):
                        with m.Case(k):
                            m.d.sync += registers[k].eq(dut.rx.payload)
            return registers, [Mux(index == k, dut.rx.payload, registers[k]) for k in range(count)]

        got = Signal(range(longest + 1), name="shadow_bytes_got")
        in_row = Signal(name="shadow_in_weight_row")
        row_src = Signal(16, name="shadow_row_source")
        neuron = Signal(range(spec.neurons), name="shadow_row_neuron")
        wb = weight_bytes(spec)
        weight_got = Signal(range(wb + 1), name="shadow_weight_bytes_got")
        payload, now = byte_buffer(longest, got, ~in_row & in_command, "shadow_byte")
        weight, weight_now = byte_buffer(wb, weight_got, in_row, "shadow_weight_byte")

        # effects due: one configuration write, one run, and up to two replies (one loaded on the line, one
        # waiting in the bridge)
        cfg_due = Signal(name="shadow_cfg_due")
        cfg_expected = Signal.like(dut.cfg.payload, name="shadow_cfg_expected")
        run_due = Signal(name="shadow_run_due")
        run_expected = Signal(16, name="shadow_run_expected")
        replies = Signal(range(3), name="shadow_replies_due")
        reply_tag = [Signal(8, name=f"shadow_reply{k}_tag") for k in range(2)]
        reply_arg = [Signal(8, name=f"shadow_reply{k}_arg") for k in range(2)]
        push, push_tag, push_arg = Signal(name="shadow_push"), Signal(8, name="shadow_push_tag"), Signal(8)

        # watch slots: slot k follows neuron slot_neuron[k] while slot_on[k] (a slot past the last is ignored)
        watch_due, watch_value = Signal(name="shadow_watch_due"), Signal(32, name="shadow_watch_value")
        slot_neuron = [Signal(16, name=f"shadow_slot{k}_neuron") for k in range(WATCH_SLOTS)]
        slot_on = [Signal(name=f"shadow_slot{k}_on") for k in range(WATCH_SLOTS)]
        with m.If(watch_due):
            m.d.sync += watch_due.eq(0)
            for k in range(WATCH_SLOTS):
                with m.If(watch_value[:8] == k):
                    m.d.sync += [slot_neuron[k].eq(watch_value[8:24]), slot_on[k].eq(watch_value[24])]

        layout = cfg_layout(spec)
        with m.If(rx_taken):
            with m.If(in_row):
                m.d.sync += weight_got.eq(weight_got + 1)
                with m.If(weight_got == wb - 1):  # a weight complete: its write is due
                    write = Signal(layout, name="shadow_weight_write")
                    m.d.comb += [write.target.eq(CFG_WEIGHT), write.data.eq(Cat(*weight_now)[:spec.widths.w])]
                    with m.Switch(neuron):
                        for n in range(spec.neurons):
                            with m.Case(n):  # neuron n lives in lane n % lanes at local index n // lanes
                                m.d.comb += [write.lane.eq(n % spec.lanes),
                                             write.addr.eq(row_src * spec.depth + n // spec.lanes)]
                    m.d.sync += [cfg_due.eq(1), cfg_expected.eq(write), weight_got.eq(0),
                                 neuron.eq(Mux(neuron == spec.neurons - 1, 0, neuron + 1))]
                    with m.If(neuron == spec.neurons - 1):
                        m.d.sync += in_row.eq(0)
            with m.Elif(in_command):
                m.d.sync += got.eq(got + 1)
                with m.Switch(opcode):
                    for cmd, length in lengths.items():
                        if not length:
                            continue
                        with m.Case(cmd):
                            with m.If(got == length - 1):  # the command's last byte
                                m.d.sync += in_command.eq(0)
                                value = Cat(*now[:length])
                                if cmd == CMD_CFG:
                                    m.d.sync += [cfg_due.eq(1), cfg_expected.eq(value[:layout.size])]
                                elif cmd == CMD_RUN:
                                    m.d.sync += [run_due.eq(1), run_expected.eq(value)]
                                elif cmd == CMD_SYNC:
                                    m.d.comb += [push.eq(1), push_tag.eq(REC_SYNC), push_arg.eq(value)]
                                elif cmd == CMD_WEIGHT_ROW:
                                    m.d.sync += [in_row.eq(1), row_src.eq(value), neuron.eq(0), weight_got.eq(0)]
                                else:
                                    assert cmd == CMD_WATCH  # takes effect as the command executes
                                    m.d.sync += [watch_due.eq(1), watch_value.eq(value)]
            with m.Else():  # an opcode
                m.d.sync += [opcode.eq(dut.rx.payload), got.eq(0)]
                with m.Switch(dut.rx.payload):
                    for cmd, length in lengths.items():
                        with m.Case(cmd):
                            if length:
                                m.d.sync += in_command.eq(1)
                            else:
                                assert cmd == CMD_IDENT
                                m.d.comb += [push.eq(1), push_tag.eq(REC_IDENT)]
                    with m.Default():
                        m.d.comb += [push.eq(1), push_tag.eq(REC_ERROR), push_arg.eq(dut.rx.payload)]
        with m.If(cfg_taken):
            m.d.sync += cfg_due.eq(0)
        with m.If(run_taken):
            m.d.sync += run_due.eq(0)
            m.d.comb += [push.eq(1), push_tag.eq(REC_DONE)]

        # -- the records on tx -----------------------------------------------------------------------
        records = record_lengths(spec)
        longest_record = max(records.values())
        spike_held = Signal(name="shadow_spike_held")  # a spike taken whose record has not started
        spike_record = Signal(8 * records[REC_SPIKE], name="shadow_spike_record")
        with m.If(spike_taken):
            m.d.sync += [spike_held.eq(1), spike_record.eq(Cat(Const(REC_SPIKE, 8), dut.spikes.payload.timestep,
                                                               dut.spikes.payload.neuron.as_unsigned(),
                                                               Const(0, 16 - len(dut.spikes.payload.neuron))))]
        left = Signal(range(longest_record + 1), name="shadow_record_bytes_left")
        rest = Signal(8 * longest_record, name="shadow_record_rest")
        tag = Signal(8, name="shadow_record_tag")
        starting = Signal(name="shadow_record_starting")
        m.d.comb += starting.eq(dut.tx.valid & (left == 0))
        # a done record carries the counters of when it was first offered (the array is quiet then; a next run
        # may start before the record is taken)
        tx_waiting = Signal(name="tx_waiting")
        m.d.sync += tx_waiting.eq(dut.tx.valid & ~dut.tx.ready)
        done_fields, done_fields_offered = Signal(64, name="shadow_done_fields"), Signal(64)
        with m.If(~tx_waiting):
            m.d.sync += done_fields_offered.eq(Cat(self.timestep, self.busy_cycles))
        m.d.comb += done_fields.eq(Mux(tx_waiting, done_fields_offered, Cat(self.timestep, self.busy_cycles)))
        # watched states: each monitor beat taken queues a state record per watched lane, lowest lane first (at
        # most one beat's records and one record loaded from the beat before)
        queue_size = spec.lanes + 1
        state_bits = 8 * state_bytes(spec)
        states = [Signal(TIMESTEP_BITS + 16 + state_bits, name=f"shadow_state_record{k}") for k in range(queue_size)]
        states_due = Signal(range(queue_size + 1), name="shadow_states_due")
        state_start = Signal(name="shadow_state_record_starting")
        m.d.comb += state_start.eq(~spike_held & (dut.tx.payload == REC_STATE) & (states_due != 0))
        watched_now = []
        if spec.monitor:
            beat = dut.monitor.payload
            for lane in range(spec.lanes):
                neuron_of_lane = Signal(16, name=f"shadow_beat_neuron{lane}")
                m.d.comb += neuron_of_lane.eq(beat.index * spec.lanes + lane)
                watched_now.append((Cat(slot_on[k] & (slot_neuron[k] == neuron_of_lane) for k in range(WATCH_SLOTS))
                                    .any(), Cat(beat.timestep, neuron_of_lane, beat.lanes[lane].state.as_value())))
        # the record a byte offered between records must begin: the held spike's, else the oldest watched
        # state's (when its tag says so), else the oldest reply's
        head = Signal(8 * longest_record, name="shadow_next_record")
        head_length = Signal(range(longest_record + 1), name="shadow_next_record_length")
        with m.If(spike_held):
            m.d.comb += [head.eq(spike_record), head_length.eq(records[REC_SPIKE])]
        with m.Elif(state_start):
            m.d.comb += [head.eq(Cat(Const(REC_STATE, 8), states[0])), head_length.eq(records[REC_STATE])]
        with m.Else():
            with m.Switch(reply_tag[0]):
                with m.Case(REC_IDENT):
                    m.d.comb += [head.eq(int.from_bytes(identity_bytes(spec), "little")),
                                 head_length.eq(records[REC_IDENT])]
                with m.Case(REC_DONE):
                    m.d.comb += [head.eq(Cat(Const(REC_DONE, 8), done_fields)),
                                 head_length.eq(records[REC_DONE])]
                for reply in (REC_SYNC, REC_ERROR):
                    with m.Case(reply):
                        m.d.comb += [head.eq(Cat(Const(reply, 8), reply_arg[0])), head_length.eq(records[reply])]
        m.d.comb += self.expected_tx.eq(Mux(left == 0, head[:8], rest[:8]))
        pop, pop_state = Signal(name="shadow_pop"), Signal(name="shadow_pop_state")
        with m.If(tx_taken):
            with m.If(left == 0):
                m.d.sync += [rest.eq(head >> 8), left.eq(head_length - 1), tag.eq(head[:8])]
                with m.If(spike_held):
                    m.d.sync += spike_held.eq(0)
                with m.Elif(state_start):
                    m.d.comb += pop_state.eq(1)
                with m.Else():
                    m.d.comb += pop.eq(1)
            with m.Else():
                m.d.sync += [rest.eq(rest >> 8), left.eq(left - 1)]
        # the reply queue: pop the head, push behind what stays
        stays = Signal(range(3), name="shadow_replies_staying")
        m.d.comb += stays.eq(replies - pop)
        with m.If(pop):
            m.d.sync += [reply_tag[0].eq(reply_tag[1]), reply_arg[0].eq(reply_arg[1])]
        with m.If(push):
            for k in range(2):
                with m.If(stays == k):
                    m.d.sync += [reply_tag[k].eq(push_tag), reply_arg[k].eq(push_arg)]
        m.d.sync += replies.eq(stays + push)
        # the state records' queue: pop the head, append the watched lanes of a beat taken
        states_staying = Signal(range(queue_size + 1), name="shadow_states_staying")
        m.d.comb += states_staying.eq(states_due - pop_state)
        with m.If(pop_state):
            m.d.sync += [states[k].eq(states[k + 1]) for k in range(queue_size - 1)]
        position = states_staying
        for lane, (watched, record) in enumerate(watched_now):
            at = Signal(range(queue_size + 1), name=f"shadow_state_position{lane}")
            m.d.comb += at.eq(position)
            with m.If(monitor_taken & watched):
                for k in range(queue_size):
                    with m.If(at == k):
                        m.d.sync += states[k].eq(record)
            position = at + (monitor_taken & watched)
        m.d.sync += states_due.eq(position)
        if not self.checks:
            return m
        m.d.comb += Assume(~ResetSignal("sync"))
        # -- assumptions: the host holds its bytes, the array behaves as NeuronArray does ----------------
        rx_waiting, spike_waiting = Signal(name="rx_waiting"), Signal(name="spike_waiting")
        rx_before, spike_before = Signal(8, name="rx_before"), Signal.like(dut.spikes.payload, name="spike_before")
        m.d.sync += [rx_waiting.eq(dut.rx.valid & ~dut.rx.ready), rx_before.eq(dut.rx.payload),
                     spike_waiting.eq(dut.spikes.valid & ~dut.spikes.ready), spike_before.eq(dut.spikes.payload)]
        with m.If(rx_waiting):
            m.d.comb += Assume(dut.rx.valid & (dut.rx.payload == rx_before))
        with m.If(spike_waiting):
            m.d.comb += Assume(dut.spikes.valid & (dut.spikes.payload.as_value() == spike_before.as_value()))
        monitor_valid = Const(0)
        if spec.monitor:
            monitor_valid = dut.monitor.valid
            beat_waiting = Signal(name="beat_waiting")
            beat_before = Signal.like(dut.monitor.payload, name="beat_before")
            m.d.sync += [beat_waiting.eq(dut.monitor.valid & ~dut.monitor.ready), beat_before.eq(dut.monitor.payload)]
            with m.If(beat_waiting):
                m.d.comb += Assume(dut.monitor.valid & (dut.monitor.payload.as_value() == beat_before.as_value()))
        busy_before, run_started = Signal(name="busy_before"), Signal(name="run_started")
        timestep_before, cycles_before = Signal.like(self.timestep), Signal.like(self.busy_cycles)
        m.d.sync += [busy_before.eq(self.busy), run_started.eq(run_taken & (dut.run.payload != 0)),
                     timestep_before.eq(self.timestep), cycles_before.eq(self.busy_cycles)]
        m.d.comb += Assume(self.busy == (run_started | (busy_before & self.busy)))
        with m.If(~busy_before):
            m.d.comb += Assume((self.timestep == timestep_before) & (self.busy_cycles == cycles_before))
        quiet, quiet_before, drained_before = Signal(name="quiet"), Signal(name="quiet_before"), Signal()
        # busy low, no spike or beat offered or held for two cycles: the run's spikes and states are all out
        drained = Signal(name="array_drained")
        m.d.comb += [quiet.eq(~self.busy & ~dut.spikes.valid & ~monitor_valid & ~dut.internals["beat_valid"]),
                     drained.eq(drained_before | (quiet & quiet_before))]
        # quiet cycles count from the cycle after a run is taken (the first its busy could be high in)
        m.d.sync += [quiet_before.eq(quiet & ~run_taken), drained_before.eq(drained & ~run_taken)]
        with m.If(drained_before):
            m.d.comb += Assume(~dut.spikes.valid & ~monitor_valid)

        # -- commands have exactly their effects ----------------------------------------------------
        with m.If(rx_taken):  # no byte read past a write or a run still waiting
            m.d.comb += Assert(~cfg_due & ~run_due)
        m.d.comb += [
            Assert(dut.cfg.valid == cfg_due),
            Assert(dut.run.valid == run_due),
            Assert(dut.stim.valid & (dut.stim.payload.as_value() == 0)),
        ]
        with m.If(cfg_due):
            m.d.comb += Assert(dut.cfg.payload.as_value() == cfg_expected.as_value())
        with m.If(run_due):
            m.d.comb += Assert(dut.run.payload == run_expected)
        with m.If(push & (stays == 2)):  # no reply is asked for while two are waiting
            m.d.comb += Assert(0)
        # -- records: whole, each the next one due --------------------------------------------------------
        with m.If(starting):
            m.d.comb += Assert(spike_held | state_start | (replies != 0))
            with m.If(~tx_waiting & ~spike_held & ~state_start & (reply_tag[0] == REC_DONE)):  # first offered
                m.d.comb += Assert(drained & (states_due == 0))  # the run's spikes and watched states all out
        with m.If(dut.tx.valid):
            m.d.comb += Assert(dut.tx.payload == self.expected_tx)
        with m.If(spike_taken):  # one spike in the bridge at a time: taken only once the last one is on the line
            m.d.comb += Assert(~spike_held)
        with m.If(tx_waiting | (left != 0)):  # valid until ready, and a record's bytes back to back
            m.d.comb += Assert(dut.tx.valid)
        # -- no deadlock -----------------------------------------------------------------------------
        def waits_at_most(waiting, cycles: int, name: str):
            """`waiting` is never high for more than `cycles` cycles in a row."""
            count = Signal(range(cycles + 2), name=name)
            m.d.sync += count.eq(Mux(waiting, Mux(count == cycles + 1, count, count + 1), 0))
            with m.If(waiting):
                m.d.comb += Assert(count < cycles)

        waits_at_most(dut.spikes.valid & ~dut.spikes.ready & ~dut.tx.valid & ~spike_held, SPIKE_LATENCY, "spike_wait")
        with m.If(spike_held):  # a taken spike's record is on the line the next cycle
            m.d.comb += Assert(dut.tx.valid)
        reply_ready = Signal(name="shadow_reply_ready")
        m.d.comb += reply_ready.eq((replies != 0) & ((reply_tag[0] != REC_DONE) | drained))
        waits_at_most((states_due != 0) & ~dut.tx.valid, SPIKE_LATENCY, "state_wait")
        waits_at_most(reply_ready & ~dut.tx.valid & ~dut.spikes.valid & ~spike_held & (states_due == 0), REPLY_LATENCY,
                      "reply_wait")
        # rx unready for two cycles in a row only while something waits on the other side: a write, a run, or
        # a reply not yet on the line (at most one reply is on the line without having started)
        on_line = Signal(name="shadow_reply_on_line")
        m.d.comb += on_line.eq(starting & ~spike_held & ~state_start & (replies != 0))
        blocked = Signal(name="shadow_blocked")
        m.d.comb += blocked.eq(cfg_due | run_due | (replies > on_line))
        stalled = Signal(name="rx_stalled")
        m.d.sync += stalled.eq(~dut.rx.ready & ~blocked)
        m.d.comb += Assert(dut.rx.ready | blocked | ~stalled)

        # -- the invariants that make the above inductive: the bridge's registers hold what the shadow says --
        self._invariants(m, dut, locals())

        # -- not vacuous ----------------------------------------------------------------------------------
        m.d.comb += [
            Cover(cfg_taken & ~in_row & (opcode == CMD_CFG)),  # a configuration write
            Cover(cfg_taken & (neuron == 0) & ~in_row & (opcode == CMD_WEIGHT_ROW)),  # a weight row's last write
            Cover(starting & ~spike_held & (reply_tag[0] == REC_DONE)),  # a run's done record
            Cover(starting & ~spike_held & (reply_tag[0] == REC_ERROR)),  # an unknown byte's error record
            Cover(tx_taken & (left == 1) & (tag == REC_IDENT)),  # the identity record's last byte
            Cover(starting & spike_held & (replies != 0)),  # a spike record ahead of a reply due
            Cover(dut.tx.valid & ~dut.tx.ready & (left != 0)),  # back-pressure inside a record
        ]
        if spec.monitor:
            m.d.comb += [Cover(tx_taken & state_start),  # a watched state's record
                         Cover(states_due == spec.lanes)]  # every lane of a beat watched
        return m


    def _invariants(self, m: Module, dut: HostBridge, shadow: dict) -> None:
        """The bridge's state, register by register, as the shadow's state implies it (asserted every cycle, so
        that each cycle's checks follow from the previous cycle's, not from the whole run before it)."""
        spec, lengths, wb = self.spec, command_lengths(self.spec), weight_bytes(self.spec)
        b = dut.internals
        fsm = b["fsm"]
        idle, collect, execute, weighting, running, replying = (
            fsm.ongoing(name) for name in ("idle", "collect", "execute", "weight", "running", "reply"))
        s = shadow
        opcode, got, payload, replies = s["opcode"], s["got"], s["payload"], s["replies"]
        cfg_due, run_due, in_row, in_command = s["cfg_due"], s["run_due"], s["in_row"], s["in_command"]
        reply_tag, reply_arg, left, spike_held = s["reply_tag"], s["reply_arg"], s["left"], s["spike_held"]
        longest = len(payload)

        def top_bytes(register, count: int, width: int):
            """The bytes a shift-in-at-the-top register got last: byte j of `count`, j = 0 the oldest."""
            return [register[8 * (width - count + j):][:8] for j in range(count)]

        newest_tag = Mux(replies == 2, reply_tag[1], reply_tag[0])
        newest_arg = Mux(replies == 2, reply_arg[1], reply_arg[0])
        is_cmd = {cmd: opcode == cmd for cmd in lengths}
        # the command side
        m.d.comb += [
            Assert(in_command == collect),
            Assert(replying == b["reply_pending"]),
            Assert(~idle | (~in_row & ~cfg_due & ~run_due)),
            Assert(~(in_command & in_row)),
            Assert(~cfg_due | (execute & is_cmd[CMD_CFG]) | weighting),
            Assert(~run_due | (execute & is_cmd[CMD_RUN])),
            Assert(~replying | (~in_row & ~cfg_due & ~run_due & ~in_command)),
        ]
        with m.If(collect):
            m.d.comb += [Assert(b["opcode"] == opcode), Assert(b["count"] == got), Assert(got < b["need"]),
                         Assert(Cat(is_cmd[cmd] for cmd, length in lengths.items() if length).any())]
            for cmd, length in lengths.items():
                if length:
                    with m.If(is_cmd[cmd]):
                        m.d.comb += Assert(b["need"] == length)
            for g in range(longest):
                with m.If(got == g):
                    shifted_in = top_bytes(b["payload"], g, longest)
                    m.d.comb += [Assert(a == p) for a, p in zip(shifted_in, payload[:g], strict=True)]
        with m.If(execute):
            m.d.comb += [Assert(b["opcode"] == opcode), Assert(~b["reply_pending"])]
            m.d.comb += Assert(Cat(*is_cmd.values()).any())
            with m.If(is_cmd[CMD_CFG]):
                m.d.comb += Assert(cfg_due)
            with m.If(is_cmd[CMD_RUN]):
                m.d.comb += Assert(run_due)
            with m.If(is_cmd[CMD_WEIGHT_ROW]):
                m.d.comb += [Assert(in_row & (s["neuron"] == 0) & (s["weight_got"] == 0) & ~cfg_due),
                             Assert(Cat(*top_bytes(b["payload"], 2, longest)) == s["row_src"])]
            with m.If(is_cmd[CMD_IDENT]):
                m.d.comb += Assert((replies != 0) & (newest_tag == REC_IDENT))
            with m.If(is_cmd[CMD_SYNC]):
                m.d.comb += Assert((replies != 0) & (newest_tag == REC_SYNC)
                                   & (newest_arg == top_bytes(b["payload"], 1, longest)[0]))
            with m.If(is_cmd[CMD_WATCH]):
                m.d.comb += Assert(~cfg_due & ~run_due & ~in_row)
        with m.If(in_row):
            m.d.comb += Assert(is_cmd[CMD_WEIGHT_ROW] & (weighting | execute) & (s["weight_got"] < wb))
        with m.If(weighting):
            neuron, weight_got = s["neuron"], s["weight_got"]
            current = Mux(cfg_due, Mux(neuron == 0, spec.neurons - 1, neuron - 1), neuron)
            m.d.comb += [
                Assert(is_cmd[CMD_WEIGHT_ROW] & (in_row | cfg_due)),
                Assert(b["w_row_base"] == (s["row_src"] * spec.depth)[:len(b["w_row_base"])]),
                Assert(b["w_local"] * spec.lanes + b["w_lane"] == current),
                Assert((weight_got < wb) & (~cfg_due | (weight_got == 0))),
                Assert(in_row != (cfg_due & (neuron == 0))),  # out of the row exactly while its last write waits
            ]
            with m.If(cfg_due):
                m.d.comb += Assert(b["count"] == wb)
            with m.Else():
                m.d.comb += Assert(b["count"] == weight_got)
                for g in range(wb):
                    with m.If(weight_got == g):
                        shifted_in = top_bytes(b["w_data"], g, wb)
                        m.d.comb += [Assert(a == w) for a, w in zip(shifted_in, s["weight"][:g], strict=True)]
        with m.If(running):
            m.d.comb += [Assert((replies != 0) & (newest_tag == REC_DONE) & ~cfg_due & ~run_due & ~in_row),
                         Assert(b["was_quiet"] == s["quiet_before"]), Assert(~s["drained_before"])]
        with m.If(replying):
            m.d.comb += Assert((replies != 0) & (b["reply"] == newest_tag))
            with m.If((newest_tag == REC_SYNC) | (newest_tag == REC_ERROR)):
                m.d.comb += Assert(b["reply_arg"] == newest_arg)
            with m.If(newest_tag == REC_DONE):
                m.d.comb += Assert(s["drained"])
        # the record engine
        loaded = ~b["empty"] & (left == 0) & ~spike_held
        loaded_state = loaded & (b["record"][:8] == REC_STATE)
        loaded_reply = loaded & (b["record"][:8] != REC_STATE)
        self._watch_invariants(m, dut, shadow, loaded_state, execute & is_cmd[CMD_WATCH])
        m.d.comb += [
            Assert(replies == loaded_reply + b["reply_pending"] + running
                   + (execute & (is_cmd[CMD_IDENT] | is_cmd[CMD_SYNC]))),
            Assert(~(b["grant_spike"] & b["grant_reply"])),
            Assert(~s["drained_before"] | ~self.busy),
            Assert(b["empty"] | (b["record_left"] != 0)),
            Assert(replies <= 2),
            Assert(~spike_held | ((left == 0) & ~b["empty"])),  # a taken spike's record is loaded, not started
        ]
        for k in range(2):  # the replies due are replies
            with m.If(replies > k):
                m.d.comb += Assert(Cat(reply_tag[k] == tag for tag in (REC_IDENT, REC_DONE, REC_SYNC, REC_ERROR)).any())
        with m.If(b["empty"]):
            m.d.comb += Assert((left == 0) & ~spike_held)
        with m.If(left != 0):
            m.d.comb += Assert((b["record_left"] == left) & (b["record"] == s["rest"]))
        with m.If(~b["empty"] & (left == 0)):
            m.d.comb += Assert((b["record_left"] == s["head_length"]) & (b["record"] == s["head"]))
            with m.If(loaded_reply & (reply_tag[0] == REC_DONE) & ~s["tx_waiting"]):
                m.d.comb += Assert(s["drained"])
        with m.If(b["grant_spike"]):
            m.d.comb += Assert(b["empty"] & dut.spikes.valid & ~spike_held)
        with m.If(b["grant_reply"]):
            m.d.comb += Assert(b["empty"] & b["reply_pending"])
        m.d.comb += Assert(~(b["grant_state"] & (b["grant_spike"] | b["grant_reply"])))

    def _watch_invariants(self, m: Module, dut: HostBridge, s: dict, loaded_state, watching) -> None:
        """The monitor side: the slots as the shadow's, the held beat's pending lanes as the queued state records."""
        b, spec = dut.internals, self.spec
        m.d.comb += Assert(s["watch_due"] == watching)
        if not spec.monitor:
            m.d.comb += [Assert(b["grant_state"] == 0), Assert(s["states_due"] == 0)]
            return
        for k in range(WATCH_SLOTS):
            m.d.comb += Assert((b["slot_neuron"][k] == s["slot_neuron"][k]) & (b["slot_on"][k] == s["slot_on"][k]))
        pending = Signal(spec.lanes, name="bridge_pending_lanes")
        m.d.comb += pending.eq(Mux(b["beat_valid"], b["watched"] & ~b["sent"], 0))
        position = loaded_state
        for lane in range(spec.lanes):
            at = Signal(range(spec.lanes + 2), name=f"bridge_state_position{lane}")
            m.d.comb += at.eq(position)
            beat = b["beat"]
            neuron = Signal(16, name=f"bridge_beat_neuron{lane}")
            m.d.comb += neuron.eq(beat.index * spec.lanes + lane)
            record = Cat(beat.timestep, neuron, beat.lanes[lane].state.as_value())
            with m.If(pending[lane]):
                for k in range(spec.lanes + 1):
                    with m.If(at == k):
                        m.d.comb += Assert(s["states"][k] == record)
            position = at + pending[lane]
        m.d.comb += Assert(s["states_due"] == position)
        with m.If(b["grant_state"]):
            m.d.comb += Assert(b["empty"] & (pending != 0))


def bridge_spec(spec: ArraySpec, widths) -> ArraySpec:
    """The bridge's proof array: 4 neurons in 2 lanes at `widths`, `spec`'s datapath, with the monitor."""
    return ArraySpec(4, 2, widths, params={"theta_hi": 10, "leak": 64}, monitor=True, rounding=spec.rounding,
                     weight_exponent=spec.weight_exponent)
