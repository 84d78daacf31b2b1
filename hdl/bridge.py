"""The host bridge: a byte protocol (over a UART on boards) that loads, runs and reads the array.

Host to board, multi-byte fields little-endian (the host driver in `lapicque.boards.host` speaks it,
docs/protocol.md describes it for other hosts)::

    'I'                                 identify: reply 'I' record
    'C' cfg[cfg_bytes]                  one configuration write: a `cfg_layout` word (state, parameter
                                        or weight memory), exactly as the array's cfg stream takes it
    'W' src:u16 w[N][weight_bytes]      one weight row: w[src, n] for n = 0..N-1, two's complement
    'M' slot:u8 neuron:u16 on:u8        watch slot `slot` (0..WATCH_SLOTS-1) follows `neuron` (on=1) or
                                        is cleared (on=0); needs the monitor
    'R' steps:u16                       run; spikes and watched states stream back, then 'D'
    'Y' token:u8                        sync: reply 'Y' token once every earlier command is done

Board to host::

    'I' "LPQ" version:u8 neurons:u16 lanes:u8 widths[6]:u8 (v i w bias ext refractory) slots:u8
    'S' timestep:u32 neuron:u16                         a spike
    'V' timestep:u32 neuron:u16 state[state_bytes]      a watched neuron's state after its update
    'D' timestep:u32 busy_cycles:u32                    a run finished (counters since reset)
    'Y' token:u8                                        sync reply
    'E' byte:u8                                         an unknown command byte was dropped

External input (`stim`) is zero on boards: drive neurons with their bias and with each other.

Throughput: commands are taken as fast as bytes arrive; weight rows cost one cycle per weight.
While running, spikes and watched states leave at the line rate; when the line is slower than the
array, the array stalls on its full queues (it never drops an event).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from lapicque.spec import MAX_WEIGHT_EXPONENT, ROUNDING_MODES, ArraySpec

from .layouts import (
    CFG_WEIGHT,
    TIMESTEP_BITS,
    aer_layout,
    cfg_layout,
    monitor_layout,
    state_layout,
    stim_layout,
)

PROTOCOL_VERSION = 2  # 2: the identity names the datapath (rounding and weight exponent)
#: neurons whose states can be watched at once: a few registers and comparators, where a bitmap
#: of every neuron would cost a flip-flop with its own enable per neuron (too many for an iCE40)
WATCH_SLOTS = 8
MAGIC = b"LPQ"
CMD_IDENT, CMD_CFG, CMD_WEIGHT_ROW, CMD_WATCH, CMD_RUN, CMD_SYNC = (ord(c) for c in "ICWMRY")
REC_IDENT, REC_SPIKE, REC_STATE, REC_DONE, REC_SYNC, REC_ERROR = (ord(c) for c in "ISVDYE")
#: seeded bugs (`inject_bug`), for the tests of the bridge's proof: the done record after one quiet cycle of the
#: array instead of two (a spike the FIFO offers a cycle later follows the done); a byte taken while a
#: configuration write still waits for the array (the byte is lost)
BUGS = ("done_before_drained", "byte_taken_during_write")


def nbytes(bits: int) -> int:
    return (bits + 7) // 8


def cfg_bytes(spec: ArraySpec) -> int:
    return nbytes(cfg_layout(spec).size)


def weight_bytes(spec: ArraySpec) -> int:
    return nbytes(spec.widths.w)


def state_bytes(spec: ArraySpec) -> int:
    return nbytes(state_layout(spec).size)


def datapath_code(spec: ArraySpec) -> int:
    """The identity's datapath byte: the weight exponent in bits 0-4, the rounding mode's index above."""
    assert MAX_WEIGHT_EXPONENT < 32  # five bits hold it
    return spec.weight_exponent | ROUNDING_MODES.index(spec.rounding) << 5


def datapath_from_code(code: int) -> dict:
    """`datapath_code` read back: the weight exponent and the rounding mode (named "unknown (k)" past the modes)."""
    rounding = code >> 5
    return {"weight_exponent": code & 0x1F,
            "rounding": ROUNDING_MODES[rounding] if rounding < len(ROUNDING_MODES) else f"unknown ({rounding})"}


def record_lengths(spec: ArraySpec) -> dict[int, int]:
    """Bytes of every board-to-host record, its tag byte included."""
    return {
        REC_IDENT: 1 + len(MAGIC) + 1 + 2 + 1 + 6 + 1 + 1,
        REC_SPIKE: 1 + 4 + 2,
        REC_STATE: 1 + 4 + 2 + state_bytes(spec),
        REC_DONE: 1 + 4 + 4,
        REC_SYNC: 2,
        REC_ERROR: 2,
    }


def command_lengths(spec: ArraySpec) -> dict[int, int]:
    """Payload bytes after each command byte (a weight row: its header; the weights follow)."""
    return {CMD_IDENT: 0, CMD_CFG: cfg_bytes(spec), CMD_WEIGHT_ROW: 2, CMD_WATCH: 4, CMD_RUN: 2, CMD_SYNC: 1}


class HostBridge(wiring.Component):
    """Bytes in (`rx`), bytes out (`tx`); drives the array's `run`, `cfg`, `stim` and takes its
    `spikes` (and `monitor`, when the spec has it, for watched states)."""

    def __init__(self, spec: ArraySpec, *, inject_bug: str | None = None):
        if inject_bug is not None and inject_bug not in BUGS:
            raise ValueError(f"unknown bridge bug {inject_bug!r}; choose from {', '.join(BUGS)}")
        self.inject_bug = inject_bug
        if spec.neurons > 1 << 16:
            raise ValueError(f"the bridge addresses neurons with 16 bits; {spec.neurons} neurons is too many")
        self.spec = spec
        members = {
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "run": Out(stream.Signature(unsigned(16))),
            "cfg": Out(stream.Signature(cfg_layout(spec))),
            "stim": Out(stream.Signature(stim_layout(spec))),
            "spikes": In(stream.Signature(aer_layout(spec))),
            "busy": In(1),
            "busy_cycles": In(32),
            "timestep": In(TIMESTEP_BITS),
        }
        if spec.monitor:
            members["monitor"] = In(stream.Signature(monitor_layout(spec)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        lanes, depth, neurons = spec.lanes, spec.depth, spec.neurons
        lengths = command_lengths(spec)
        records = record_lengths(spec)
        rec_bytes = max(records.values())

        # -- reply engine: one record at a time, shifted out a byte per tx transfer ---------------
        # When empty, the engine first grants one source (watched state, spike, reply; in that
        # order), then loads the granted record the next cycle: the priority decision and the
        # record multiplexer are then in different cycles (together they were the slowest path
        # on an iCE40). A record costs one extra cycle, nothing next to its bytes on the line.
        record = Signal(8 * rec_bytes)
        record_left = Signal(range(rec_bytes + 1))
        empty = Signal(init=1)
        m.d.comb += [self.tx.valid.eq(~empty), self.tx.payload.eq(record[:8])]
        with m.If(self.tx.valid & self.tx.ready):
            m.d.sync += [record.eq(record >> 8), record_left.eq(record_left - 1)]
            with m.If(record_left == 1):
                m.d.sync += empty.eq(1)

        def load(tag, *fields):
            m.d.sync += [record.eq(Cat(Const(tag, 8), *fields)), record_left.eq(records[tag]), empty.eq(0)]

        grant_state, grant_spike, grant_reply = Signal(), Signal(), Signal()
        granted = Signal()
        m.d.comb += granted.eq(grant_state | grant_spike | grant_reply)
        m.d.sync += [grant_state.eq(0), grant_spike.eq(0), grant_reply.eq(0)]  # a grant lasts one cycle
        state_waiting = Signal()  # a watched lane of the held monitor beat is not sent yet

        # requests from the command side, served when nothing from the array is waiting
        reply = Signal(8)  # record tag requested, 0 for none
        reply_pending = Signal()
        reply_arg = Signal(8)
        reply_taken = Signal()
        m.d.comb += reply_taken.eq(grant_reply)
        with m.If(empty & ~granted):
            with m.If(state_waiting):
                m.d.sync += grant_state.eq(1)
            with m.Elif(self.spikes.valid):
                m.d.sync += grant_spike.eq(1)
            with m.Elif(reply_pending):
                m.d.sync += grant_reply.eq(1)

        # watched states: a monitor beat holds one update per lane; it is taken into a register
        # with its lanes' watch matches (so that no comparator sits in the reply arbitration), the
        # watched lanes are sent lowest first, then the beat is released. Unwatched beats pass at
        # one per cycle.
        beat_valid = Signal()
        if spec.monitor:
            slot_neuron = [Signal(16, name=f"watch_neuron{k}") for k in range(WATCH_SLOTS)]
            slot_on = Signal(WATCH_SLOTS)
            incoming = self.monitor.payload
            matches = []
            for lane in range(lanes):
                neuron = Signal(16, name=f"incoming_neuron{lane}")
                m.d.comb += neuron.eq(incoming.index * lanes + lane)
                matches.append(Cat(slot_on[k] & (slot_neuron[k] == neuron) for k in range(WATCH_SLOTS)).any())
            beat = Signal.like(incoming, name="beat")
            watched = Signal(lanes)
            sent = Signal(lanes)
            pending = Signal(lanes)
            m.d.comb += pending.eq(watched & ~sent)
            first = Signal(lanes)  # lowest pending lane, one-hot
            m.d.comb += first.eq(pending & -pending)
            taking_state = Signal()
            m.d.comb += [state_waiting.eq(beat_valid & (pending != 0)), taking_state.eq(grant_state)]
            release = Signal()
            m.d.comb += release.eq(beat_valid & ((pending & ~Mux(taking_state, first, 0)) == 0))
            m.d.comb += self.monitor.ready.eq(~beat_valid | release)
            with m.If(self.monitor.valid & self.monitor.ready):
                m.d.sync += [beat.eq(incoming), beat_valid.eq(1), watched.eq(Cat(matches)), sent.eq(0)]
            with m.Else():
                with m.If(release):
                    m.d.sync += beat_valid.eq(0)
                with m.If(taking_state):
                    m.d.sync += sent.eq(sent | first)
            with m.If(taking_state):
                for lane in range(lanes):
                    with m.If(first[lane]):
                        neuron = Signal(16, name=f"beat_neuron{lane}")
                        m.d.comb += neuron.eq(beat.index * lanes + lane)
                        load(REC_STATE, beat.timestep, neuron, beat.lanes[lane].state.as_value(),
                             Const(0, 8 * state_bytes(spec) - state_layout(spec).size))

        spike = self.spikes.payload
        m.d.comb += self.spikes.ready.eq(grant_spike)
        spike_neuron = Signal(16)
        m.d.comb += spike_neuron.eq(spike.neuron)
        with m.If(grant_spike):
            load(REC_SPIKE, spike.timestep, spike_neuron)
        with m.If(reply_taken):
            with m.Switch(reply):
                with m.Case(REC_IDENT):
                    w = spec.widths
                    load(REC_IDENT, Const(int.from_bytes(MAGIC, "little"), 8 * len(MAGIC)),
                         Const(PROTOCOL_VERSION, 8), Const(neurons % (1 << 16), 16), Const(lanes, 8),
                         *(Const(x, 8) for x in (w.v, w.i, w.w, w.bias, w.ext, w.refractory)),
                         Const(WATCH_SLOTS if spec.monitor else 0, 8), Const(datapath_code(spec), 8))
                with m.Case(REC_DONE):
                    load(REC_DONE, self.timestep, self.busy_cycles)
                with m.Case(REC_SYNC):
                    load(REC_SYNC, reply_arg)
                with m.Case(REC_ERROR):
                    load(REC_ERROR, reply_arg)

        # -- command side ---------------------------------------------------------------------------
        payload_bytes = max(lengths.values())
        opcode = Signal(8)
        # bytes shift in at the top (one enable for the whole register), so a command's L payload
        # bytes end in the top L bytes
        payload = Signal(8 * payload_bytes)

        def arg(cmd):
            return payload[8 * (payload_bytes - lengths[cmd]):]
        count = Signal(range(max(payload_bytes, weight_bytes(spec)) + 1))
        need = Signal.like(count)
        m.d.comb += [self.stim.valid.eq(1), self.stim.payload.eq(0)]
        rx = self.rx

        # weight-row walk: target neuron n = local * lanes + lane
        w_lane = Signal(range(lanes))
        w_local = Signal(range(depth))
        w_row_base = Signal.like(self.cfg.payload.addr)
        w_data = Signal(8 * weight_bytes(spec))
        was_quiet = Signal()  # running: the array was quiet in the previous cycle

        with m.FSM(name="bridge") as fsm:
            with m.State("idle"):
                m.d.comb += rx.ready.eq(1)
                with m.If(rx.valid):
                    m.d.sync += [opcode.eq(rx.payload), count.eq(0)]
                    with m.Switch(rx.payload):
                        for cmd, length in lengths.items():
                            with m.Case(cmd):
                                m.d.sync += need.eq(length)
                                m.next = "collect" if length else "execute"
                        with m.Default():
                            m.d.sync += [reply.eq(REC_ERROR), reply_pending.eq(1), reply_arg.eq(rx.payload)]
                            m.next = "reply"
            with m.State("collect"):
                m.d.comb += rx.ready.eq(1)
                with m.If(rx.valid):
                    m.d.sync += [payload.eq(Cat(payload[8:], rx.payload)), count.eq(count + 1)]
                    with m.If(count == need - 1):
                        m.next = "execute"
            with m.State("execute"):
                with m.Switch(opcode):
                    with m.Case(CMD_IDENT):
                        m.d.sync += [reply.eq(REC_IDENT), reply_pending.eq(1)]
                        m.next = "reply"
                    with m.Case(CMD_SYNC):
                        m.d.sync += [reply.eq(REC_SYNC), reply_pending.eq(1), reply_arg.eq(arg(CMD_SYNC)[:8])]
                        m.next = "reply"
                    with m.Case(CMD_CFG):
                        m.d.comb += [self.cfg.valid.eq(1), self.cfg.payload.eq(arg(CMD_CFG)[:cfg_layout(spec).size])]
                        if self.inject_bug == "byte_taken_during_write":
                            m.d.comb += rx.ready.eq(1)
                        with m.If(self.cfg.ready):
                            m.next = "idle"
                    with m.Case(CMD_WEIGHT_ROW):
                        src = arg(CMD_WEIGHT_ROW)[:16]
                        m.d.sync += [w_lane.eq(0), w_local.eq(0), w_row_base.eq(src * depth), count.eq(0)]
                        m.next = "weight"
                    with m.Case(CMD_WATCH):
                        if spec.monitor:
                            slot, neuron, on = arg(CMD_WATCH)[:8], arg(CMD_WATCH)[8:24], arg(CMD_WATCH)[24]
                            with m.Switch(slot):
                                for k in range(WATCH_SLOTS):
                                    with m.Case(k):
                                        m.d.sync += [slot_neuron[k].eq(neuron), slot_on[k].eq(on)]
                        m.next = "idle"
                    with m.Case(CMD_RUN):
                        m.d.comb += [self.run.valid.eq(1), self.run.payload.eq(arg(CMD_RUN)[:16])]
                        with m.If(self.run.ready):
                            # quiet cycles count from the run's own first cycle
                            m.d.sync += was_quiet.eq(0)
                            m.next = "running"
            with m.State("weight"):
                # collect one weight's bytes, then write it; N weights make the row
                with m.If(count == weight_bytes(spec)):
                    m.d.comb += [
                        self.cfg.valid.eq(1),
                        self.cfg.payload.target.eq(CFG_WEIGHT),
                        self.cfg.payload.lane.eq(w_lane),
                        self.cfg.payload.addr.eq(w_row_base + w_local),
                        self.cfg.payload.data.eq(w_data[:spec.widths.w]),
                    ]
                    with m.If(self.cfg.ready):
                        m.d.sync += count.eq(0)
                        last_lane = w_lane == lanes - 1
                        m.d.sync += w_lane.eq(Mux(last_lane, 0, w_lane + 1))
                        with m.If(last_lane):
                            m.d.sync += w_local.eq(w_local + 1)
                            with m.If(w_local == depth - 1):
                                m.next = "idle"
                with m.Else():
                    m.d.comb += rx.ready.eq(1)
                    with m.If(rx.valid):
                        m.d.sync += [w_data.eq(Cat(w_data[8:], rx.payload)), count.eq(count + 1)]
            with m.State("running"):
                # busy rises the cycle after the run is taken; done once it has fallen and every
                # spike and watched state of the run has left for the engine. Two quiet cycles in a
                # row, because an update's FIFO output may appear the cycle busy falls.
                quiet = ~self.busy & ~self.spikes.valid & ~beat_valid
                if spec.monitor:
                    quiet = quiet & ~self.monitor.valid
                m.d.sync += was_quiet.eq(quiet)
                quiet_before = was_quiet
                if self.inject_bug == "done_before_drained":
                    quiet_before = Const(1)
                with m.If(quiet & quiet_before):
                    m.d.sync += [reply.eq(REC_DONE), reply_pending.eq(1)]
                    m.next = "reply"
            with m.State("reply"):
                with m.If(reply_taken):
                    m.d.sync += [reply.eq(0), reply_pending.eq(0)]
                    m.next = "idle"
        # the registers formal/bridge.py states its invariants on (read only by the proof's harness)
        self.internals = {
            "fsm": fsm, "opcode": opcode, "count": count, "need": need, "payload": payload, "w_lane": w_lane,
            "w_local": w_local, "w_row_base": w_row_base, "w_data": w_data, "was_quiet": was_quiet,
            "record": record, "record_left": record_left, "empty": empty, "grant_spike": grant_spike,
            "grant_reply": grant_reply, "grant_state": grant_state, "reply": reply, "reply_pending": reply_pending,
            "reply_arg": reply_arg, "beat_valid": beat_valid,
        }
        if spec.monitor:
            self.internals.update(slot_neuron=slot_neuron, slot_on=slot_on, beat=beat, watched=watched, sent=sent)
        return m


class BridgedArray(wiring.Component):
    """The array behind a UART host bridge: what a board runs, minus its clocking and pins.

    `divisor` is clock cycles per UART bit. `activity` drives LEDs: bit 0 is high while running,
    bit 1 blinks with spikes (each spike holds it high for `blink_cycles`).
    """

    def __init__(self, spec: ArraySpec, *, divisor: int, blink_cycles: int = 1 << 20, tap: bool = False,
                 inject_bug: str | None = None, **memory_options):
        """`tap` (simulation) adds a `probe` Out stream carrying every monitor beat the bridge
        sees, so that a testbench can check the array inside; each beat then moves only when
        both the bridge and the probe take it."""
        from .array import NeuronArray
        from .uart import UARTReceiver, UARTTransmitter

        if tap and not spec.monitor:
            raise ValueError("tap needs the monitor: build the spec with monitor=True")
        self.spec = spec
        self.array = NeuronArray(spec, inject_bug=inject_bug, **memory_options)
        self.bridge = HostBridge(spec)
        self.uart_rx = UARTReceiver(divisor)
        self.uart_tx = UARTTransmitter(divisor)
        self.blink_cycles = blink_cycles
        self.tap = tap
        members = {"rx": In(1, init=1), "tx": Out(1, init=1), "activity": Out(2)}
        if tap:
            members["probe"] = Out(stream.Signature(monitor_layout(spec)))
            members["busy"] = Out(1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = self.array
        m.submodules.bridge = bridge = self.bridge
        m.submodules.uart_rx = uart_rx = self.uart_rx
        m.submodules.uart_tx = uart_tx = self.uart_tx
        m.d.comb += [uart_rx.rx.eq(self.rx), self.tx.eq(uart_tx.tx)]
        wiring.connect(m, uart_rx.bytes, bridge.rx)
        wiring.connect(m, bridge.tx, uart_tx.bytes)
        wiring.connect(m, bridge.run, array.run)
        wiring.connect(m, bridge.cfg, array.cfg)
        wiring.connect(m, bridge.stim, array.stim)
        wiring.connect(m, array.spikes, bridge.spikes)
        if self.tap:
            # fork: a beat leaves when both take it (neither ready looks at its own valid here)
            mon, probe = array.monitor, self.probe
            m.d.comb += [
                bridge.monitor.payload.eq(mon.payload),
                probe.payload.eq(mon.payload),
                bridge.monitor.valid.eq(mon.valid & probe.ready),
                probe.valid.eq(mon.valid & bridge.monitor.ready),
                mon.ready.eq(bridge.monitor.ready & probe.ready),
                self.busy.eq(array.busy),
            ]
        elif self.spec.monitor:
            wiring.connect(m, array.monitor, bridge.monitor)
        m.d.comb += [
            bridge.busy.eq(array.busy),
            bridge.busy_cycles.eq(array.stats.busy_cycles),
            bridge.timestep.eq(array.timestep),
        ]
        # LED 1 stays on for about `blink_cycles` after a spike: a 4-bit count of prescaler ticks
        # (a long down-counter with a zero test would be the slowest path on an iCE40)
        prescale_bits = max(1, (self.blink_cycles // 16).bit_length())
        prescale = Signal(prescale_bits)
        tick = Signal()
        m.d.sync += Cat(prescale, tick).eq(prescale + 1)
        blink = Signal(4)
        with m.If(array.spikes.valid & array.spikes.ready):
            m.d.sync += blink.eq(15)
        with m.Elif(tick & (blink != 0)):
            m.d.sync += blink.eq(blink - 1)
        m.d.comb += self.activity.eq(Cat(array.busy, blink != 0))
        return m
