"""The simulation harness's beat collector (hdl/harness.py): beats that cannot wait, a beat in every cycle or with
gaps, come out many to a transfer, every one once and in order, a flushed transfer with what was collected; a
transfer not taken raises `lost`."""

import random

import numpy as np
import pytest
from amaranth.hdl import unsigned

from lapicque.hdl.harness import BeatCollector
from lapicque.sim.network import unpack
from tests.hdl import run_clocked

BITS = 12


def collect(count: int, beats: list[int], gaps: list[int], ready=lambda cycle: True):
    """Offer `beats` (a gap of `gaps[k]` idle cycles before beat k), then flush; the transfers taken (as bit
    rows) and the lost flag."""
    dut = BeatCollector(unsigned(BITS), count)
    width = len(dut.wide.payload)
    transfers, flags = [], {}

    async def bench(ctx):
        cycle = 0

        async def tick():
            nonlocal cycle
            ctx.set(dut.wide.ready, ready(cycle))
            await ctx.tick()
            cycle += 1
            if ctx.get(dut.wide.valid) and ready(cycle):
                word = ctx.get(dut.wide.payload)
                transfers.append([(word >> b) & 1 for b in range(width)])

        for beat, gap in zip(beats, gaps, strict=True):
            ctx.set(dut.valid, 0)
            for _ in range(gap):
                await tick()
            ctx.set(dut.valid, 1)
            ctx.set(dut.payload, beat)
            await tick()
        ctx.set(dut.valid, 0)
        ctx.set(dut.flush, 1)
        for _ in range(4):
            await tick()
        flags["lost"] = ctx.get(dut.lost)

    run_clocked(dut, bench)
    rows = np.array(transfers, dtype=np.uint8).reshape(-1, width)
    items = unpack(rows, BITS, count)
    return (items.astype(np.int64) @ (np.int64(1) << np.arange(BITS))).tolist(), flags["lost"]


@pytest.mark.parametrize("count", [2, 3, 8])
def test_every_beat_once_in_order_back_to_back_and_with_gaps(count):
    rng = random.Random(count)
    beats = [rng.randrange(1 << BITS) for _ in range(5 * count + 3)]  # a partial transfer at the end
    for gaps in ([0] * len(beats), [rng.choice([0, 0, 1, 5]) for _ in beats]):
        got, lost = collect(count, beats, gaps)
        assert got == beats and not lost


def test_a_transfer_not_taken_is_lost_and_says_so():
    beats = list(range(1, 17))
    got, lost = collect(4, beats, [0] * len(beats), ready=lambda cycle: cycle != 4)  # the first transfer's cycle
    assert lost and got != beats and len(got) == len(beats) - 4
