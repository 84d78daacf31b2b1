"""Procedural connectivity in hardware: a source's Bernoulli row regenerated `width` targets per cycle.

The contract is `lapicque.golden.connectivity`: the row's k-th number is lowbias32(key + k), and each
number moves the row's position by 1 + G[number >> (32 - bits)], G the skip table of the projection's p;
the positions below the row's length are its targets. `RowGenerator` computes exactly that, `width`
numbers per cycle (k = width b .. width b + width - 1 in beat b), in a pipeline: the hash in seven stages
(each 32-bit multiply by a constant in two: the 16 x 16 partial products, then their sum), the table read
in one and its output registered in another (a block RAM's output is slow: on the ECP5 it alone takes half
of a 90 MHz cycle), the beat's prefix sum of the moves in log2(width) more (a stage per doubling of the
distance), the positions in the last (the beat's last position carried to the next beat: one add in the
loop, whatever the width). The whole pipeline holds while its output waits (valid until ready), and a row's
end flushes the numbers drawn past it.

Streams: `row` takes a row (its key and its length); `target` gives the row's targets in beats of `width`
slots in increasing order (`index[i]` is a target when `hit[i]` is set); the beat with `end` set is the row's
last (its hits are its last targets, none if the row ends at the beat's first number).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

HASH_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
#: cycles from a number's draw to its position, at width 1: seven hash stages, the table read, its register
HASH_AND_TABLE = 9


def latency(width: int = 1) -> int:
    """Cycles from a beat's draw to its positions: the hash and table, and a stage per doubling of the prefix
    sum's distance (log2 of the width)."""
    return HASH_AND_TABLE + (width - 1).bit_length()


#: the width-1 generator's
LATENCY = latency(1)


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


def target_layout(target_bits: int, width: int = 1) -> data.StructLayout:
    return data.StructLayout({"index": data.ArrayLayout(target_bits, width), "hit": width, "end": 1})


class RowGenerator(wiring.Component):
    """One Bernoulli row at a time, `width` numbers per cycle (a power of two): `table` is the projection's
    skip table (2**bits entries), rows of up to 2**target_bits targets."""

    def __init__(self, table: list[int], target_bits: int, width: int = 1):
        bits = (len(table) - 1).bit_length()
        if len(table) != 1 << bits or len(table) < 2:
            raise ValueError(f"the skip table has {len(table)} entries; it needs a power of two, at least 2")
        if min(table) < 0:
            raise ValueError("skips are not negative")
        if width < 1 or width & (width - 1):
            raise ValueError(f"width = {width}: a power of two, at least 1")
        self.table = list(table)
        self.bits = bits
        self.target_bits = target_bits
        self.width = width
        self.skip_bits = max(1, max(self.table).bit_length())
        self.latency = latency(width)
        super().__init__({
            "row": In(stream.Signature(row_layout(target_bits))),
            "target": Out(stream.Signature(target_layout(target_bits, width))),
        })

    def elaborate(self, platform):
        m = Module()
        width, levels = self.width, (self.width - 1).bit_length()
        m.submodules.skips = skips = Memory(shape=self.skip_bits, depth=len(self.table), init=self.table)
        reads = [skips.read_port() for _ in range(width)]

        busy = Signal()  # a row is being drawn
        key = Signal(32)
        length = Signal(self.target_bits + 1)
        k = Signal(32)  # the beat's first number's index
        # a beat's moves sum to at most width (2**skip_bits); the last position (< 2**target_bits, or -1) plus
        # that fits two bits above the wider of the two
        moved_bits = self.skip_bits + levels + 1
        wide = max(self.target_bits, moved_bits) + 2
        last = Signal(signed(wide))  # the row's last position so far (-1 before its first number)
        out_valid = Signal()
        out = Signal(target_layout(self.target_bits, width))
        advance = ~out_valid | self.target.ready  # the whole pipeline moves unless its output waits

        flush = Signal()  # the numbers drawn past a row's end are being dropped
        m.d.comb += [self.target.valid.eq(out_valid), self.target.payload.eq(out),
                     self.row.ready.eq(~busy & ~flush)]
        with m.If(self.target.valid & self.target.ready):
            m.d.sync += out_valid.eq(0)

        issue = busy & ~flush
        stages = self.latency
        valid = [Signal(name=f"valid{s}") for s in range(stages)]
        with m.If(advance):
            m.d.sync += [valid[0].eq(issue), *[valid[s + 1].eq(valid[s] & ~flush) for s in range(stages - 1)]]
            with m.If(issue):
                m.d.sync += k.eq(k + width)
        # per slot: the hash, one stage per step of lowbias32, then the table read and its register
        moves = []
        for i in range(width):
            s0, s1, s2, s3, s4 = (Signal(32, name=f"hash{i}_{s}") for s in range(5))
            times_a = _PartialProducts(s0, HASH_MULTIPLIERS[0], f"times_a{i}")
            times_b = _PartialProducts(s2, HASH_MULTIPLIERS[1], f"times_b{i}")
            number = Signal(32, name=f"number{i}")  # the row's (k + i)-th draw, before the hash (mod 2**32)
            m.d.comb += number.eq(key + k + i)
            move = Signal(moved_bits, name=f"move{i}_0")  # 1 + the skip
            with m.If(advance):
                m.d.sync += [
                    s0.eq(number ^ (number >> 16)),
                    *times_a.registers(),
                    s1.eq(times_a.product()),
                    s2.eq(s1 ^ (s1 >> 15)),
                    *times_b.registers(),
                    s3.eq(times_b.product()),
                    s4.eq(s3 ^ (s3 >> 16)),
                    move.eq(reads[i].data + 1),
                ]
            # the table read: its address is the number's top bits, its data arrives a stage later
            m.d.comb += [reads[i].addr.eq(s4[32 - self.bits:]), reads[i].en.eq(advance)]
            moves.append(move)
        # the prefix sum: after level l, slot i holds the moves of slots i - 2**(l+1) + 1 .. i
        for level in range(levels):
            distance = 1 << level
            summed = [Signal(moved_bits, name=f"move{i}_{level + 1}") for i in range(width)]
            with m.If(advance):
                m.d.sync += [summed[i].eq(moves[i] + moves[i - distance] if i >= distance else moves[i])
                             for i in range(width)]
            moves = summed
        positions = [Signal(signed(wide), name=f"position{i}") for i in range(width)]
        m.d.comb += [positions[i].eq(last + moves[i]) for i in range(width)]
        with m.If(advance & valid[stages - 1] & ~flush):
            m.d.sync += [out_valid.eq(1), last.eq(positions[-1]),
                         *(out.index[i].eq(positions[i]) for i in range(width)),
                         *(out.hit[i].eq(positions[i] < length) for i in range(width)),
                         out.end.eq(positions[-1] >= length)]
            with m.If(positions[-1] >= length):
                m.d.sync += [busy.eq(0), flush.eq(1)]

        with m.If(self.row.valid & self.row.ready):
            m.d.sync += [key.eq(self.row.payload.key), length.eq(self.row.payload.length), k.eq(0),
                         last.eq(-1), busy.eq(1), flush.eq(0)]
        with m.Elif(flush & advance):
            m.d.sync += flush.eq(0)  # the stages were cleared on the way
        return m


