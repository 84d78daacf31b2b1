"""Stream width converters, simulated cycle by cycle with random back-pressure."""

import random

import pytest

from lapicque.hdl.streams import StreamPacker, StreamUnpacker
from tests.hdl import run_clocked


@pytest.mark.parametrize("count", [1, 3, 4])
def test_unpacker_emits_items_in_order_under_backpressure(count):
    dut = StreamUnpacker(8, count)
    words = [[random.Random(k * 7 + j).randrange(256) for j in range(count)] for k in range(6)]
    got = []
    rng = random.Random(count)

    async def producer(ctx):
        for items in words:
            ctx.set(dut.wide.payload, sum(x << (8 * j) for j, x in enumerate(items)))  # item 0 lowest
            ctx.set(dut.wide.valid, 1)
            await ctx.tick().until(dut.wide.ready)
            ctx.set(dut.wide.valid, 0)
            for _ in range(rng.randrange(3)):
                await ctx.tick()

    async def consumer(ctx):
        while len(got) < count * len(words):
            ready = rng.random() < 0.6
            ctx.set(dut.narrow.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.narrow.valid, dut.narrow.payload)
            if valid and ready:
                got.append(payload)

    run_clocked(dut, producer, consumer, until=1e-3)
    assert got == [x for items in words for x in items]


def test_packer_fills_then_flushes_into_the_top_slots():
    dut = StreamPacker(8, 4)
    out = []

    def decode(word):
        return word & 0b111, [(word >> (3 + 8 * k)) & 0xFF for k in range(4)]

    async def push(ctx, value):
        ctx.set(dut.narrow.payload, value)
        ctx.set(dut.narrow.valid, 1)
        await ctx.tick().until(dut.narrow.ready)
        ctx.set(dut.narrow.valid, 0)

    async def testbench(ctx):
        for value in [1, 2, 3, 4]:
            await push(ctx, value)
        await ctx.tick()
        # full: the wide beat waits, and the packer refuses more items
        assert ctx.get(dut.wide.valid) and not ctx.get(dut.narrow.ready)
        out.append(ctx.get(dut.wide.payload))
        ctx.set(dut.wide.ready, 1)
        await ctx.tick()
        ctx.set(dut.wide.ready, 0)
        assert not ctx.get(dut.wide.valid)
        for value in [5, 6]:
            await push(ctx, value)
        await ctx.tick()
        assert not ctx.get(dut.wide.valid)  # two items and no flush: nothing leaves
        ctx.set(dut.flush, 1)
        await ctx.tick()
        assert ctx.get(dut.wide.valid)
        out.append(ctx.get(dut.wide.payload))

    run_clocked(dut, testbench)
    assert decode(out[0]) == (4, [1, 2, 3, 4])
    # a partial beat holds its two items, oldest first, in the top two slots
    items, data = decode(out[1])
    assert items == 2 and data[2:] == [5, 6]
