"""The board top: PLL to the requested clock, reset held until it locks, the bridged array on the
board's UART, activity on its LEDs (LED 0: running, LED 1: spikes)."""

from __future__ import annotations

from amaranth.hdl import ClockDomain, Elaboratable, Instance, Module, Signal
from amaranth.lib.cdc import ResetSynchronizer

from lapicque.errors import LapicqueError
from lapicque.hdl.bridge import BridgedArray
from lapicque.spec import ArraySpec

from .board import Board, pll_for

#: largest baud-rate error the UART tolerates (both ends sample mid-bit; 10 bits per frame)
MAX_BAUD_ERROR = 0.02
STANDARD_BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 2000000, 3000000)


def uart_divisor(clock_hz: float, baud: int) -> int:
    """Clock cycles per bit for `baud`; refuses a rate the clock cannot make within 2 %."""
    divisor = round(clock_hz / baud)
    if divisor < 4:
        raise LapicqueError(f"baud {baud} is too fast for a {clock_hz / 1e6:g} MHz clock (needs 4 cycles per bit); "
                            "choose a lower --baud")
    error = abs(clock_hz / divisor - baud) / baud
    if error > MAX_BAUD_ERROR:
        raise LapicqueError(f"baud {baud} is {100 * error:.1f} % off at {clock_hz / 1e6:g} MHz; choose another --baud "
                            "or --clock")
    return divisor


#: an ECP5 EBR holds 2048 9-bit words: deeper weight memories are bit-sliced (see `NeuronArray`)
EBR_WORDS = 2048
#: accumulators up to this depth go to ECP5 LUT RAM (two banks of `acc_bits` each per lane)
LUTRAM_MAX_DEPTH = 256


def memory_options(board: Board, neurons: int, lanes: int) -> dict:
    """Where the array's memories go on `board`'s device (see `NeuronArray`): weights in SPRAM on
    an iCE40 UP5K; on an ECP5, deep weight memories bit-sliced across EBRs and small
    accumulators in LUT RAM."""
    if board.has_spram:
        return {"weight_ram_style": "huge"}
    if board.family == "ecp5":
        depth = neurons // lanes
        options = {"weight_bit_slices": neurons * depth > EBR_WORDS}
        if depth <= LUTRAM_MAX_DEPTH:
            options["acc_ram_style"] = "distributed"
        return options
    return {}


class BoardTop(Elaboratable):
    def __init__(self, board: Board, spec: ArraySpec, clock_mhz: float, baud: int = 115200):
        self.board = board
        self.spec = spec
        self.pll = pll_for(board, clock_mhz)
        self.clock_hz = self.pll.output_mhz * 1e6
        self.baud = baud
        self.divisor = uart_divisor(self.clock_hz, baud)

    def elaborate(self, platform):
        m = Module()
        board = self.board
        m.domains.sync = sync = ClockDomain("sync")
        locked = Signal()
        if board.family == "ice40":
            # the oscillator pin is the PLL's own pad: no input buffer between them
            clk_in = platform.request(board.clock_resource, dir="-")
            m.submodules.pll = Instance(
                "SB_PLL40_PAD", **self.pll.params,
                i_RESETB=1, i_BYPASS=0, io_PACKAGEPIN=clk_in.io, o_PLLOUTGLOBAL=sync.clk, o_LOCK=locked)
        else:
            clk_in = platform.request(board.clock_resource)
            m.submodules.pll = Instance(
                "EHXPLLL", **self.pll.params,
                i_CLKI=clk_in.i, i_CLKFB=sync.clk, o_CLKOP=sync.clk, o_LOCK=locked,
                i_RST=0, i_STDBY=0, i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1,
                i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0)
        m.submodules.reset = ResetSynchronizer(~locked, domain="sync")
        # no constraint on sync.clk here: nextpnr derives it from the oscillator's through the PLL
        # (and a constraint on an internal net may not survive synthesis under its name)

        core = BridgedArray(self.spec, divisor=self.divisor, blink_cycles=int(self.clock_hz // 20),
                            **memory_options(board, self.spec.neurons, self.spec.lanes))
        m.submodules.core = core
        uart = platform.request("uart", 0)
        m.d.comb += [core.rx.eq(uart.rx.i), uart.tx.o.eq(core.tx)]
        for k in range(min(2, board.leds)):
            m.d.comb += platform.request("led", k).o.eq(core.activity[k])
        return m
