"""Prove an array's datapath equal to the neuron contract for every input (SymbiYosys, Boolector)."""

from __future__ import annotations

from pathlib import Path

from lapicque.spec import ArraySpec

from .folders import output_folder, write_run_report
from .verify import array_spec

DEFAULT_NEURONS, DEFAULT_LANES = 8, 2


def prove(*, spec: Path | str | ArraySpec | None = None, neurons: int | None = None, lanes: int | None = None,
          latencies: str = "array", full_widths: bool = False, timeout: float | None = None,
          out: Path | str | None = None, report: bool = False, inject_bug: str | None = None,
          swap_rounding: bool = False, status=None) -> dict:
    """Prove that the RTL datapath computes the contract's update for every state, parameter and input.

    spec: a TOML file or an ArraySpec (default: `neurons` x `lanes`, 8 x 2; what the proofs depend on is the
    rounding, the weight exponent and the widths); latencies: "array" (the combinational datapath and the
    array's own pipeline) or "all" (every latency 1..7 too); full_widths: also prove at the spec's own widths
    (minutes each), besides the reduced ones; timeout: seconds per property (then its status is unknown);
    out: results folder (summary.json, jobs/ with every SymbiYosys run, report.html with report=True);
    inject_bug, swap_rounding: a deliberately wrong datapath, for the proofs' own tests.

    Returns the summary (`passed`, `properties` with name, kind, status, depth, seconds and a failure's
    counterexample; docs/prove.md).
    """
    from lapicque.formal.prove import check_request
    from lapicque.formal.prove import prove as prove_datapath

    check_request(latencies, inject_bug, timeout)
    array = array_spec(spec, neurons if neurons is not None or spec is not None else DEFAULT_NEURONS,
                       lanes if lanes is not None or spec is not None else DEFAULT_LANES, seed=0)
    with output_folder(out, "prove", report) as folder:
        summary = prove_datapath(array, folder, latencies=latencies, full_widths=full_widths, inject_bug=inject_bug,
                                 swap_rounding=swap_rounding, timeout=timeout, status=status)
    if report:
        write_run_report(folder)
    return summary
