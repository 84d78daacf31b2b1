"""Properties of the UART: a transmitter looped back into a receiver carries every byte once, in order.

`UARTTransmitter` drives its line into `UARTReceiver` (the bridge's two ends, as the board's host
link sees them), at the smallest divisor (4 clock cycles a bit, the receiver's minimum). A free
producer offers bytes under the stream protocol's assumption (a byte offered is held, unchanged,
until taken); the bytes are numbered, byte n being `(key + n) mod 256` with `key` free, so that a
loss, duplicate, reordering or a wrong bit shows as a wrong value. The consumer's ready is free.
Asserted, every cycle:

- a byte the receiver offers stays offered until taken (valid until ready), unchanged unless a new
  byte arrived meanwhile and was counted as an overrun;
- every byte the receiver completes is the next one the transmitter took (none lost, duplicated,
  reordered or altered): byte k out is `key + k`;
- the line never shows a framing error, and an overrun happens only when the consumer left the
  previous byte waiting for a whole frame;
- no deadlock: a byte taken by the transmitter is complete at the receiver within one frame and a
  few cycles (`LINK_LATENCY`), at most two bytes are between the ends, and an idle link takes a
  byte at once.

By BMC (`UART_DEPTH` cycles: a whole frame at 4 cycles a bit and the next one's start), with covers
showing a byte through, consumer back-pressure on it, and a second byte taken behind it reachable. An
overrun needs two whole frames, past the depth: tests/hdl/test_uart.py simulates it.
"""

from __future__ import annotations

from amaranth.hdl import Assert, Assume, Cover, Module, Mux, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lapicque.hdl.uart import UARTReceiver, UARTTransmitter

#: clock cycles a bit: the receiver's minimum, so that a bounded run holds the most frames
UART_DIVISOR = 4
#: one frame: 10 bits; the receiver completes a byte at the stop bit's middle, 2 synchroniser cycles late
FRAME_CYCLES = 10 * UART_DIVISOR
#: cycles from a byte taken by the transmitter to its completion at the receiver: the line starts 2 cycles
#: after the take, the synchroniser adds 2, the stop bit's middle is 9.5 bits after its start
LINK_LATENCY = FRAME_CYCLES + 2
#: BMC depth: a frame, the synchroniser's cycles, and the next frame's start (each cycle deeper costs
#: seconds: two whole frames, about 90 cycles, take minutes)
UART_DEPTH = FRAME_CYCLES + 12


