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
