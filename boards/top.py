"""The board top: PLL to the requested clock, reset held until it locks, the bridged array on the
board's UART, activity on its LEDs (LED 0: running, LED 1: spikes)."""

from __future__ import annotations

from amaranth.hdl import ClockDomain, Elaboratable, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from lapicque.errors import LapicqueError
from lapicque.hdl.bridge import BridgedArray
from lapicque.spec import ArraySpec

from .board import DEFAULT_BAUD, Board, pll_for

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
EBR_BITS = 16384  # an EBR as 16384 x 1: one tile of a bit-sliced weight memory
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
        deep = neurons * depth > EBR_WORDS
        options = {"weight_bit_slices": deep, "weight_tile_depth": EBR_BITS if deep else None}
        if depth <= LUTRAM_MAX_DEPTH:
            options["acc_ram_style"] = "distributed"
        return options
    return {}


class BoardTop(Elaboratable):
    def __init__(self, board: Board, spec: ArraySpec, clock_mhz: float, baud: int = DEFAULT_BAUD):
        self.board = board
        self.spec = spec
        self.pll = pll_for(board, clock_mhz)
        self.clock_hz = self.pll.output_mhz * 1e6
        self.baud = baud
        self.divisor = uart_divisor(self.clock_hz, baud)

    def elaborate(self, platform):
        m = Module()
        board = self.board
        clocking(m, platform, board, self.pll)

        core = BridgedArray(self.spec, divisor=self.divisor, blink_cycles=int(self.clock_hz // 20),
                            **memory_options(board, self.spec.neurons, self.spec.lanes))
        m.submodules.core = core
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx_buf = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx_buf = io.Buffer("o", uart.tx)
        m.d.comb += [core.rx.eq(rx_buf.i), tx_buf.o.eq(core.tx)]
        for k in range(min(2, board.leds)):
            m.submodules[f"led{k}"] = led = io.Buffer("o", platform.request("led", k, dir="-"))
            m.d.comb += led.o.eq(core.activity[k])
        return m


def clocking(m: Module, platform, board: Board, pll) -> None:
    """The board's oscillator through the PLL to the `sync` domain, held in reset until the PLL locks."""
    m.domains.sync = sync = ClockDomain("sync")
    locked = Signal()
    if board.family == "ice40":
        # the oscillator pin is the PLL's own pad: no input buffer between them
        clk_in = platform.request(board.clock_resource, dir="-")
        m.submodules.pll = Instance(
            "SB_PLL40_PAD", **pll.params,
            i_RESETB=1, i_BYPASS=0, io_PACKAGEPIN=clk_in.io, o_PLLOUTGLOBAL=sync.clk, o_LOCK=locked)
    else:
        m.submodules.clk_buf = clk_buf = io.Buffer("i", platform.request(board.clock_resource, dir="-"))
        m.submodules.pll = Instance(
            "EHXPLLL", **pll.params,
            i_CLKI=clk_buf.i, i_CLKFB=sync.clk, o_CLKOP=sync.clk, o_LOCK=locked,
            i_RST=0, i_STDBY=0, i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1,
            i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0)
    m.submodules.reset = ResetSynchronizer(~locked, domain="sync")
    # no constraint on sync.clk here: nextpnr derives it from the oscillator's through the PLL
    # (and a constraint on an internal net may not survive synthesis under its name)