class UARTLinkProperties(wiring.Component):
    """A transmitter looped into a receiver, a free producer and consumer; see the module docstring."""

    def __init__(self, divisor: int = UART_DIVISOR, *, receiver_divisor: int | None = None, checks: bool = True):
        # `receiver_divisor`: a receiver set to another baud rate than the transmitter (the tests' known-bad link)
        self.divisor, self.receiver_divisor, self.checks = divisor, receiver_divisor or divisor, checks
        super().__init__({
            "key": In(8),
            "valid": In(1),
            "ready": In(1),
            # what the consumer sees, and the byte it should see (for a counterexample's table)
            "out_valid": Out(1),
            "out_payload": Out(8),
            "expected_byte": Out(8),
        })

    def explain(self, trace: list[dict[str, int]]) -> dict:
        """A replayed counterexample's table (formal.prove.replay): the last steps' inputs, and each byte out
        against the byte expected."""
        steps = range(max(0, len(trace) - 4), len(trace))
        inputs = [{"signal": f"step {t}: {name}", "value": trace[t][name]} for t in steps
                  for name in ("key", "valid", "ready")]
        outputs = [{"signal": f"step {t}: bytes.payload", "expected": trace[t]["expected_byte"],
                    "got": trace[t]["out_payload"]} for t in range(len(trace)) if trace[t]["out_valid"]][-4:]
        return {"step": len(trace) - 1, "inputs": inputs, "outputs": outputs,
                "differs": [o["signal"] for o in outputs if o["expected"] != o["got"]]}

    def elaborate(self, platform):
        m = Module()
        m.submodules.tx = tx = UARTTransmitter(self.divisor)
        m.submodules.rx = rx = UARTReceiver(self.receiver_divisor)
        sent = Signal(8, name="bytes_sent")  # bytes the transmitter has taken, modulo 256
        done = Signal(8, name="bytes_received")  # bytes the receiver has completed, modulo 256
        m.d.comb += [
            rx.rx.eq(tx.tx),
            tx.bytes.valid.eq(self.valid),
            tx.bytes.payload.eq(self.key + sent),
            rx.bytes.ready.eq(self.ready),
            self.out_valid.eq(rx.bytes.valid),
            self.out_payload.eq(rx.bytes.payload),
            self.expected_byte.eq(self.key + done - 1),
        ]
        taken_in = tx.bytes.valid & tx.bytes.ready
        # a byte completes where the receiver raises valid, or replaces a waiting byte (an overrun)
        overruns_before = Signal.like(rx.overruns, name="overruns_before")
        valid_before = Signal(name="valid_before")
        taken_before = Signal(name="taken_before")
        payload_before = Signal(8, name="payload_before")
        m.d.sync += [overruns_before.eq(rx.overruns), valid_before.eq(rx.bytes.valid),
                     taken_before.eq(rx.bytes.valid & rx.bytes.ready), payload_before.eq(rx.bytes.payload)]
        completed = Signal(name="byte_completed")
        overrun = Signal(name="overrun_now")
        m.d.comb += [overrun.eq(rx.overruns != overruns_before),
                     completed.eq((rx.bytes.valid & (~valid_before | taken_before)) | overrun)]
        with m.If(taken_in):
            m.d.sync += sent.eq(sent + 1)
        with m.If(completed):
            m.d.sync += done.eq(done + 1)
        if not self.checks:
            return m
        m.d.comb += Assume(~ResetSignal("sync"))
        # the key is free in the first cycle and fixed afterwards; an offered byte stays offered
        first = Signal(init=1, name="first_cycle")
        key_held = Signal(8, name="key_held")
        waiting_in = Signal(name="producer_waiting")
        m.d.sync += [first.eq(0), key_held.eq(self.key), waiting_in.eq(tx.bytes.valid & ~tx.bytes.ready)]
        with m.If(~first):
            m.d.comb += Assume(self.key == key_held)
        with m.If(waiting_in):
            m.d.comb += Assume(tx.bytes.valid)

        # in order and unchanged: the k-th byte completed is key + k
        with m.If(completed):
            m.d.comb += Assert(rx.bytes.payload == (self.key + done)[:8])
        # valid until ready, the payload unchanged unless an overrun replaced it
        with m.If(valid_before & ~taken_before):
            m.d.comb += Assert(rx.bytes.valid)
            with m.If(~overrun):
                m.d.comb += Assert(rx.bytes.payload == payload_before)
        # an overrun only replaces a byte that was left waiting
        with m.If(overrun):
            m.d.comb += Assert(valid_before & ~taken_before)
        m.d.comb += Assert(rx.framing_errors == 0)
        # no deadlock: at most two bytes between the ends (the transmitter takes the next byte as its stop
        # bit ends, a few cycles before the receiver completes the last), each complete within
        # `LINK_LATENCY` cycles of being taken; an idle link takes a byte at once
        in_flight = Signal(8, name="bytes_in_flight")
        m.d.comb += in_flight.eq(sent - done)
        oldest, second = (Signal(range(2 * FRAME_CYCLES), name=f"age_of_{which}") for which in ("oldest", "second"))
        for age, busy in ((oldest, in_flight >= 1), (second, in_flight >= 2)):
            with m.If(busy & (age != 2 * FRAME_CYCLES - 1)):
                m.d.sync += age.eq(age + 1)
            with m.Elif(~busy):
                m.d.sync += age.eq(0)
        with m.If(completed):  # the second byte becomes the oldest
            m.d.sync += [oldest.eq(Mux(in_flight >= 2, second + 1, 0)), second.eq(0)]
        m.d.comb += [Assert(in_flight <= 2), Assert(oldest <= LINK_LATENCY)]
        with m.If(in_flight == 0):
            m.d.comb += Assert(tx.bytes.ready)
        # not vacuous
        m.d.comb += [Cover(completed), Cover(rx.bytes.valid & ~rx.bytes.ready), Cover((done == 1) & (sent == 2))]
        return m
