"""Verify an array: its RTL simulated under cocotb, every update checked against the bit-exact and float models."""

from __future__ import annotations

from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.spec import ArraySpec, load_spec, random_spec

from .folders import output_folder, write_run_report

DEFAULT_NEURONS, DEFAULT_LANES = 64, 2


def array_spec(spec: Path | str | ArraySpec | None, neurons: int | None, lanes: int | None, seed: int) -> ArraySpec:
    """The array to verify: a spec (file or object, `lanes` overriding its own) or a seeded random array."""
    if spec is not None:
        if neurons is not None:
            raise LapicqueError("give either --spec or --neurons, not both")
        spec = spec if isinstance(spec, ArraySpec) else load_spec(Path(spec))
        return spec.with_lanes(lanes) if lanes is not None else spec
    return random_spec(neurons or DEFAULT_NEURONS, lanes or DEFAULT_LANES, seed=seed)


def checked_bug(inject_bug: str | None) -> str | None:
    """`inject_bug` when it names a seeded bug of the datapath or the array (tests of the harness), else the
    one-line error."""
    from lapicque.hdl.array import BUGS as ARRAY_BUGS
    from lapicque.hdl.datapath import BUGS as DATAPATH_BUGS

    bugs = DATAPATH_BUGS + ARRAY_BUGS
    if inject_bug is not None and inject_bug not in bugs:
        raise LapicqueError(f"--inject-bug must be one of {', '.join(bugs)}")
    return inject_bug


DEFAULT_STEPS = 500


def verify(*, spec: Path | str | ArraySpec | None = None, neurons: int | None = None, lanes: int | None = None,
           steps: int | None = None, seed: int = 0, sim: str = "verilator", waves: bool = False,
           backpressure: float | None = None, out: Path | str | None = None, report: bool = False,
           inject_bug: str | None = None, require_coverage: bool = False, soak: float | None = None,
           status=None) -> dict:
    """Build the RTL of an array, simulate it for `steps` timesteps (default 500) and check every state update.

    spec: a TOML file or an ArraySpec (default: a random array of `neurons`, 64, that exercises every rule);
    lanes: parallel lanes (default 2, or the spec's); seed: the random array's and the stimulus's seed;
    sim: "verilator" or "icarus"; waves: write a waveform file; backpressure: probability per cycle that a
    back-pressure burst starts on each stream (default 0.02); out: results folder (summary.json, sim/, with
    report=True report.html); inject_bug: a deliberately wrong datapath or array (tests of the harness);
    require_coverage: a run that misses a coverage bin fails (by default it is reported, not failed);
    soak: seconds of seeded random arrays and networks verified one after another instead of one run (`soak`
    below; the options that describe one run are refused beside it).

    Returns the summary (`passed`, `bit_exact_mismatches`, `updates_checked`, ...; docs/verify.md).
    """
    from lapicque.sim.verify import DEFAULT_BACKPRESSURE
    from lapicque.sim.verify import verify as verify_rtl

    if soak is not None:
        given = {"spec": spec, "neurons": neurons, "lanes": lanes, "steps": steps, "waves": waves,
                 "backpressure": backpressure, "require_coverage": require_coverage, "report": report}
        named = [name for name, value in given.items() if value is not None and value is not False]
        if named:
            raise LapicqueError(f"--{named[0].replace('_', '-')} describes one run; a soak draws its own arrays and "
                                "networks: leave it out with --soak")
        return _soak_job(soak=soak, seed=seed, sim=sim, out=out, inject_bug=inject_bug, status=status)
    steps = DEFAULT_STEPS if steps is None else steps
    checked_bug(inject_bug)
    array = array_spec(spec, neurons, lanes, seed)
    backpressure = DEFAULT_BACKPRESSURE if backpressure is None else backpressure
    with output_folder(out, "verify", report) as folder:
        summary = verify_rtl(array, steps, folder, seed=seed, sim=sim, waves=waves, backpressure=backpressure,
                             inject_bug=inject_bug, require_coverage=require_coverage, status=status)
    if report:  # once the run is complete: the report refuses a folder whose run is not
        write_run_report(folder)
    return summary


def soak(*, soak: float, seed: int = 0, sim: str = "verilator", out: Path | str | None = None,
         inject_bug: str | None = None, case_updates: int | None = None, status=None) -> dict:
    """Verify seeded random arrays and networks one after another for `soak` seconds, every update checked
    (`lapicque verify --soak DURATION`; lapicque.sim.soak says what the cases are).

    seed: the soak's seed (case k is the same for the same seed); sim: "verilator" or "icarus"; out: results folder
    (summary.json, cases.jsonl, on a failure reproducer/ and the failing case's folder under cases/); inject_bug:
    a deliberately wrong datapath or array in every case (arrays only; tests of the soak); case_updates: the
    updates a case aims at (default 2,000,000).

    A mismatch stops the soak: the summary's `reproducer` holds the command that replays the failing case.
    Returns the summary (`passed`, `cases`, `updates_checked`, `bit_exact_mismatches`, `updates_by_kind`, ...).
    """
    import math

    from lapicque.sim import runner
    from lapicque.sim.soak import CASE_UPDATES
    from lapicque.sim.soak import soak as run_soak

    if isinstance(soak, bool) or not (isinstance(soak, int | float) and math.isfinite(soak) and soak > 0):
        raise LapicqueError(f"--soak {soak!r} is not a duration; give seconds above 0, or a time such as 90s, 10m, 8h")
    checked_bug(inject_bug)
    case_updates = CASE_UPDATES if case_updates is None else case_updates
    if isinstance(case_updates, bool) or not isinstance(case_updates, int) or case_updates < 1:
        raise LapicqueError(f"case_updates = {case_updates!r} must be a whole number of at least 1")
    reason = runner.simulator_missing(sim)
    if reason:
        raise LapicqueError(reason)
    with output_folder(out, "verify") as folder:
        return run_soak(float(soak), folder, seed=seed, sim=sim, inject_bug=inject_bug, case_updates=case_updates,
                        status=status)


_soak_job = soak  # for `verify(soak=...)`, whose parameter hides the function's name
