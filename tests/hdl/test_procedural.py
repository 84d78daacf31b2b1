# amaranth: UnusedElaboratable=no
"""The procedural row generator (hdl/procedural.py) against the contract's rows (golden/connectivity.py),
cycle by cycle with random back-pressure."""

import random

import numpy as np
import pytest

from lapicque.golden import connectivity as cn
from lapicque.hdl.procedural import LATENCY, RowGenerator, SerialHash, latency
from tests.hdl import run_clocked

#: keys whose draws carry across bit 16 and bit 32 (key + k wraps), and with the top bit set
EDGE_KEYS = [0xFFFFFFFF, 0x8000FFFF, 0x0000FFFE, 0xFFFF0000]


def rows_through(dut, rows, seed, hold=0.4):
    """Push (key, length) rows into `dut`, sometimes after a long idle gap, and collect each row's targets
    up to its end beat."""
    got = []
    rng = random.Random(seed)

    async def producer(ctx):
        for key, length in rows:
            for _ in range(rng.choice([0, 1, 2, 30])):  # the generator idles with nothing offered
                await ctx.tick()
            ctx.set(dut.row.payload.key, key)
            ctx.set(dut.row.payload.length, length)
            ctx.set(dut.row.valid, 1)
            await ctx.tick().until(dut.row.ready)
            ctx.set(dut.row.valid, 0)

    async def consumer(ctx):
        current = []
        while len(got) < len(rows):
            ready = rng.random() >= hold
            ctx.set(dut.target.ready, ready)
            _, _, valid, index, hit, end = await ctx.tick().sample(
                dut.target.valid, dut.target.payload.index, dut.target.payload.hit, dut.target.payload.end)
            if valid and ready:
                current.extend(index[i] for i in range(dut.width) if hit >> i & 1)
                if end:
                    got.append(current)
                    current = []

    run_clocked(dut, producer, consumer, until=0.05)
    return got


@pytest.mark.parametrize("width", [1, 2, 8])
@pytest.mark.parametrize(("p", "length"), [(0.02, 1000), (0.3, 200), (1.0, 37), (0.001, 5000)])
def test_the_generator_emits_the_contract_rows(p, length, width):
    table = cn.skip_table(p)
    dut = RowGenerator(table.tolist(), target_bits=13, width=width)
    keys = [int(k) for k in cn.row_key(9, 3, np.arange(6))] + EDGE_KEYS
    rows = [(key, length) for key in keys] + [(keys[0], 0), (keys[1], 1)]
    got = rows_through(dut, rows, seed=int(p * 1000) + length + width)
    want = [cn.row_targets(key, n, table) for key, n in rows]
    assert got == want
    assert sum(len(r) for r in want) > 0


@pytest.mark.parametrize("width", [1, 4])
def test_the_widest_rows_and_skips_do_not_wrap(width):
    """A row as long as the target field allows (2**13) and skips of the largest value the table's width
    holds: the position plus a beat's moves needs two bits beyond the widest of the two."""
    table = [0] * 512 + [2**13 - 1] * 512
    dut = RowGenerator(table, target_bits=13, width=width)
    rows = [(int(k), 2**13) for k in cn.row_key(1, 1, np.arange(8))] + [(key, 2**13) for key in EDGE_KEYS]
    want = [cn.row_targets(key, n, np.array(table)) for key, n in rows]
    assert max(t for row in want for t in row) > 2**13 - 200  # targets near the row's end were reached
    assert rows_through(dut, rows, seed=3, hold=0.2) == want


@pytest.mark.parametrize("width", [1, 4])
def test_a_beat_per_cycle_and_a_fixed_cost_per_row(width):
    """Output always ready, rows offered back to back: a row of d draws (its targets and the end) takes
    ceil(d / width) beats, and ceil(d / width) + latency + 1 cycles from its acceptance to its end beat; the
    next row is taken one cycle later (the flush): width targets per cycle, latency + 2 cycles per row."""
    dut = RowGenerator(cn.skip_table(1.0).tolist(), target_bits=8, width=width)  # p = 1: n + 1 draws
    lengths = [3, 0, 10, 1, 7, 8]
    accepted, ended = [], []

    async def producer(ctx):
        for n in lengths:
            ctx.set(dut.row.payload.key, 5)
            ctx.set(dut.row.payload.length, n)
            ctx.set(dut.row.valid, 1)
            await ctx.tick().until(dut.row.ready)
        ctx.set(dut.row.valid, 0)

    async def watcher(ctx):
        ctx.set(dut.target.ready, 1)
        cycle = 0
        while len(ended) < len(lengths):
            _, _, row_valid, row_ready, valid, end = await ctx.tick().sample(
                dut.row.valid, dut.row.ready, dut.target.valid, dut.target.payload.end)
            if row_valid and row_ready:
                accepted.append(cycle)
            if valid and end:
                ended.append(cycle)
            cycle += 1

    run_clocked(dut, producer, watcher, until=1e-3)
    beats = [-(-(n + 1) // width) for n in lengths]
    assert [e - a for a, e in zip(accepted, ended, strict=True)] == [b + latency(width) + 1 for b in beats]
    assert [a - e for e, a in zip(ended, accepted[1:], strict=False)] == [1] * (len(lengths) - 1)


def test_rows_by_definition_are_the_vectorised_rows():
    table = cn.skip_table(0.05)
    src, dst = cn.bernoulli_rows(40, 300, 0.05, seed=5, projection=2)
    keys = cn.row_key(5, 2, np.arange(40))
    for s in range(40):
        assert dst[src == s].tolist() == cn.row_targets(int(keys[s]), 300, table)


def test_a_table_that_is_not_a_power_of_two_is_refused():
    with pytest.raises(ValueError, match="power of two"):
        RowGenerator([1, 2, 3], target_bits=8)
    with pytest.raises(ValueError, match="power of two"):
        RowGenerator([1, 2, 3, 4], target_bits=8, width=3)


def test_the_latency_grows_a_stage_per_doubling_of_the_width():
    assert [latency(w) for w in (1, 2, 4, 8, 16)] == [LATENCY, LATENCY + 1, LATENCY + 2, LATENCY + 3, LATENCY + 4]


def test_the_serial_hash_is_the_contracts_hash_after_its_latency():
    """Numbers whose hash carries across every 16-bit half, started back to back and after idle gaps: each result
    is lowbias32's, `done` exactly `LATENCY` cycles after its start, and a start while busy is ignored."""
    numbers = [0, 1, 0xFFFFFFFF, 0x8000FFFF, 0x9E3779B9, 0x12345678] + [int(x) for x in cn.row_key(3, 1, np.arange(6))]
    dut = SerialHash()
    results, latencies = [], []

    async def bench(ctx):
        rng = random.Random(4)
        for x in numbers:
            for _ in range(rng.choice([0, 0, 3])):
                await ctx.tick()
            ctx.set(dut.x, x)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.x, 0xDEADBEEF)  # a start while busy: ignored
            cycles = 1
            while True:
                _, _, done, result = await ctx.tick().sample(dut.done, dut.result)
                ctx.set(dut.start, 0)  # held for one busy cycle
                if done:
                    break
                cycles += 1
            results.append(result)
            latencies.append(cycles)

    run_clocked(dut, bench)
    assert results == [int(cn.hash32(x)) for x in numbers]
    assert latencies == [SerialHash.LATENCY] * len(numbers)
