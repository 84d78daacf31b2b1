"""`lapicque verify`: build the RTL, run the cocotb testbench, and write the summary.

The summary (`OUT/summary.json`) is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import write_json
from lapicque.golden.neuron import State
from lapicque.hdl.array import PIPELINE_LATENCY, SPIKE_PATH_LATENCY
from lapicque.provenance import provenance
from lapicque.spec import ArraySpec

from . import runner
from .progress import read_progress
from .scoreboard import COVERAGE_BINS, free_running, unreachable_bins
from .stimulus import stimulus

DEFAULT_BACKPRESSURE = 0.02


def cycles_lower_bound(spec: ArraySpec, spikes_per_step) -> float:
    """Mean over steps of max(N / lanes, spikes x fan-out / weight ports) + pipeline latency, where a step
    without spikes has no spike path to wait for (hdl.array.SPIKE_PATH_LATENCY).

    Weights are stored dense, so a spike's fan-out is N; each lane has one weight port.
    """
    spikes = np.asarray(spikes_per_step, dtype=np.float64)
    if spikes.size == 0:
        return float("nan")
    latency = np.where(spikes > 0, PIPELINE_LATENCY, PIPELINE_LATENCY - SPIKE_PATH_LATENCY)
    per_step = np.maximum(spec.depth, spikes * spec.neurons / spec.lanes) + latency
    return float(per_step.mean())


def _run_showing_progress(build_dir, test_dir, sim, waves, log_file, steps, say) -> None:
    """Run the simulation in a thread while the testbench's progress is passed to `say`."""
    failure = []

    def target():
        try:
            runner.run_test(build_dir, test_dir, sim, waves=waves, log_file=log_file)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="simulator", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
        progress = read_progress(test_dir)
        if progress:
            say(f"simulating with {sim}: step {progress['steps_checked']:,}/{steps:,} checked, "
                f"{progress['bit_exact_mismatches']} mismatches")
    if failure:
        raise failure[0]


def verify(spec: ArraySpec, steps: int, out: Path, *, seed: int = 0, sim: str = "verilator",
           waves: bool = False, backpressure: float = DEFAULT_BACKPRESSURE, inject_bug: str | None = None,
           status=None, state: State | None = None, ext: np.ndarray | None = None,
           require_coverage: bool = False) -> dict:
    """Verify the RTL of `spec` against the models for `steps` timesteps; returns the summary.

    `require_coverage`: a run that misses a coverage bin fails (it is otherwise reported, not failed).

    The initial `state` and the external input `ext` [steps, neurons] default to the seeded
    verification stimulus (directed edge states, constrained-random input); a workload such as the
    spiking LCA gives its own (rest, no input).
    """
    if not 1 <= steps <= 65535:
        raise LapicqueError(f"--steps = {steps} is out of range; allowed 1..65535")
    if not 0.0 <= backpressure < 1.0:
        raise LapicqueError(f"--backpressure = {backpressure} is out of range; allowed 0 <= p < 1")
    if not spec.monitor:
        raise LapicqueError("verification needs the state monitor; set monitor = true in the spec")
    reason = runner.simulator_missing(sim)
    if reason:
        raise LapicqueError(reason)

    def say(text):
        if status is not None:
            status(text)

    out = Path(out).resolve()  # the simulator runs in its own folder: relative paths would break
    out.mkdir(parents=True, exist_ok=True)
    wall0 = time.perf_counter()
    say(f"building the {sim} model of {spec.neurons} neurons x {spec.lanes} lanes")
    build_dir, cached = runner.build(spec, sim, inject_bug=inject_bug, waves=waves, log_file=out / "build.log")
    build_s = time.perf_counter() - wall0

    test_dir = out / "sim"
    if test_dir.exists():
        shutil.rmtree(test_dir)
    test_dir.mkdir()
    seeded_state, seeded_ext = stimulus(spec, steps, seed)
    state = seeded_state if state is None else state
    ext = seeded_ext if ext is None else np.asarray(ext, dtype=np.int64)
    if ext.shape != (steps, spec.neurons):
        raise ValueError(f"ext has shape {ext.shape}; expected ({steps}, {spec.neurons})")
    config = {"spec": spec.to_dict(), "options": {"seed": seed, "backpressure": backpressure, "model_helper": True}}
    (test_dir / "config.json").write_text(json.dumps(config))
    np.savez(test_dir / "stimulus.npz", ext=ext, v=state.v, i=state.i, ref=state.ref, pulse=state.pulse)
    say(f"simulating {steps} steps with {sim} and checking every update")
    # the bit-exact model steps in a helper process on the other core (see sim/expected.py)
    with open(test_dir / "expected.log", "w") as log:
        helper = subprocess.Popen([sys.executable, "-m", "lapicque.sim.expected", str(test_dir)],
                                  stdout=log, stderr=subprocess.STDOUT)
    launched = time.time()
    try:
        _run_showing_progress(build_dir, test_dir, sim, waves, out / "sim.log", steps, say)
        returned = time.time()
    finally:
        if helper.poll() is None:
            helper.kill()
        helper.wait()
    results_path = test_dir / "results.json"
    if not results_path.exists():
        raise RuntimeError(f"the testbench wrote no results; see {out / 'sim.log'}")
    res = json.loads(results_path.read_text())
    if res.get("tb_error"):
        raise RuntimeError(f"the testbench failed: {res['tb_error']}; see {out / 'sim.log'}")

    waves_file = None
    if waves:
        for candidate in sorted(list(test_dir.glob("*.fst")) + list(test_dir.glob("*.vcd"))
                                + list(build_dir.glob("*.fst")) + list(build_dir.glob("*.vcd"))):
            waves_file = out / candidate.name
            shutil.copyfile(candidate, waves_file)
            break

    summary_start = time.perf_counter()
    coverage = res["coverage"]
    unreachable = unreachable_bins(spec)
    reachable = [name for name in COVERAGE_BINS if name not in unreachable]
    hit = sum(1 for name in reachable if coverage.get(name, 0) > 0)
    stats = res["stats"]
    missed = [name for name in reachable if coverage.get(name, 0) == 0]
    passed = (not res["timed_out"] and res["steps_checked"] == steps and res["bit_exact_mismatches"] == 0
              and res["float_bound_violations"] == 0 and not (require_coverage and missed))
    summary = {
        "passed": passed,
        "simulator": sim,
        "neurons": spec.neurons,
        "lanes": spec.lanes,
        "steps": steps,
        "seed": seed,
        "updates_checked": res["updates_checked"],
        "bit_exact_mismatches": res["bit_exact_mismatches"],
        "first_mismatch": res["first_mismatch"],
        "float_bound_violations": res["float_bound_violations"],
        "first_float_violation": res["first_float_violation"],
        "threshold_straddles": res["threshold_straddles"],
        "max_float_error_lsb": res["max_float_error_lsb"],
        "float_bound_lsb": res["float_bound_lsb"],
        "coverage": coverage,
        "coverage_hit_fraction": hit / len(reachable),
        "coverage_missed": missed,
        "coverage_unreachable": unreachable,
        "coverage_required": require_coverage,
        "cycles_per_step": stats["busy_cycles"] / max(1, res["steps_checked"]),
        "cycles_per_step_bound": cycles_lower_bound(spec, res["spikes_per_step"]),
        "spikes": int(sum(res["spikes_per_step"])),
        "stats": stats,
        "free_running": free_running(spec, state, ext, np.load(test_dir / "traces.npz")["spike"]),
        "checked_updates_per_s": res["updates_checked"] / res["check_wall_s"] if res["check_wall_s"] else 0.0,
        "model_wait_s": res["model_wait_s"],
        "build_cached": cached,
        "build_s": build_s,
        "wall_s": time.perf_counter() - wall0,
        "timed_out": res["timed_out"],
        "backpressure": backpressure,
        "inject_bug": inject_bug,
        "waves": str(waves_file) if waves_file else None,
        "provenance": provenance(),
    }
    summary["wall_s"] = time.perf_counter() - wall0
    summary["time_split"] = time_split(build_s, launched, returned, res["times"], res["model_wait_s"], summary_start,
                                       summary["wall_s"])
    write_json(out / "summary.json", summary)
    return summary


