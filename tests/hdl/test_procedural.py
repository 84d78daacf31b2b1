"""The procedural row generator (hdl/procedural.py) against the contract's rows (golden/connectivity.py),
cycle by cycle with random back-pressure."""

import random

import numpy as np
import pytest

from lapicque.golden import connectivity as cn
from lapicque.hdl.procedural import RowGenerator
from tests.hdl import run_clocked


def rows_through(dut, rows, seed, hold=0.4):
    """Push (key, length) rows into `dut` and collect each row's targets up to its end beat."""
    got = []
    rng = random.Random(seed)

    async def producer(ctx):
        for key, length in rows:
            ctx.set(dut.row.payload.key, key)
            ctx.set(dut.row.payload.length, length)
            ctx.set(dut.row.valid, 1)
            await ctx.tick().until(dut.row.ready)
            ctx.set(dut.row.valid, 0)
            for _ in range(rng.randrange(3)):
                await ctx.tick()

    async def consumer(ctx):
        current = []
        while len(got) < len(rows):
            ready = rng.random() >= hold
            ctx.set(dut.target.ready, ready)
            _, _, valid, index, end = await ctx.tick().sample(dut.target.valid, dut.target.payload.index,
                                                              dut.target.payload.end)
            if valid and ready:
                if end:
                    got.append(current)
                    current = []
                else:
                    current.append(index)

    run_clocked(dut, producer, consumer, until=0.05)
    return got


@pytest.mark.parametrize(("p", "length"), [(0.02, 1000), (0.3, 200), (1.0, 37), (0.001, 5000)])
def test_the_generator_emits_the_contract_rows(p, length):
    table = cn.skip_table(p)
    dut = RowGenerator(table.tolist(), target_bits=13)
    keys = [int(k) for k in cn.row_key(9, 3, np.arange(6))]
    rows = [(key, length) for key in keys] + [(keys[0], 0), (keys[1], 1)]
    got = rows_through(dut, rows, seed=int(p * 1000) + length)
    want = [cn.row_targets(key, n, table) for key, n in rows]
    assert got == want
    assert sum(len(r) for r in want) > 0


def test_rows_by_definition_are_the_vectorised_rows():
    table = cn.skip_table(0.05)
    src, dst = cn.bernoulli_rows(40, 300, 0.05, seed=5, projection=2)
    keys = cn.row_key(5, 2, np.arange(40))
    for s in range(40):
        assert dst[src == s].tolist() == cn.row_targets(int(keys[s]), 300, table)


def test_a_table_that_is_not_a_power_of_two_is_refused():
    with pytest.raises(ValueError, match="power of two"):
        RowGenerator([1, 2, 3], target_bits=8)
