"""Procedural connectivity in hardware: a source's Bernoulli row regenerated one target per cycle.

The contract is `lapicque.golden.connectivity`: the row's k-th number is lowbias32(key + k), and each
number moves the row's position by 1 + G[number >> (32 - bits)], G the skip table of the projection's p;
the positions below the row's length are its targets. `RowGenerator` computes exactly that, in a
pipeline that takes one number per cycle: the hash in seven stages (each 32-bit multiply by a constant in
two: the 16 x 16 partial products, then their sum), the table read in one and its output registered in
another (a block RAM's output is slow: on the ECP5 it alone takes half of a 90 MHz cycle), the position in
the last. The whole pipeline holds while its output
waits (valid until ready), and a row's end flushes the numbers drawn past it.

Streams: `row` takes a row (its key and its length); `target` gives the row's targets in increasing
order, then one beat with `end` set (its `index` is not a target).
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

HASH_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
#: cycles from a number's draw to its position update: seven hash stages, the table read, its register
LATENCY = 9


class _PartialProducts:
    """(x * c) mod 2**32 in two stages: the 16 x 16 products it needs, registered (low = x_lo c_lo, and
    mid = x_lo c_hi + x_hi c_lo, of which only the low 16 bits count), then low + (mid << 16)."""

    def __init__(self, x: Signal, constant: int, name: str):
        self.x, self.c_lo, self.c_hi = x, Const(constant & 0xFFFF, 16), Const(constant >> 16, 16)
        self.low = Signal(32, name=f"{name}_low")
        self.mid = Signal(16, name=f"{name}_mid")

    def registers(self) -> list:
        x = self.x
        return [self.low.eq(x[:16] * self.c_lo), self.mid.eq((x[:16] * self.c_hi + x[16:] * self.c_lo)[:16])]

    def product(self):
        return (self.low + (self.mid << 16))[:32]


def row_layout(target_bits: int) -> data.StructLayout:
    return data.StructLayout({"key": 32, "length": target_bits + 1})


def target_layout(target_bits: int) -> data.StructLayout:
    return data.StructLayout({"index": target_bits, "end": 1})


class RowGenerator(wiring.Component):
    """One Bernoulli row at a time: `table` is the projection's skip table (2**bits entries), rows of up
    to 2**target_bits targets."""

    def __init__(self, table: list[int], target_bits: int):
        bits = (len(table) - 1).bit_length()
        if len(table) != 1 << bits or len(table) < 2:
            raise ValueError(f"the skip table has {len(table)} entries; it needs a power of two, at least 2")
        if min(table) < 0:
            raise ValueError("skips are not negative")
        self.table = list(table)
        self.bits = bits
        self.target_bits = target_bits
        self.skip_bits = max(1, max(self.table).bit_length())
        super().__init__({
            "row": In(stream.Signature(row_layout(target_bits))),
            "target": Out(stream.Signature(target_layout(target_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.skips = skips = Memory(shape=self.skip_bits, depth=len(self.table), init=self.table)
        read = skips.read_port()

        busy = Signal()  # a row is being drawn
        key = Signal(32)
        length = Signal(self.target_bits + 1)
        k = Signal(32)  # the next number's index
        # position < 2**target_bits and skip + 1 <= 2**skip_bits: their sum fits one bit above the wider
        wide = max(self.target_bits, self.skip_bits) + 1
        position = Signal(wide)  # the last target
        first = Signal()  # no target yet: the first number's skip is the first target
        out_valid = Signal()
        out = Signal(target_layout(self.target_bits))
        advance = ~out_valid | self.target.ready  # the whole pipeline moves unless its output waits

        flush = Signal()  # the numbers drawn past a row's end are being dropped
        m.d.comb += [self.target.valid.eq(out_valid), self.target.payload.eq(out),
                     self.row.ready.eq(~busy & ~flush)]
        with m.If(self.target.valid & self.target.ready):
            m.d.sync += out_valid.eq(0)

        # the hash, one stage per step of lowbias32
        issue = busy & ~flush
        valid = [Signal(name=f"valid{s}") for s in range(LATENCY)]
        s0, s1, s2, s3, s4 = (Signal(32, name=f"hash{s}") for s in range(5))
        times_a = _PartialProducts(s0, HASH_MULTIPLIERS[0], "times_a")
        times_b = _PartialProducts(s2, HASH_MULTIPLIERS[1], "times_b")
        number = Signal(32)  # the row's k-th draw, before the hash (mod 2**32)
        m.d.comb += number.eq(key + k)
        with m.If(advance):
            m.d.sync += [
                s0.eq(number ^ (number >> 16)),
                *times_a.registers(),
                s1.eq(times_a.product()),
                s2.eq(s1 ^ (s1 >> 15)),
                *times_b.registers(),
                s3.eq(times_b.product()),
                s4.eq(s3 ^ (s3 >> 16)),
                valid[0].eq(issue),
                *[valid[s + 1].eq(valid[s] & ~flush) for s in range(LATENCY - 1)],
            ]
            with m.If(issue):
                m.d.sync += k.eq(k + 1)
        # the table read: its address is the number's top bits, its data arrives with the last valid
        m.d.comb += [read.addr.eq(s4[32 - self.bits:]), read.en.eq(advance)]

        skip, skip_plus_one = Signal(self.skip_bits), Signal(self.skip_bits + 1)
        with m.If(advance):
            m.d.sync += [skip.eq(read.data), skip_plus_one.eq(read.data + 1)]
        step = Signal(wide)
        m.d.comb += step.eq(Mux(first, skip, position + skip_plus_one))
        with m.If(advance & valid[LATENCY - 1] & ~flush):
            m.d.sync += out_valid.eq(1)
            with m.If(step < length):
                m.d.sync += [position.eq(step), first.eq(0), out.index.eq(step), out.end.eq(0)]
            with m.Else():
                m.d.sync += [out.end.eq(1), out.index.eq(0), busy.eq(0), flush.eq(1)]

        with m.If(self.row.valid & self.row.ready):
            m.d.sync += [key.eq(self.row.payload.key), length.eq(self.row.payload.length), k.eq(0),
                         position.eq(0), first.eq(1), busy.eq(1), flush.eq(0)]
        with m.Elif(flush & advance):
            m.d.sync += flush.eq(0)  # the stages were cleared on the way
        return m
