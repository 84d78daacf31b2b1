"""`lapicque verify`: build the RTL, run the cocotb testbench, and write the summary.

The summary (`OUT/summary.json`) is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import write_atomic_npz, write_json
from lapicque.golden.neuron import State
from lapicque.hdl.array import PIPELINE_LATENCY, SPIKE_PATH_LATENCY
from lapicque.provenance import provenance
from lapicque.spec import ArraySpec

from . import runner
from .scoreboard import COVERAGE_BINS, free_running, unreachable_bins
from .stimulus import stimulus

DEFAULT_BACKPRESSURE = 0.02


def cycles_bound(spec: ArraySpec, spikes_per_step) -> float:
    """Issue 20's bound: the mean over steps of max(N / lanes, spikes x fan-out / weight ports) + pipeline latency,
    where a step without spikes has no spike path to wait for (hdl.array.SPIKE_PATH_LATENCY).

    Weights are stored dense, so a spike's fan-out is N; each lane has one weight port. The array starts a step's
    sweep while the last spike of the step before is still propagating, so a run pays the latency less than once a
    step and can take fewer cycles than this (`cycles_floor` is what no run beats).
    """
    spikes = np.asarray(spikes_per_step, dtype=np.float64)
    if spikes.size == 0:
        return float("nan")
    latency = np.where(spikes > 0, PIPELINE_LATENCY, PIPELINE_LATENCY - SPIKE_PATH_LATENCY)
    per_step = np.maximum(spec.depth, spikes * spec.neurons / spec.lanes) + latency
    return float(per_step.mean())


def cycles_floor(spec: ArraySpec, spikes_per_step) -> float:
    """The mean over steps of max(N / lanes, (spikes - 1) x N / lanes): what no run beats. A step's sweep issues
    N / lanes updates, one a cycle, and the next step's sweep starts only after this step's last spike started
    propagating, which is after its other spikes propagated (N / lanes cycles each, one spike at a time)."""
    spikes = np.asarray(spikes_per_step, dtype=np.float64)
    if spikes.size == 0:
        return float("nan")
    return float(np.maximum(spec.depth, (spikes - 1) * spec.neurons / spec.lanes).mean())


#: how often the parent takes the records while the simulator runs (seconds): many transfers decoded at once
POLL_S = 0.01


def _run_checking(build_dir, test_dir, sim, waves, log_file, checker, say) -> tuple[float | None, float]:
    """Run the simulation while this process checks its records as they come (on the other core) and passes the
    progress to `say`. Returns (the wall clock when the last update was checked, or None when the run's records
    were incomplete; when the simulator had exited)."""
    checked_at, shown = None, -1

    def check():
        nonlocal checked_at, shown
        if checked_at is not None:
            return
        seen = checker.poll()
        if checker.complete():
            checked_at = time.time()
        if seen != shown:
            say(f"simulating with {sim}: step {seen:,}/{checker.steps:,} checked, "
                f"{checker.scoreboard.bit_exact_mismatches} mismatches")
            shown = seen

    exited = runner.run_test_checking(build_dir, test_dir, sim, check, POLL_S, waves=waves, log_file=log_file)
    # the records written since the last look, and any written after the checks were complete (a spike event
    # carried twice): every one is checked
    checker.poll()
    if checked_at is None and checker.complete():
        checked_at = time.time()
    return checked_at, exited


def check_backpressure(backpressure: float) -> None:
    """The testbench's back-pressure probability is in [0, 1) (NaN is not), or one line."""
    if not 0.0 <= backpressure < 1.0:
        raise LapicqueError(f"--backpressure = {backpressure} is out of range; allowed 0 <= p < 1")


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
    check_backpressure(backpressure)
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
    config = {"spec": spec.to_dict(), "options": {"seed": seed, "backpressure": backpressure}}
    (test_dir / "config.json").write_text(json.dumps(config))
    np.savez(test_dir / "stimulus.npz", ext=ext, v=state.v, i=state.i, ref=state.ref, pulse=state.pulse)
    say(f"simulating {steps} steps with {sim} and checking every update")
    from .array_check import ArrayChecker, aer_differences

    checker = ArrayChecker(spec, state, ext, test_dir)
    launched = time.time()
    checked_at, exited = _run_checking(build_dir, test_dir, sim, waves, out / "sim.log", checker, say)
    results_path = test_dir / "results.json"
    if not results_path.exists():
        raise RuntimeError(f"the testbench wrote no results; see {out / 'sim.log'}")
    res = json.loads(results_path.read_text())
    if res.get("tb_error"):
        raise RuntimeError(f"the testbench failed: {res['tb_error']}; see {out / 'sim.log'}")
    sb = checker.scoreboard
    times = res["times"]
    # the AER stream must carry exactly the spikes the monitor reported, each once
    aer0 = time.perf_counter()
    rtl_spikes = sb.rtl["spike"][: sb.steps].astype(bool)
    aer_mismatches, aer_mismatch = aer_differences(rtl_spikes, checker.aer) if not res["timed_out"] else (0, None)
    aer_s = time.perf_counter() - aer0
    # the cycle of each step's last write-back: its differences are the cycles each step took
    step_end_cycle = checker.consumer.beat_cycle[spec.depth - 1::spec.depth][: sb.steps]
    write_atomic_npz(test_dir / "traces.npz", step_end_cycle=step_end_cycle,
                     **{k: v[: sb.steps] for k, v in sb.rtl.items()})
    waves_file = None
    if waves:
        for candidate in sorted(list(test_dir.glob("*.fst")) + list(test_dir.glob("*.vcd"))
                                + list(build_dir.glob("*.fst")) + list(build_dir.glob("*.vcd"))):
            waves_file = out / candidate.name
            shutil.copyfile(candidate, waves_file)
            break

    summary_start = time.perf_counter()
    stats = res["stats"]
    coverage = sb.coverage()
    coverage["backpressure_stim"] = stats["stim_starved"]
    coverage["backpressure_spikes"] = stats["spike_backpressure"]
    coverage["backpressure_monitor"] = stats["monitor_backpressure"]
    coverage["queue_full"] = stats["stall_queue_full"]
    unreachable = unreachable_bins(spec)
    reachable = [name for name in COVERAGE_BINS if name not in unreachable]
    hit = sum(1 for name in reachable if coverage.get(name, 0) > 0)
    missed = [name for name in reachable if coverage.get(name, 0) == 0]
    mismatches = sb.bit_exact_mismatches + aer_mismatches
    # a run whose records stopped short (or left a partial record) is incomplete, whatever it compared
    left_over = checker.left_over()
    complete = checked_at is not None and sb.steps == steps and left_over == 0
    passed = (not res["timed_out"] and complete and mismatches == 0 and sb.float_bound_violations == 0
              and not (require_coverage and missed))
    spikes_per_step = rtl_spikes.sum(axis=1).tolist()
    run_s = checked_at - times["run_started"] if checked_at is not None else None
    summary = {
        "passed": passed,
        "simulator": sim,
        "neurons": spec.neurons,
        "lanes": spec.lanes,
        "steps": steps,
        "seed": seed,
        "updates_checked": sb.updates_checked,
        "bit_exact_mismatches": mismatches,
        "first_mismatch": sb.first_mismatch.to_dict() if sb.first_mismatch else aer_mismatch,
        "float_bound_violations": sb.float_bound_violations,
        "first_float_violation": sb.first_float_violation.to_dict() if sb.first_float_violation else None,
        "threshold_straddles": sb.threshold_straddles,
        "max_float_error_lsb": sb.max_float_error_lsb,
        "float_bound_lsb": sb.float_bound_lsb,
        "coverage": coverage,
        "coverage_hit_fraction": hit / len(reachable),
        "coverage_missed": missed,
        "coverage_unreachable": unreachable,
        "coverage_required": require_coverage,
        "cycles_per_step": stats["busy_cycles"] / max(1, sb.steps),
        "cycles_per_step_bound": cycles_bound(spec, spikes_per_step),
        "cycles_per_step_floor": cycles_floor(spec, spikes_per_step),
        "spikes": int(sum(spikes_per_step)),
        "aer_events": len(checker.aer),
        "records_left_over": left_over,  # bytes of a partial record: the simulator stopped mid-transfer
        "stats": stats,
        "free_running": free_running(spec, state, ext, rtl_spikes),
        # from the steps' start in the simulator to the last update checked in this process
        "checked_updates_per_s": sb.updates_checked / run_s if run_s else 0.0,
        # the checking done here beside the simulation, on the other core (seconds)
        "checking": {"compare_s": sb.compare_s + aer_s, "model_s": sb.model_s, "float_check_s": sb.float_check_s},
        "build_cached": cached,
        "build_s": build_s,
        "timed_out": res["timed_out"],
        "backpressure": backpressure,
        "inject_bug": inject_bug,
        "waves": str(waves_file) if waves_file else None,
        "provenance": provenance(),
    }
    summary["wall_s"] = time.perf_counter() - wall0
    summary["time_split"] = time_split(build_s, launched, times, checked_at, exited, summary_start, summary["wall_s"])
    write_json(out / "summary.json", summary)
    return summary


