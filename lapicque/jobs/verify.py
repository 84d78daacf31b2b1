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


def verify(*, spec: Path | str | ArraySpec | None = None, neurons: int | None = None, lanes: int | None = None,
           steps: int = 500, seed: int = 0, sim: str = "verilator", waves: bool = False,
           backpressure: float | None = None, out: Path | str | None = None, report: bool = False,
           inject_bug: str | None = None, require_coverage: bool = False, status=None) -> dict:
    """Build the RTL of an array, simulate it for `steps` timesteps and check every state update.

    spec: a TOML file or an ArraySpec (default: a random array of `neurons`, 64, that exercises every rule);
    lanes: parallel lanes (default 2, or the spec's); seed: the random array's and the stimulus's seed;
    sim: "verilator" or "icarus"; waves: write a waveform file; backpressure: probability per cycle that a
    back-pressure burst starts on each stream (default 0.02); out: results folder (summary.json, sim/, with
    report=True report.html); inject_bug: a deliberately wrong datapath or array (tests of the harness);
    require_coverage: a run that misses a coverage bin fails (by default it is reported, not failed).

    Returns the summary (`passed`, `bit_exact_mismatches`, `updates_checked`, ...; docs/verify.md).
    """
    from lapicque.hdl.array import BUGS as ARRAY_BUGS
    from lapicque.hdl.datapath import BUGS as DATAPATH_BUGS
    from lapicque.sim.verify import DEFAULT_BACKPRESSURE
    from lapicque.sim.verify import verify as verify_rtl

    bugs = DATAPATH_BUGS + ARRAY_BUGS
    if inject_bug is not None and inject_bug not in bugs:
        raise LapicqueError(f"--inject-bug must be one of {', '.join(bugs)}")
    array = array_spec(spec, neurons, lanes, seed)
    backpressure = DEFAULT_BACKPRESSURE if backpressure is None else backpressure
    with output_folder(out, "verify", report) as folder:
        summary = verify_rtl(array, steps, folder, seed=seed, sim=sim, waves=waves, backpressure=backpressure,
                             inject_bug=inject_bug, require_coverage=require_coverage, status=status)
    if report:  # once the run is complete: the report refuses a folder whose run is not
        write_run_report(folder)
    return summary
