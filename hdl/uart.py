"""UART transmitter and receiver (8 data bits, no parity, 1 stop bit), with stream interfaces.

The building blocks of the board host bridge. `divisor` is the clock cycles per bit
(clock frequency / baud rate, rounded); it must be at least 4 so that the receiver can sample the
middle of a bit.

Transmitter: one byte per 10 bit times; `bytes.ready` is high when idle. Receiver: samples the line
through a two-flop synchroniser, finds the start bit's middle, then samples every `divisor` cycles;
a byte whose stop bit is low is dropped and counted in `framing_errors`. The receiver has no
back-pressure on the line: a byte not taken before the next one completes is counted in `overruns`
and replaced.

(No `from __future__ import annotations` here: wiring reads the port annotations at run time.)
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


class _UART(wiring.Component):
    """What both directions share: the bit period, checked."""

    def __init__(self, divisor: int):
        if not isinstance(divisor, int) or divisor < 4:
            raise ValueError(f"divisor must be a whole number of clock cycles per bit, at least 4, not {divisor!r}")
        self.divisor = divisor
        super().__init__()


class UARTTransmitter(_UART):
    """`bytes` In stream -> `tx` line (idle high)."""

    bytes: In(stream.Signature(8))
    tx: Out(1, init=1)

    def elaborate(self, platform):
        m = Module()
        shift = Signal(10)  # stop bit, 8 data bits (LSB first), start bit
        bits_left = Signal(range(11))
        timer = Signal(range(self.divisor))
        m.d.comb += self.bytes.ready.eq(bits_left == 0)
        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += [
                shift.eq(Cat(0, self.bytes.payload, 1)),
                bits_left.eq(10),
                timer.eq(0),
            ]
        with m.Elif(bits_left != 0):
            with m.If(timer == 0):
                m.d.sync += [self.tx.eq(shift[0]), shift.eq(shift >> 1), timer.eq(self.divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 1):
                    m.d.sync += bits_left.eq(bits_left - 1)
        return m


class UARTReceiver(_UART):
    """`rx` line -> `bytes` Out stream; `framing_errors` and `overruns` count dropped bytes."""

    rx: In(1, init=1)
    bytes: Out(stream.Signature(8))
    framing_errors: Out(16)
    overruns: Out(16)

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(self.divisor + self.divisor // 2 + 1))
        data = Signal(8)
        bit = Signal(range(9))
        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += self.bytes.valid.eq(0)
        with m.FSM():
            with m.State("idle"):
                with m.If(~rx):
                    # the middle of the first data bit is one and a half bits after the start edge
                    m.d.sync += [timer.eq(self.divisor + self.divisor // 2 - 1), bit.eq(0)]
                    m.next = "data"
            with m.State("data"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [data.eq(Cat(data[1:], rx)), bit.eq(bit + 1), timer.eq(self.divisor - 1)]
                    with m.If(bit == 7):
                        m.next = "stop"
            with m.State("stop"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(rx):
                        m.d.sync += [self.bytes.payload.eq(data), self.bytes.valid.eq(1)]
                        with m.If(self.bytes.valid & ~self.bytes.ready):
                            m.d.sync += self.overruns.eq(self.overruns + 1)
                        m.next = "idle"
                    with m.Else():
                        m.d.sync += self.framing_errors.eq(self.framing_errors + 1)
                        m.next = "break"
            with m.State("break"):  # wait for the line to return high before looking for a start bit
                with m.If(rx):
                    m.next = "idle"
        return m
