"""`lapicque build` folders: timing against the clock and every resource within the device."""

from __future__ import annotations

from ..sections import COLORS, Check, Run, Section, provenance_rows

FILE = "report.json"


def matches(data: dict) -> bool:
    return {"fmax_mhz", "resources"} <= data.keys() and "network" not in data  # a network's: network_build


def timing_and_resources(r: dict) -> list[Check]:
    """Fmax against the clock, and every resource within the device (an array's build and a network's)."""
    over = [name for name, u in r["resources"].items() if u["available"] and u["used"] > u["available"]]
    return [Check.at_least("fmax_mhz", "Fmax against the clock (MHz)", r["fmax_mhz"], r["clock_mhz"]),
            Check("resources", "every resource within the device",
                  "over: " + ", ".join(over) if over else "all within", "<= available", not over)]


def section(run: Run) -> Section:
    from lapicque.plots import figure

    r = run.data
    sec = Section(run)
    sec.checks += timing_and_resources(r)
    sec.numbers = {k: r[k] for k in ("fmax_mhz", "clock_mhz", "neuron_updates_per_s", "synaptic_events_per_s")}
    for name, u in r["resources"].items():
        sec.numbers[f"{name}_used"] = u["used"]
    sec.config = [("board", f"{r['board']} ({r['device']})"),
                  ("array", f"{r['neurons']} neurons x {r['lanes']} lane(s), {r['weight_bits']}-bit weights"),
                  ("clock", f"target {r['clock_target_mhz']} MHz, PLL {r['clock_mhz']} MHz"),
                  ("memories", ", ".join(f"{k} in {v}" for k, v in sorted(r.get("memories", {}).items()))),
                  ("tools", ", ".join(f"{k} {v}" for k, v in r.get("tool_versions", {}).items() if k != "yosys")),
                  ("bitstream", str(r.get("bitstream")))]
    sec.config += provenance_rows(r.get("provenance"))
    fig, (ax1, ax2) = figure(9, 3.0, 2)
    names = list(r["resources"])
    used = [100 * r["resources"][n]["used"] / max(r["resources"][n]["available"], 1) for n in names]
    ax1.barh(names, used, color=["#d62728" if u > 100 else COLORS["float"] for u in used])
    ax1.axvline(100, color="grey", lw=0.8, ls=":")
    for y, (n, u) in enumerate(zip(names, used, strict=True)):
        ax1.text(min(u, 100) + 1, y, f"{r['resources'][n]['used']}/{r['resources'][n]['available']}", va="center",
                 fontsize=7)
    ax1.set_xlim(0, 130)
    ax1.set_xlabel("% of the device")
    ax1.set_title("resources used against available", fontsize=9)
    met = sec.checks[0].passed
    ax2.bar(["clock", "Fmax"], [r["clock_mhz"], r["fmax_mhz"]],
            color=["grey", COLORS["rtl"] if met else COLORS["bound"]])
    ax2.set_ylabel("MHz")
    ax2.set_title(f"Fmax against the clock; {r['neuron_updates_per_s'] / 1e6:.1f} M updates/s, "
                  f"{r['synaptic_events_per_s'] / 1e6:.1f} M events/s", fontsize=9)
    sec.add_figure("Resources and timing", fig)
    return sec
