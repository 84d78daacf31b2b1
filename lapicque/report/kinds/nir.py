"""`lapicque nir import` runs: each parameter's NIR value against the value the codes realise, every semantic
difference, the models' output spikes against each other, and the RTL's verdict when it ran."""

from __future__ import annotations

from ..sections import Check, Run, Section, provenance_rows, shown

FILE = "summary.json"


def matches(data: dict) -> bool:
    return data.get("kind") == "nir-import"


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    sec.checks.append(Check.at_least("worst_relative_error", "worst relative quantisation error of a parameter is a "
                                     "number", s["worst_relative_error"], 0))
    if "saturated_updates" in s:  # NIR's membrane is unbounded: a clamped update is a departure from the graph
        sec.checks.append(Check.at_most("saturated_updates", "updates the fixed model clamped to the widths",
                                        s["saturated_updates"], 0))
    if "rtl" in s:
        rtl = s["rtl"]
        sec.checks.append(Check.at_most("bit_exact_mismatches", "RTL updates that differ from the fixed model",
                                        rtl["bit_exact_mismatches"], 0))
        sec.checks.append(Check.at_most("float_bound_violations", "RTL updates beyond the float bound",
                                        rtl["float_bound_violations"], 0))
        sec.checks.append(Check.equals("spikes_identical_to_fixed", "RTL spikes identical to the fixed model's",
                                       rtl["spikes_identical_to_fixed"], True))
    agreement = s.get("agreement", {})
    sec.numbers = {"neurons": s["neurons"], "latency_steps": s["latency_steps"],
                   "worst_relative_error": s["worst_relative_error"]}
    for pair, figures in agreement.items():
        sec.numbers[f"{pair}_coincident"] = figures["coincident_all"]
    populations = ", ".join(f"{p['node']} ({p['type']}, {p['neurons']} neurons from {p['first']}, depth "
                            f"{p['depth']}, LSB {shown(p['lsb'])})" for p in s["populations"])
    sec.config = [("graph", s["graph"]), ("time", f"dt = {shown(s['dt'])} s, {s['discretisation']}"),
                  ("array", f"{s['neurons']} neurons x {s['lanes']} lanes, widths {s['widths']}, weight exponent "
                            f"{s['weight_exponent']}"),
                  ("populations", populations), ("inputs and outputs", f"{s['inputs']} inputs, {s['outputs']} outputs")]
    for pair, figures in agreement.items():
        first, second = figures["counts"]
        sec.config.append((pair.replace("_", " "), f"{shown(figures['coincident_all'])} of output spikes within one "
                                                   f"step; spikes {sum(first)} against {sum(second)}"))
    sec.config += provenance_rows(s.get("provenance"))
    sec.extra = {"parameters": s["parameters"], "differences": s["differences"]}
    return sec