class SerialHash(wiring.Component):
    """lowbias32 of one number in `LATENCY` cycles without a multiplier: each multiply by its constant as shifted
    adds of `BITS_PER_CYCLE` of the constant's bits a cycle (the small device's row keys: one hash per row, where
    the row's targets take two cycles each, so a few dozen logic cells instead of six DSP blocks or a key memory).

    `start` (one cycle, with `x`) begins a hash, ignored while `busy`; `done` is high for one cycle with `result`
    holding the hash from then until the next start: `LATENCY` cycles after the start's."""

    BITS_PER_CYCLE = 4
    #: a busy cycle per group of constant bits of each multiply, then the result registered
    LATENCY = 2 * 32 // BITS_PER_CYCLE + 1

    def __init__(self):
        super().__init__({"start": In(1), "x": In(32), "busy": Out(1), "done": Out(1), "result": Out(32)})

    def elaborate(self, platform):
        m = Module()
        per = self.BITS_PER_CYCLE
        groups = 32 // per
        chunks = [[(constant >> (per * g)) & ((1 << per) - 1) for g in range(groups)] for constant in HASH_MULTIPLIERS]
        second = Signal()  # the second multiply
        group = Signal(range(groups))
        shifted = Signal(32)  # the multiplicand shifted to the group's first bit (mod 2**32)
        total = Signal(32)  # the product's sum so far
        chunk = Signal(per)
        with m.Switch(Cat(group, second)):
            for which, constant_chunks in enumerate(chunks):
                for g, value in enumerate(constant_chunks):
                    with m.Case(g | (which << len(group))):
                        m.d.comb += chunk.eq(value)
        added = total
        for b in range(per):
            added = added + Mux(chunk[b], shifted << b, 0)
        product = Signal(32)
        m.d.comb += product.eq(added[:32])
        m.d.sync += self.done.eq(0)
        with m.If(self.busy):
            m.d.sync += [group.eq(group + 1), total.eq(product), shifted.eq((shifted << per)[:32])]
            with m.If(group == groups - 1):
                with m.If(~second):  # x ^= x >> 15, then the second multiply
                    mixed = product ^ (product >> 15)
                    m.d.sync += [second.eq(1), total.eq(0), shifted.eq(mixed)]
                with m.Else():
                    m.d.sync += [self.busy.eq(0), self.done.eq(1), self.result.eq(product ^ (product >> 16))]
        with m.Elif(self.start):
            m.d.sync += [self.busy.eq(1), second.eq(0), group.eq(0), total.eq(0),
                         shifted.eq(self.x ^ (self.x >> 16))]
        return m
