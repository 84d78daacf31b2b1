"""Stream width converters: K narrow beats <-> one wide beat.

Used where a consumer or producer is much slower per beat than the array (a host bridge, a Python
testbench): packing K beats into one lets it keep up with one transfer per K updates.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Shape, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

#: deliberately wrong converters, for the proofs' own tests (`lapicque prove --inject-bug`)
BUGS = ("dropped_ready",)


def _checked_bug(bug: str | None) -> str | None:
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown stream bug {bug!r}; one of {', '.join(BUGS)}")
    return bug


def packed_layout(shape, count: int) -> data.StructLayout:
    """The wide beat of a `StreamPacker`: how many items it holds, and the items (item 0 lowest)."""
    return data.StructLayout({"items": unsigned(count.bit_length()), "data": data.ArrayLayout(shape, count)})


class StreamUnpacker(wiring.Component):
    """One wide beat of `count` items in, `count` narrow beats out, item 0 first.

    Throughput: one narrow beat per cycle; a new wide beat is accepted in the cycle the last narrow
    beat of the previous one leaves, so there are no bubbles. `wide.ready` depends only on this
    component's registers and `narrow.ready`.
    """

    def __init__(self, shape, count: int, *, inject_bug: str | None = None):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        self.count = count
        self.item_shape = shape
        self.inject_bug = _checked_bug(inject_bug)
        super().__init__({
            # a flat word, not a layout: simulators then keep one wide signal, not one per item field
            "wide": In(stream.Signature(unsigned(Shape.cast(shape).width * count))),
            "narrow": Out(stream.Signature(shape)),
        })
        # the items still to send (item 0 lowest) and how many: read by the proofs' invariants (formal/streams.py)
        self.held = Signal(Shape.cast(shape).width * count, name="held")
        self.left = Signal(range(count + 1), name="left")

    def elaborate(self, platform):
        m = Module()
        item_bits = Shape.cast(self.item_shape).width
        held, left = self.held, self.left
        m.d.comb += [
            self.narrow.valid.eq(left != 0),
            self.narrow.payload.eq(held[:item_bits]),
            self.wide.ready.eq((left == 0) | ((left == 1) & self.narrow.ready)),
        ]
        # a seeded bug for the proofs: the consumer's ready ignored, items leave whether taken or not
        narrow_taken = self.narrow.valid & (self.narrow.ready | (self.inject_bug == "dropped_ready"))
        with m.If(narrow_taken):
            m.d.sync += left.eq(left - 1)
            m.d.sync += held.eq(held >> item_bits)
        with m.If(self.wide.valid & self.wide.ready):
            m.d.sync += [held.eq(self.wide.payload), left.eq(self.count)]
        return m


class StreamPacker(wiring.Component):
    """`count` narrow beats in, one wide beat out with the number of items it holds.

    Items shift in from the top, so a full beat holds item 0 in slot 0; a beat that leaves early
    (when `flush` is high and at least one item is in, e.g. when the producer has gone idle) holds
    its `items` items, oldest first, in the top slots `count - items .. count - 1`. `narrow.ready`
    is high unless a wide beat waits for `wide.ready`. One shift register, no per-slot multiplexers.
    """

    def __init__(self, shape, count: int, *, inject_bug: str | None = None):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        self.count = count
        self.item_shape = shape
        self.inject_bug = _checked_bug(inject_bug)
        super().__init__({
            "narrow": In(stream.Signature(shape)),
            # a flat word laid out as `packed_layout(shape, count)` (see StreamUnpacker)
            "wide": Out(stream.Signature(unsigned(packed_layout(shape, count).size))),
            "flush": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        item_bits = Shape.cast(self.item_shape).width
        # the outgoing word is itself the register (no wide copy into a port every cycle)
        layout = packed_layout(self.item_shape, self.count)
        word = self.wide.payload
        items = word[: layout["items"].width]
        collected = word[layout["data"].offset:]
        out_valid = Signal()
        m.d.comb += [
            self.wide.valid.eq(out_valid),
            self.narrow.ready.eq(~out_valid),
        ]
        with m.If(out_valid):
            # a seeded bug for the proofs: the consumer's ready ignored, the beat leaves whether taken or not
            with m.If(self.wide.ready | (self.inject_bug == "dropped_ready")):
                m.d.sync += [out_valid.eq(0), items.eq(0)]
        with m.Elif(self.narrow.valid):
            m.d.sync += [collected.eq(Cat(collected[item_bits:], self.narrow.payload)), items.eq(items + 1)]
            with m.If(items == self.count - 1):
                m.d.sync += out_valid.eq(1)
        with m.Elif(self.flush & (items != 0)):
            m.d.sync += out_valid.eq(1)
        return m
