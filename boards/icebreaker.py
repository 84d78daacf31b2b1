"""1BitSquared iCEBreaker: iCE40UP5K-SG48, 12 MHz oscillator, FTDI UART, weights in SPRAM."""

from amaranth_boards.icebreaker import ICEBreakerPlatform

from .board import Board, register

ICE40UP5K = {"logic_cells": 5280, "flip_flops": 5280, "bram": 30, "spram": 4, "dsp": 8}

ICEBREAKER = register(Board(
    name="icebreaker",
    title="1BitSquared iCEBreaker (iCE40UP5K)",
    platform=ICEBreakerPlatform,
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
