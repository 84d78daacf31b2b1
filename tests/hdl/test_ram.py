"""RegisteredRAM: the generic form's timing, and the ECP5 form (DP16KD instances) equal to it cycle for
cycle under a behavioural model of the DP16KD, in Verilator."""

import os
import subprocess

import pytest
from amaranth.back import verilog
from amaranth.hdl import unsigned

from lapicque.boards.estimate import ECP5_BRAM, bram_blocks
from lapicque.hdl.ram import RegisteredRAM, ebr_mode
from lapicque.sim.runner import _prepare_path, simulator_missing
from tests.hdl import run_clocked

#: (width, depth) in every DP16KD mode: 36 (pseudo dual port, two and four blocks: the array's state and
#: parameters at 128 neurons per lane), 18, 9, 4, 2 and 1 bits
SHAPES = ((37, 128), (114, 128), (20, 1000), (5, 2000), (3, 4000), (2, 8000), (1, 16000))


def test_generic_ram_reads_two_cycles_later_and_holds_without_its_enables():
    ram = RegisteredRAM(unsigned(8), 16)
    seen = []

    async def bench(ctx):
        for address in range(16):
            ctx.set(ram.w_addr, address)
            ctx.set(ram.w_data, 100 + address)
            ctx.set(ram.w_en, 1)
            await ctx.tick()
        ctx.set(ram.w_en, 0)
        ctx.set(ram.r_en, 1)
        ctx.set(ram.o_en, 1)
        for address in (3, 7, 9):
            ctx.set(ram.r_addr, address)
            await ctx.tick()
            seen.append(ctx.get(ram.r_data))
        await ctx.tick()
        seen.append(ctx.get(ram.r_data))
        await ctx.tick()
        seen.append(ctx.get(ram.r_data))
        # both enables low: the output holds whatever the address does
        ctx.set(ram.r_en, 0)
        ctx.set(ram.o_en, 0)
        ctx.set(ram.r_addr, 1)
        await ctx.tick().repeat(3)
        seen.append(ctx.get(ram.r_data))
        # the read enabled, the output register not: the new word waits in the array's latch
        ctx.set(ram.r_en, 1)
        await ctx.tick()
        ctx.set(ram.r_en, 0)
        await ctx.tick()
        seen.append(ctx.get(ram.r_data))
        ctx.set(ram.o_en, 1)
        await ctx.tick()
        seen.append(ctx.get(ram.r_data))

    run_clocked(ram, bench)
    # after the first read, data lags the address by two ticks; then hold, hold, the latched word
    assert seen == [0, 103, 107, 109, 109, 109, 109, 101]


@pytest.mark.parametrize("width, depth", SHAPES + ((131, 128), (16, 512), (16, 513)))
def test_ebr_mode_uses_as_many_blocks_as_the_estimate(width, depth):
    bits, shift, blocks = ebr_mode(depth, width)
    assert blocks == bram_blocks(depth, width, ECP5_BRAM)
    assert depth <= 1 << (14 - shift) and bits * blocks >= width


def test_ebr_mode_declines_what_needs_more_than_one_block_deep():
    assert ebr_mode(16385, 1) is None


class ECP5:
    """What RegisteredRAM looks at in a platform."""

    family = "ecp5"


def dp16kd_model() -> str:
    """A behavioural DP16KD for the modes RegisteredRAM uses, written from Lattice's ECP5 memory guide
    (TN1264): the word address is AD[13:k] (k = 5, 4, 3, 2, 1, 0 at x36, x18, x9, x4, x2, x1); at x18
    AD[1:0] and at x36 ADA[3:0] enable 9-bit bytes; x36 writes {DIB, DIA} on
    port A and reads {DOB, DOA} on port B; a read latches at CLK when CE and not WE; with
    REGMODE = OUTREG a register behind the latch takes it when OCE (at x36 DOA's half by port A's)."""
    pins = []
    for port in "AB":
        pins += [f"input DI{port}{i}" for i in range(18)] + [f"input AD{port}{i}" for i in range(14)]
        pins += [f"input CE{port}", f"input OCE{port}", f"input CLK{port}", f"input WE{port}", f"input RST{port}"]
        pins += [f"input CS{port}{i}" for i in range(3)] + [f"output DO{port}{i}" for i in range(18)]

    def bus(name, count):
        return "{" + ", ".join(f"{name}{i}" for i in reversed(range(count))) + "}"

    return f"""
module DP16KD #(
  parameter DATA_WIDTH_A = 18, parameter DATA_WIDTH_B = 18,
  parameter REGMODE_A = "NOREG", parameter REGMODE_B = "NOREG",
  parameter RESETMODE = "SYNC", parameter ASYNC_RESET_RELEASE = "SYNC",
  parameter CSDECODE_A = "0b000", parameter CSDECODE_B = "0b000",
  parameter WRITEMODE_A = "NORMAL", parameter WRITEMODE_B = "NORMAL", parameter GSR = "ENABLED"
) ({", ".join(pins)});
  function integer shift_of(input integer width);
    shift_of = width == 36 ? 5 : width == 18 ? 4 : width == 9 ? 3 : width == 4 ? 2 : width == 2 ? 1 : 0;
  endfunction
  wire [17:0] dia = {bus("DIA", 18)}, dib = {bus("DIB", 18)};
  wire [13:0] ada = {bus("ADA", 14)}, adb = {bus("ADB", 14)};
  wire [35:0] wide_in = {{dib, dia}};
  wire [13:0] word_a = ada >> shift_of(DATA_WIDTH_A), word_b = adb >> shift_of(DATA_WIDTH_B);
  reg [35:0] mem [0:16383];
  reg [35:0] latch = 0, held = 0;
  integer i, q;
  initial for (i = 0; i < 16384; i = i + 1) mem[i] = 0;
  always @(posedge CLKA) if (CEA && WEA) begin
    if (DATA_WIDTH_A == 36) begin
      for (q = 0; q < 4; q = q + 1) if (ada[q]) mem[word_a][9 * q +: 9] <= wide_in[9 * q +: 9];
    end else if (DATA_WIDTH_A == 18) begin
      for (q = 0; q < 2; q = q + 1) if (ada[q]) mem[word_a][9 * q +: 9] <= dia[9 * q +: 9];
    end else
      for (q = 0; q < DATA_WIDTH_A; q = q + 1) mem[word_a][q] <= dia[q];
  end
  always @(posedge CLKB) begin
    if (CEB && !WEB) latch <= mem[word_b];
    if (OCEB) held[35:18] <= latch[35:18];
    if (DATA_WIDTH_B == 36 ? OCEA : OCEB) held[17:0] <= latch[17:0];
  end
  wire [35:0] out_b = REGMODE_B == "OUTREG" ? held : latch;
  wire [35:0] out_a = REGMODE_A == "OUTREG" ? held : latch;
  assign {bus("DOB", 18)} = DATA_WIDTH_B == 36 ? out_b[35:18] : out_b[17:0];
  assign {bus("DOA", 18)} = DATA_WIDTH_B == 36 ? out_a[17:0] : 18'd0;
endmodule
"""


