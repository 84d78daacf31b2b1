"""The simulator's own recorder (sim/runner.py `testbench_top(..., record=...)`): every transfer of a recorded
stream, valid and ready high at a rising edge, lands in its record file once and in order, a beat offered while
ready is low is not recorded, and the records read back bit for bit."""

from pathlib import Path

import numpy as np
import pytest

from lapicque.sim import runner

pytestmark = pytest.mark.skipif(runner.simulator_missing("verilator") is not None, reason="Verilator is not installed")

BITS = 45  # not a whole number of 32-bit words: the record is padded to two

# a counter that offers `out` every cycle it is enabled: payload = a pattern of the cycle's count, so that every
# bit (both words) moves
DESIGN = """
module lapicque_array(clk, rst, enable, out__valid, out__ready, out__payload);
  input clk;
  input rst;
  input enable;
  output out__valid;
  input out__ready;
  output [44:0] out__payload;
  reg [15:0] count;
  always @(posedge clk) if (rst) count <= 0; else if (enable && out__ready) count <= count + 1;
  assign out__valid = enable;
  assign out__payload = {count[12:0], ~count, count};
endmodule
"""

TESTBENCH = '''
import cocotb
from cocotb.triggers import FallingEdge


@cocotb.test()
async def offer(dut):
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    # ready high for 5 cycles, low for 3 (offered, not taken), high for 4
    for enable, ready, cycles in ((1, 1, 5), (1, 0, 3), (0, 1, 2), (1, 1, 4)):
        dut.enable.value, dut.out__ready.value = enable, ready
        for _ in range(cycles):
            await FallingEdge(dut.clk)
    dut.enable.value = 0
    await FallingEdge(dut.clk)
'''


def expected_payload(count: int) -> int:
    return ((count & 0x1FFF) << 32) | ((~count & 0xFFFF) << 16) | count


def recording_design(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """The recording design built in a cache of its own, its testbench importable, and an empty run folder."""
    monkeypatch.setenv("LAPICQUE_CACHE", str(tmp_path / "cache"))
    build_dir, _ = runner.build_verilog(DESIGN, "verilator", log_file=tmp_path / "build.log", record=("out",))
    (tmp_path / "tb_record.py").write_text(TESTBENCH)
    monkeypatch.syspath_prepend(str(tmp_path))
    test_dir = tmp_path / "run"
    test_dir.mkdir()
    return build_dir, test_dir


def test_recorded_transfers_are_every_taken_beat_in_order(tmp_path: Path, monkeypatch):
    build_dir, test_dir = recording_design(tmp_path, monkeypatch)
    runner.run_test(build_dir, test_dir, "verilator", test_module="tb_record", log_file=tmp_path / "sim.log")
    data = (test_dir / runner.record_file("out")).read_bytes()
    assert len(data) == 9 * runner.record_size(BITS) == 9 * 8
    bits = runner.read_records(data, BITS)
    got = [int(v) for v in bits.astype(object) @ (1 << np.arange(BITS, dtype=object))]
    # the 5 + 4 cycles with valid and ready; the held cycles are not transfers
    assert got == [expected_payload(c) for c in range(9)]


def test_a_failed_check_is_raised_once_the_simulator_has_ended(tmp_path: Path, monkeypatch):
    build_dir, test_dir = recording_design(tmp_path, monkeypatch)
    calls = []

    def check():
        calls.append(1)
        raise ValueError("a malformed record")

    with pytest.raises(ValueError, match="a malformed record"):
        runner.run_test_checking(build_dir, test_dir, "verilator", check, 0.001, test_module="tb_record",
                                 log_file=tmp_path / "sim.log")
    # checked once, then left alone; the simulator ran to its end (its records whole) before the error came out
    assert len(calls) == 1
    assert len((test_dir / runner.record_file("out")).read_bytes()) == 9 * runner.record_size(BITS)


def test_a_record_file_of_partial_records_is_refused():
    with pytest.raises(ValueError, match="not whole records"):
        runner.read_records(b"\0" * 12, BITS)


def test_recording_a_stream_the_design_lacks_is_refused():
    with pytest.raises(ValueError, match="no out__ready"):
        runner.testbench_top(DESIGN.replace("out__ready", "out_rdy"), record=("out",))
