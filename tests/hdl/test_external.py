"""The external input's draws in hardware (hdl/external.py) against the contract (golden/external.py): every
neuron of populations with and without input, at steps whose counter wraps past 2**32, one draw per cycle."""

import dataclasses
import random

import numpy as np
import pytest

from lapicque.golden.external import External, external_counts
from lapicque.hdl.external import LATENCY, PoissonInput
from tests.hdl import run_clocked

from ..golden.test_connectivity import lowbias32
from .test_network import small_example


def with_externals(lanes: int, exc: External | None, inh: External | None):
    net = small_example(lanes)
    pops = {name: dataclasses.replace(pop, external=e) for (name, pop), e in zip(net.populations.items(), (exc, inh),
                                                                                strict=True)}
    return dataclasses.replace(net, populations=pops)


@pytest.mark.parametrize(("lanes", "exc", "inh"), [
    (2, External(2.0, 5, 3), None),
    (1, External(0.4, -9, 0), External(6.5, -3, 2**32 - 1)),
    (4, None, External(9.0, 4, 77)),
])
def test_every_draw_is_the_contract(lanes, exc, inh):
    net = with_externals(lanes, exc, inh)
    n = net.neurons
    rng = random.Random(lanes)
    steps = [0, 1, 2**32 // n, 2**32 // n + 1, 123_456]  # the counter t N + n wraps past 2**32 at the third
    issued = [(t, local, lane) for t in steps for lane in range(lanes) for local in rng.sample(range(net.depth),
                                                                                                net.depth)]
    duts = [PoissonInput(net, lane, max(1, (net.depth - 1).bit_length())) for lane in range(lanes)]
    want = np.zeros(n, np.int64)
    expected = []
    for t, local, lane in issued:
        for offset, pop in zip(net.offsets.values(), net.populations.values(), strict=True):
            e = pop.external
            want[offset:offset + pop.size] = 0 if e is None else external_counts(e, t, n, offset, pop.size) * e.weight
        expected.append(int(want[local * lanes + lane]))
    got = []
    for lane, dut in enumerate(duts):
        mine = [(t, local) for t, local, k in issued if k == lane]
        out = []

        async def bench(ctx, dut=dut, mine=mine, out=out):
            for t, local in mine + [(0, 0)] * LATENCY:
                ctx.set(dut.index, local)
                ctx.set(dut.step_term, (t * n) % 2**32)
                await ctx.tick()
                out.append(ctx.get(dut.ext))

        run_clocked(dut, bench)
        got.append(out[LATENCY - 1:LATENCY - 1 + len(mine)])
    by_lane = {lane: iter(values) for lane, values in enumerate(got)}
    assert [next(by_lane[lane]) for _, _, lane in issued] == expected
    assert any(expected) and len(set(expected)) > 3  # the draws are not all the same


def inverse_lowbias32(h: int) -> int:
    """The x with lowbias32(x) = h (each of its steps is a bijection of 32-bit values)."""
    h ^= h >> 16
    h = (h * pow(0x846CA68B, -1, 2**32)) & 0xFFFFFFFF
    h ^= (h >> 15) ^ (h >> 30)
    h = (h * pow(0x7FEB352D, -1, 2**32)) & 0xFFFFFFFF
    return h ^ (h >> 16)


def test_a_draw_exactly_on_a_table_entry_counts_it():
    """u = C[k] counts entry k, u = C[k] - 1 does not: counters chosen (through the hash's inverse) to land on
    every entry and just below it."""
    exc = External(2.0, 5, 3)
    net = with_externals(2, exc, None)
    table = exc.table().tolist()
    neuron_local, lane = 3, 1
    n = neuron_local * 2 + lane
    cases = []
    for c in table:
        for u in (c, c - 1):
            x = inverse_lowbias32(u << 8)
            assert lowbias32(x) >> 8 == u
            cases.append(((x - exc.base - n) % 2**32, sum(u >= entry for entry in table) * exc.weight))
    dut = PoissonInput(net, lane, max(1, (net.depth - 1).bit_length()))
    out = []

    async def bench(ctx):
        for term, _ in cases + [(0, 0)] * LATENCY:
            ctx.set(dut.index, neuron_local)
            ctx.set(dut.step_term, term)
            await ctx.tick()
            out.append(ctx.get(dut.ext))

    run_clocked(dut, bench)
    assert out[LATENCY - 1:LATENCY - 1 + len(cases)] == [want for _, want in cases]