def side_by_side_bench(shapes) -> str:
    """Every shape's generic and ECP5 RAM side by side under the same random writes and reads (never
    the address being written), their outputs compared every cycle."""
    lines = ["module tb;", "  reg clk = 0;", "  always #5 clk = ~clk;", "  integer cycle, errors = 0;"]
    for n, (width, depth) in enumerate(shapes):
        abits = max(1, (depth - 1).bit_length())
        lines += [
            f"  reg [{abits - 1}:0] wa{n} = 0, ra{n} = 0; reg [{width - 1}:0] wd{n} = 0;",
            f"  reg we{n} = 0, re{n} = 0, oe{n} = 0; wire [{width - 1}:0] g{n}, e{n};",
            f"  generic{n} gen{n} (.clk(clk), .rst(1'b0), .w_addr(wa{n}), .w_data(wd{n}), .w_en(we{n}),"
            f" .r_addr(ra{n}), .r_en(re{n}), .o_en(oe{n}), .r_data(g{n}));",
            f"  ecp5_{n} ebr{n} (.clk(clk), .rst(1'b0), .w_addr(wa{n}), .w_data(wd{n}), .w_en(we{n}),"
            f" .r_addr(ra{n}), .r_en(re{n}), .o_en(oe{n}), .r_data(e{n}));",
            f"  always @(posedge clk) if (g{n} !== e{n}) begin errors = errors + 1;"
            f" if (errors < 10) $display(\"shape {n} cycle %0d: generic %h, ecp5 %h\", cycle, g{n}, e{n}); end",
        ]
    lines += ["  initial begin", "    for (cycle = 0; cycle < 6000; cycle = cycle + 1) begin", "      @(negedge clk);"]
    for n, (_width, depth) in enumerate(shapes):
        # the first 2000 cycles mostly write (so the reads find data), then a mix
        lines += [
            f"      we{n} = cycle < 2000 ? ($random & 7) != 0 : ($random & 3) == 0;",
            f"      wa{n} = $unsigned($random) % {depth}; wd{n} = {{$random, $random, $random, $random}};",
            f"      re{n} = ($random & 3) != 0; oe{n} = ($random & 3) != 0;",
            f"      ra{n} = $unsigned($random) % {depth}; if (we{n} && ra{n} == wa{n}) ra{n} = (ra{n} + 1) % {depth};",
        ]
    lines += ["    end", '    if (errors == 0) $display("RAMS AGREE"); else $display("RAMS DIFFER: %0d", errors);',
              "    $finish;", "  end", "endmodule"]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(simulator_missing("verilator") is not None, reason="Verilator is not installed")
def test_ecp5_ram_equals_the_generic_ram(tmp_path):
    sources = [dp16kd_model(), side_by_side_bench(SHAPES)]
    for n, (width, depth) in enumerate(SHAPES):
        sources.append(verilog.convert(RegisteredRAM(unsigned(width), depth), name=f"generic{n}"))
        ecp5 = verilog.convert(RegisteredRAM(unsigned(width), depth), name=f"ecp5_{n}", platform=ECP5())
        assert ecp5.count("DP16KD ") == ebr_mode(depth, width)[2]
        sources.append(ecp5)
    (tmp_path / "all.v").write_text("\n".join(sources))
    _prepare_path()
    env = dict(os.environ, MAKEFLAGS="CFG_CXXFLAGS_PCH_I=-include CFG_CXXFLAGS_COROUTINES=-fcoroutines")
    build = subprocess.run(["verilator", "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                            "--top-module", "tb", "-Mdir", str(tmp_path / "obj"), str(tmp_path / "all.v")],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run([str(tmp_path / "obj" / "Vtb")], capture_output=True, text=True, cwd=tmp_path)
    assert "RAMS AGREE" in run.stdout, run.stdout[-3000:]
