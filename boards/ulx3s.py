"""Radiona ULX3S: ECP5 (12F to 85F) in CABGA381, 25 MHz oscillator, FTDI UART, weights in EBR."""

from amaranth_boards.ulx3s import (
    ULX3S_12F_Platform,
    ULX3S_25F_Platform,
    ULX3S_45F_Platform,
    ULX3S_85F_Platform,
)

from .board import Board, register

#: LUT4s, flip-flops, 18 kbit EBRs and 18x18 multipliers of each ECP5 size
ECP5_CAPACITY = {
    "12f": {"luts": 12288, "flip_flops": 12288, "bram": 32, "dsp": 28},
    "25f": {"luts": 24288, "flip_flops": 24288, "bram": 56, "dsp": 28},
    "45f": {"luts": 43848, "flip_flops": 43848, "bram": 108, "dsp": 72},
    "85f": {"luts": 83640, "flip_flops": 83640, "bram": 208, "dsp": 156},
}
PLATFORMS = {"12f": ULX3S_12F_Platform, "25f": ULX3S_25F_Platform, "45f": ULX3S_45F_Platform,
             "85f": ULX3S_85F_Platform}
DEFAULTS = {"12f": (64, 2), "25f": (256, 2), "45f": (256, 4), "85f": (512, 4)}

ULX3S = {
    size: register(Board(
        name=f"ulx3s-{size}",
        title=f"Radiona ULX3S ({size.upper()})",
        platform=PLATFORMS[size],
        family="ecp5",
        clock_resource="clk25",
        input_clock_mhz=25.0,
        capacity=ECP5_CAPACITY[size],
        default_neurons=DEFAULTS[size][0],
        default_lanes=DEFAULTS[size][1],
        default_clock_mhz=90.0,
        leds=8,
        notes="weights in EBR",
    ))
    for size in PLATFORMS
}
