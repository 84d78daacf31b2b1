# amaranth: UnusedElaboratable=no
"""UART against a bit-level model of the line: timing, loopback under back-pressure, errors."""

import random

import pytest
from amaranth.hdl import Module

from lapicque.hdl.uart import UARTReceiver, UARTTransmitter
from tests.hdl import run_clocked

DIVISOR = 8


def frame_bits(byte: int) -> list[int]:
    """8N1: start bit 0, data LSB first, stop bit 1."""
    return [0] + [(byte >> k) & 1 for k in range(8)] + [1]


def test_transmitter_drives_each_bit_for_divisor_cycles():
    dut = UARTTransmitter(DIVISOR)
    line = []

    async def testbench(ctx):
        await ctx.tick().repeat(3)
        ctx.set(dut.bytes.payload, 0x1D)
        ctx.set(dut.bytes.valid, 1)
        await ctx.tick().until(dut.bytes.ready)
        ctx.set(dut.bytes.valid, 0)
        for _ in range(12 * DIVISOR):
            await ctx.tick()
            line.append(ctx.get(dut.tx))

    run_clocked(dut, testbench)
    start = line.index(0)
    # the middle of each bit period carries the frame, and the line idles high afterwards
    sampled = [line[start + k * DIVISOR + DIVISOR // 2] for k in range(10)]
    assert sampled == frame_bits(0x1D)
    assert all(line[start + k] == bit for k, bit in enumerate(b for b in frame_bits(0x1D) for _ in range(DIVISOR)))
    assert line[start + 10 * DIVISOR:] == [1] * (len(line) - start - 10 * DIVISOR)


def test_loopback_carries_random_bytes():
    m = Module()
    m.submodules.tx = tx = UARTTransmitter(DIVISOR)
    m.submodules.rx = rx = UARTReceiver(DIVISOR)
    m.d.comb += rx.rx.eq(tx.tx)
    rng = random.Random(5)
    sent = [rng.randrange(256) for _ in range(20)]
    got = []

    async def producer(ctx):
        for byte in sent:
            ctx.set(tx.bytes.payload, byte)
            ctx.set(tx.bytes.valid, 1)
            await ctx.tick().until(tx.bytes.ready)
            ctx.set(tx.bytes.valid, 0)
            for _ in range(rng.randrange(3 * DIVISOR)):  # idle gaps between frames
                await ctx.tick()

    async def consumer(ctx):
        ctx.set(rx.bytes.ready, 1)
        while len(got) < len(sent):
            _, _, valid, payload = await ctx.tick().sample(rx.bytes.valid, rx.bytes.payload)
            if valid:
                got.append(payload)
        assert ctx.get(rx.framing_errors) == 0 and ctx.get(rx.overruns) == 0

    run_clocked(m, producer, consumer, until=20 * 14 * DIVISOR * 1e-6)
    assert got == sent


def drive_line(dut, bits_per_frame, collect):
    async def testbench(ctx):
        ctx.set(dut.bytes.ready, 1)
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(5)
        for bits in bits_per_frame:
            for bit in bits:
                ctx.set(dut.rx, bit)
                for _ in range(DIVISOR):
                    _, _, valid, payload = await ctx.tick().sample(dut.bytes.valid, dut.bytes.payload)
                    if valid:
                        collect.append(payload)
            ctx.set(dut.rx, 1)
            for _ in range(3 * DIVISOR):
                _, _, valid, payload = await ctx.tick().sample(dut.bytes.valid, dut.bytes.payload)
                if valid:
                    collect.append(payload)
        collect.append(("errors", ctx.get(dut.framing_errors)))
    return testbench


def test_receiver_drops_a_frame_with_a_low_stop_bit():
    dut = UARTReceiver(DIVISOR)
    got = []
    bad = frame_bits(0x3C)[:-1] + [0, 0]  # stop bit low, then the line stays low a while
    run_clocked(dut, drive_line(dut, [frame_bits(0x11), bad, frame_bits(0x22)], got))
    assert got == [0x11, 0x22, ("errors", 1)]


def test_divisor_is_checked():
    with pytest.raises(ValueError, match="divisor must be a whole number of clock cycles per bit, at least 4, not 3"):
        UARTReceiver(3)


def line_at_period(frames: list[int], period: float, gap_bits: float = 2.0) -> list[int]:
    """The rx line, cycle by cycle, for 8N1 `frames` sent at `period` clock cycles per bit (not a whole
    number: the sender's clock is off), `gap_bits` idle bit times between frames."""
    bits = [1] * 8
    for byte in frames:
        bits += frame_bits(byte) + [1] * int(gap_bits)
    edges = [round(k * period) for k in range(len(bits) + 1)]
    return [bit for k, bit in enumerate(bits) for _ in range(edges[k + 1] - edges[k])] + [1] * 4 * DIVISOR


def receive(line: list[int], ready=lambda cycle: 1):
    dut = UARTReceiver(DIVISOR)
    got = []

    async def testbench(ctx):
        for cycle, bit in enumerate(line):
            ctx.set(dut.rx, bit)
            ctx.set(dut.bytes.ready, ready(cycle))
            _, _, valid, rdy, payload = await ctx.tick().sample(dut.bytes.valid, dut.bytes.ready, dut.bytes.payload)
            if valid and rdy:
                got.append(payload)
        got.append(("errors", ctx.get(dut.framing_errors), ctx.get(dut.overruns)))

    run_clocked(dut, testbench)
    return got


@pytest.mark.parametrize("mismatch", [-0.035, -0.02, 0.0, 0.02, 0.035])
def test_receiver_tolerates_a_baud_mismatch_of_a_few_percent(mismatch):
    """Sampling the middle of each bit leaves half a bit of slack over the nine and a half bits to the
    stop bit's middle: less the synchroniser's delay and the whole-cycle sampling, over 3 % either way."""
    rng = random.Random(7)
    frames = [rng.randrange(256) for _ in range(12)] + [0x00, 0xFF, 0x80, 0x01]
    assert receive(line_at_period(frames, DIVISOR * (1 + mismatch))) == frames + [("errors", 0, 0)]


@pytest.mark.parametrize("mismatch", [-0.12, 0.12])
def test_a_baud_mismatch_beyond_the_slack_is_seen(mismatch):
    """The same check can fail: at 12 % the samples walk off their bits and bytes come out wrong or not at all."""
    frames = [0x55, 0xAA, 0x0F, 0xF0, 0x00, 0x80]
    assert receive(line_at_period(frames, DIVISOR * (1 + mismatch))) != frames + [("errors", 0, 0)]


def test_a_byte_not_taken_before_the_next_completes_is_an_overrun_and_replaced():
    frames = [0x11, 0x22, 0x33, 0x44]
    line = line_at_period(frames, DIVISOR)
    frame_cycles = 12 * DIVISOR  # 10 bits and the 2-bit gap
    # not ready while the second and third bytes arrive: the second is overwritten by the third
    hold = range(8 * DIVISOR + frame_cycles, 8 * DIVISOR + 3 * frame_cycles - 2 * DIVISOR)
    got = receive(line, ready=lambda cycle: 0 if cycle in hold else 1)
    assert got == [0x11, 0x33, 0x44, ("errors", 0, 1)]


def test_a_byte_taken_in_the_cycle_the_next_completes_is_not_an_overrun():
    """The waiting byte is taken at the very clock edge the next byte completes: both arrive, and no overrun
    is counted (an overrun is a byte replaced while still waiting, not one taken in time)."""
    frames = [0x11, 0x22]
    line = line_at_period(frames, DIVISOR) + [1] * 8 * DIVISOR
    dut = UARTReceiver(DIVISOR)
    payloads = []

    async def watch(ctx):  # never ready: the edge where the second byte completes is where the payload changes
        for bit in line:
            ctx.set(dut.rx, bit)
            _, _, payload = await ctx.tick().sample(dut.bytes.payload)
            payloads.append(payload)

    run_clocked(dut, watch)
    completes = payloads.index(0x22) - 1  # sampled at the edge: the new value shows one sample later
    second_ready = completes + 2 * DIVISOR
    got = receive(line, ready=lambda cycle: 1 if cycle in (completes, second_ready) else 0)
    assert got == [0x11, 0x22, ("errors", 0, 0)]
    # one edge later the first byte was already replaced: that is an overrun
    late = receive(line, ready=lambda cycle: 1 if cycle in (completes + 1, second_ready) else 0)
    assert late == [0x22, ("errors", 0, 1)]
