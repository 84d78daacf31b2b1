"""Verilator's runtime compiled once and shared (sim/verilator_runtime.py): the second design's build takes the
objects from the cache, links them and runs right; what decides the objects (make's variables, the commands)
changes the key; an object that includes a file of the design is never shared."""

from pathlib import Path

import numpy as np
import pytest

from lapicque.sim import runner, verilator_runtime
from tests.sim.test_runner import BITS, DESIGN, TESTBENCH, expected_payload

pytestmark = pytest.mark.skipif(runner.simulator_missing("verilator") is not None, reason="Verilator is not installed")

CLASSES = """# Verilated -*- Makefile -*-
VM_TRACE = 0

VM_GLOBAL_FAST += \\
  verilated \\
  verilated_vpi \\

VM_GLOBAL_SLOW += \\
  verilated_slow \\

# a comment naming VM_GLOBAL_FAST += not_an_object
VM_SUPPORT_FAST += \\
  Vtop__Dpi \\
"""


def test_the_runtime_objects_are_read_from_verilators_classes_makefile(tmp_path: Path):
    (tmp_path / "Vtop_classes.mk").write_text(CLASSES)
    assert verilator_runtime.runtime_objects(tmp_path) == ["verilated.o", "verilated_vpi.o", "verilated_slow.o"]


def test_an_object_that_includes_a_file_of_the_build_is_not_shareable(tmp_path: Path):
    (tmp_path / "a.d").write_text("a.o: \\\n /usr/include/verilated.cpp \\\n /usr/include/verilated.h\n")
    (tmp_path / "b.d").write_text("b.o: \\\n /usr/include/verilated.cpp \\\n Vtop.h\n")
    assert verilator_runtime.design_dependencies(tmp_path, ["a.o"]) == []
    assert verilator_runtime.design_dependencies(tmp_path, ["a.o", "b.o"]) == ["Vtop.h"]
    assert verilator_runtime.design_dependencies(tmp_path, ["c.o"]) == ["c.o (no dependency list)"]


def a_second_design() -> str:
    """The recorder test's counter with a register more: another design, the same runtime."""
    return DESIGN.replace("endmodule", "  reg [7:0] ticks;\n  always @(posedge clk) ticks <= ticks + 1;\nendmodule")


def test_a_second_design_takes_the_runtime_from_the_cache_and_runs(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LAPICQUE_CACHE", str(tmp_path / "cache"))
    first, built = runner.build_verilog(DESIGN, "verilator", log_file=tmp_path / "first.log", record=("out",))
    assert not built and "compiled and stored" in (tmp_path / "first.log").read_text()
    second, built = runner.build_verilog(a_second_design(), "verilator", log_file=tmp_path / "second.log",
                                         record=("out",))
    log = (tmp_path / "second.log").read_text()
    assert not built and second != first and "from the cache" in log
    # make compiled the design and cocotb's main, none of the runtime
    compiled = [line.split(" -o ")[1].split()[0] for line in log.splitlines() if " -c -o " in line]
    assert sorted(compiled) == ["Vtop__ALL.o", "verilator.o"]
    stored = next(p for p in (tmp_path / "cache" / "verilator-runtime").iterdir() if p.is_dir())
    for obj in verilator_runtime.runtime_objects(second):
        assert (second / obj).read_bytes() == (stored / obj).read_bytes() == (first / obj).read_bytes()
    # the linked model runs: the recorder's transfers, bit for bit
    (tmp_path / "tb_record.py").write_text(TESTBENCH)
    monkeypatch.syspath_prepend(str(tmp_path))
    test_dir = tmp_path / "run"
    test_dir.mkdir()
    runner.run_test(second, test_dir, "verilator", test_module="tb_record", log_file=tmp_path / "sim.log")
    bits = runner.read_records((test_dir / runner.record_file("out")).read_bytes(), BITS)
    got = [int(v) for v in bits.astype(object) @ (1 << np.arange(BITS, dtype=object))]
    assert got == [expected_payload(c) for c in range(9)]


def test_the_key_follows_the_compile_commands(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LAPICQUE_CACHE", str(tmp_path / "cache"))
    build_dir, _ = runner.build_verilog(DESIGN, "verilator", record=("out",))
    objects = verilator_runtime.runtime_objects(build_dir)
    verilator = str(runner.verilator_bin_dir() / "verilator") if runner.verilator_bin_dir() else "verilator"
    plain = verilator_runtime.compile_commands(build_dir, ["VM_TRACE=0"], objects)
    traced = verilator_runtime.compile_commands(build_dir, ["VM_TRACE=1"], objects)
    assert "-DVM_TRACE=0" in plain and "-DVM_TRACE=1" in traced
    assert verilator_runtime.runtime_key(plain, verilator) == verilator_runtime.runtime_key(plain, verilator)
    assert verilator_runtime.runtime_key(plain, verilator) != verilator_runtime.runtime_key(traced, verilator)
