"""MuseLab iCESugar v1.5: iCE40UP5K-SG48, 12 MHz oscillator, UART through its iCELink."""

from amaranth_boards.icesugar import ICESugarPlatform

from .board import Board, register
from .icebreaker import ICE40UP5K

ICESUGAR = register(Board(
    name="icesugar",
    title="MuseLab iCESugar (iCE40UP5K)",
    platform=ICESugarPlatform,
    family="ice40",
    clock_resource="clk12",
    input_clock_mhz=12.0,
    capacity=ICE40UP5K,
    default_neurons=256,
    default_lanes=1,
    default_clock_mhz=32.0,
    leds=2,
    notes="weights in SPRAM",
))
