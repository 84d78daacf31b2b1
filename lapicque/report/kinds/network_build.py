"""`lapicque build --network` folders: timing against the clock, every resource within the device, and the
network's speed against biological time."""

from __future__ import annotations

from ..sections import Check, Run, Section, provenance_rows
from .build import timing_and_resources

FILE = "report.json"


def matches(data: dict) -> bool:
    return {"fmax_mhz", "resources", "network", "realtime_factor"} <= data.keys()


def section(run: Run) -> Section:
    r = run.data
    sec = Section(run)
    sec.checks += timing_and_resources(r)
    sec.checks.append(Check.above("realtime_factor", "runs (steps x dt per second of wall time)",
                                  r["realtime_factor"], 0))
    sec.numbers = {k: r[k] for k in ("fmax_mhz", "clock_mhz", "cycles_per_step", "timesteps_per_s",
                                     "realtime_factor", "neurons", "synapses")}
    for name, u in r["resources"].items():
        sec.numbers[f"{name}_used"] = u["used"]
    regenerated = ", ".join(r.get("regenerated_projections", [])) or "none"
    populations = ", ".join(f"{name} {size}" for name, size in r["populations"].items())
    sec.config = [("board", f"{r['board']} ({r['device']})"),
                  ("network", f"{r['network']}: {r['neurons']} neurons ({populations}), {r['synapses']:,} synapses, "
                              f"{r['lanes']} lane(s); rows regenerated: {regenerated}"),
                  ("core", r.get("core", "parallel")  # (folders from before the serial core have no key)
                   + (f"; spike history {r['history_entries']:,} entries (worst case {r['history_worst_case']:,})"
                      if "history_entries" in r else "")),
                  ("clock", f"target {r['clock_target_mhz']} MHz, PLL {r['clock_mhz']} MHz"),
                  ("speed", f"{r['cycles_per_step']:g} cycles per step (the core's replay over "
                            f"{r['steps_simulated']} steps of the fixed model, {r['spikes_per_step']:g} spikes per "
                            f"step): {r['timesteps_per_s']:,.0f} steps/s, {r['realtime_factor']:g} x real time at "
                            f"dt {r['dt_ms']:g} ms"),
                  ("memories", ", ".join(f"{k} in {v}" for k, v in sorted(r.get("memories", {}).items()))),
                  ("tools", ", ".join(f"{k} {v}" for k, v in r.get("tool_versions", {}).items() if k != "yosys")),
                  ("bitstream", str(r.get("bitstream")))]
    sec.config += provenance_rows(r.get("provenance"))
    return sec