#: the parts of a verification's wall time, in the order they happen (`time_split`); the checking runs beside
#: the simulation, in this process on the other core (`checking` in the summary: its compare, model and float check)
TIME_PARTS = {
    "build_s": "building the simulator's model (0 when cached)",
    "simulator_start_s": "starting the simulator: its process, the design's elaboration, cocotb, the testbench's setup",
    "configure_s": "configuring the array through cfg: state, parameters and weights (simulated)",
    "simulation_s": "the simulated steps: the simulator and the testbench's loop (driving, back-pressure), with the "
                    "records checked beside it",
    "check_tail_s": "checking after the simulation's end: the last records and the float one-step bound",
    "transfer_s": "the simulator's results and exit",
    "summary_s": "this summary: the AER stream, the traces, coverage, the free-running check",
    "other_s": "the rest of the wall time (the stimulus, ...)",
}


def time_split(build_s: float, launched: float, tb: dict, checked_at: float | None, exited: float,
               summary_start: float, wall_s: float) -> dict[str, float]:
    """`wall_s` split into `TIME_PARTS` (seconds; every part measured, the rest in `other_s`): wall-clock marks of
    this process and of the testbench's, in the order they happen."""
    checked = checked_at if checked_at is not None else exited
    split = {
        "build_s": build_s,
        "simulator_start_s": max(0.0, tb["entered"] - launched),
        "configure_s": tb["configure_s"],
        "simulation_s": max(0.0, tb["run_ended"] - tb["run_started"]),
        "check_tail_s": max(0.0, checked - tb["run_ended"]),
        "transfer_s": max(0.0, exited - max(checked, tb["run_ended"])),
        "summary_s": time.perf_counter() - summary_start,
    }
    split["other_s"] = max(0.0, wall_s - sum(split.values()))
    return split
