"""Prove the RTL equal to the neuron contract (SymbiYosys, Boolector): the datapath for every input, the stream
converters for every run, a small whole array step by step."""

from __future__ import annotations

from pathlib import Path

from lapicque.spec import ArraySpec

from .folders import output_folder, write_run_report
from .verify import array_spec

DEFAULT_NEURONS, DEFAULT_LANES = 8, 2


def prove(*, spec: Path | str | ArraySpec | None = None, neurons: int | None = None, lanes: int | None = None,
          latencies: str = "array", full_widths: bool = False, timeout: float | None = None,
          out: Path | str | None = None, report: bool = False, inject_bug: str | None = None,
          swap_rounding: bool = False, parts: tuple[str, ...] | None = None, status=None) -> dict:
    """Prove that the RTL datapath computes the contract's update for every state, parameter and input.

    spec: a TOML file or an ArraySpec (default: `neurons` x `lanes`, 8 x 2; what the proofs depend on is the
    rounding, the weight exponent and the widths); latencies: "array" (the combinational datapath and the
    array's own pipeline) or "all" (every latency 1..7 too); full_widths: also prove at the spec's own widths
    (minutes each), besides the reduced ones; timeout: seconds per property (then its status is unknown);
    out: results folder (summary.json, jobs/ with every SymbiYosys run, report.html with report=True);
    parts: which of "datapath" (the datapath = the contract), "streams" (the width converters lose, duplicate
    and reorder nothing) and "array" (a small whole array, step by step) to prove (default all);
    inject_bug, swap_rounding: a deliberately wrong datapath, converter or array, for the proofs' own tests.

    Returns the summary (`passed`, `properties` with name, kind, status, depth, seconds and a failure's
    counterexample; docs/prove.md).
    """
    from lapicque.formal.prove import PARTS, check_request
    from lapicque.formal.prove import prove as prove_datapath

    parts = tuple(parts) if parts is not None else PARTS
    check_request(latencies, inject_bug, timeout, parts)
    array = array_spec(spec, neurons if neurons is not None or spec is not None else DEFAULT_NEURONS,
                       lanes if lanes is not None or spec is not None else DEFAULT_LANES, seed=0)
    with output_folder(out, "prove", report) as folder:
        summary = prove_datapath(array, folder, latencies=latencies, full_widths=full_widths, inject_bug=inject_bug,
                                 swap_rounding=swap_rounding, timeout=timeout, parts=parts, status=status)
    if report:
        write_run_report(folder)
    return summary
