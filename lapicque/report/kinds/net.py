"""`lapicque net` runs: the network's rates, regularity and synchrony, and its raster."""

from __future__ import annotations

from ..sections import Check, Run, Section, provenance_rows, shown

FILE = "summary.json"


def matches(data: dict) -> bool:
    return {"network", "synapses", "mean_rate_hz"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    sec.checks.append(Check.at_least("mean_rate_hz", "mean rate is a number (Hz)", s["mean_rate_hz"], 0))
    if "rtl" in s:  # the network core in a simulator: each verdict from the value it shows
        r = s["rtl"]
        sec.checks += [
            Check.equals("rtl.bit_exact_mismatches", "every RTL update equals the fixed model's",
                         r["bit_exact_mismatches"], 0),
            Check.equals("rtl.history_overflow", "no spike history overran", r["history_overflow"], False),
            Check.equals("rtl.cycles", f"the run took the core's formula's {r['cycles_expected']:,} cycles",
                         r["cycles"], r["cycles_expected"]),
            Check.at_least("rtl.updates_checked", "every update of every step was checked", r["updates_checked"],
                           r["steps"] * s["neurons"]),
        ]
        if "lost_beats" in r:  # runs since the core's monitor is collected wide (older summaries lack them)
            sec.checks += [
                Check.equals("rtl.lost_beats", "the testbench read every transfer of the monitor", r["lost_beats"],
                             False),
                Check.equals("rtl.steps_cycles_differing", "every step took the replay's cycles",
                             r["steps_cycles_differing"], 0),
            ]
    sec.numbers = {k: s[k] for k in ("neurons", "synapses", "duration_s", "dt_ms", "spikes", "mean_rate_hz",
                                     "mean_cv", "synchrony", "wall_s") if s.get(k) is not None}
    populations = "".join(f", {name} {size}" for name, size in s.get("populations", {}).items())
    sec.config = [("network", f"{s['network']}: {s['neurons']} neurons{populations}, {s['synapses']:,} synapses"),
                  ("backend", s.get("backend", "float") + (f", widths {s['widths']}" if "widths" in s else "")),
                  ("time", f"{s['duration_s']:g} s at dt {s['dt_ms']:g} ms"), ("seed", str(s["seed"])),
                  ("connectivity", s.get("connectivity", "random")
                   + (f" (realised p {s['realised_p']:.6g})" if "realised_p" in s else "")),
                  ("activity", f"{s['spikes']:,} spikes, mean rate {shown(s['mean_rate_hz'])} Hz, mean CV "
                               f"{shown(s['mean_cv'])} ({s['neurons_with_cv']} neurons with a CV), synchrony "
                               f"{shown(s['synchrony'])}"),
                  ("simulated in", f"{s['wall_s']:.2f} s")]
    for name, entry in s.get("mapping", {}).items():  # the physical quantities the codes realise
        sec.config.append((f"codes: {name}", f"{entry['target']:g} -> {entry['realised']:.6g} "
                                             f"({100 * entry['relative_error']:+.3f} %)"))
    if "rtl" in s:
        r = s["rtl"]
        bound = ("" if r.get("cycles_bound_per_step") is None else
                 f" (bound max(N / lanes, fan-out / lanes) + latency: {r['cycles_bound_per_step']:.1f})")
        sec.config.append(("RTL", f"{r['simulator']}, {r.get('core', 'parallel')} core, {r['lanes']} lanes: "
                                  f"{r['cycles_per_step']:.1f} cycles per step{bound}"))
    if "saturated_updates" in s:
        sec.config.append(("saturated updates", f"{s['saturated_updates']:,}"))
    sec.config += provenance_rows(s.get("provenance"))
    sec.add_png("Raster, population rate, interspike intervals and the population spectrum",
                run.folder / "raster.png")
    return sec