#: the parts of a verification's wall time, in the order they happen (`time_split`)
TIME_PARTS = {
    "build_s": "building the simulator's model (0 when cached)",
    "simulator_start_s": "starting the simulator: its process, the design's elaboration, cocotb, the testbench's setup",
    "configure_s": "configuring the array through cfg: state, parameters and weights (simulated)",
    "simulation_s": "the simulated steps: the simulator and the testbench's loop (driving, back-pressure, decoding)",
    "model_s": "the fixed model's updates in the testbench: stepping it, or taking the helper process's",
    "model_wait_s": "waiting for the fixed model, stepped by the helper process on the other core",
    "compare_s": "comparing every update bit for bit (and the AER stream with the monitor)",
    "float_check_s": "the float one-step bound over every update",
    "transfer_s": "writing the traces and results, the simulator's exit",
    "summary_s": "this summary: coverage, the free-running check",
    "other_s": "the rest of the wall time (the stimulus, the helper's start, ...)",
}


def time_split(build_s: float, launched: float, returned: float, tb: dict, model_wait_s: float,
               summary_start: float, wall_s: float) -> dict[str, float]:
    """`wall_s` split into `TIME_PARTS` (seconds; every part measured, the rest in `other_s`)."""
    run_s = tb["run_s"]
    split = {
        "build_s": build_s,
        "simulator_start_s": max(0.0, tb["entered"] - launched),
        "configure_s": tb["configure_s"],
        # the testbench's run, less what it spent checking inline (comparing, the model, waiting for it)
        "simulation_s": max(0.0, run_s - tb["compare_s"] - tb["model_s"] - model_wait_s),
        "model_s": tb["model_s"],
        "model_wait_s": model_wait_s,
        "compare_s": tb["compare_s"],
        "float_check_s": tb["float_check_s"],
        "transfer_s": tb["write_s"] + max(0.0, returned - tb["left"]),
        "summary_s": time.perf_counter() - summary_start,
    }
    split["other_s"] = max(0.0, wall_s - sum(split.values()))
    return split
