"""`lapicque prove` folders: every property's verdict, and a failure's counterexample."""

from __future__ import annotations

from ..sections import COLORS, Check, Run, Section, provenance_rows

FILE = "summary.json"


def matches(data: dict) -> bool:
    return {"properties", "assumptions", "solver"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    for k, p in enumerate(s["properties"]):
        # the verdict is the status shown: a property holds only when its proof passed
        sec.checks.append(Check(f"property_{k}", f"{p['name']} ({p['kind']}, depth {p['depth']})", p["status"],
                                "= pass", p["status"] == "pass"))
    sec.numbers = {"properties": len(s["properties"]), **{f"{k}_count": v for k, v in s["counts"].items()},
                   "wall_s": s["wall_s"]}
    spec = s["spec"]
    sec.config = [("array", f"{spec['neurons']} neurons x {spec['lanes']} lane(s), rounding {spec['rounding']}, "
                            f"weight exponent {spec['weight_exponent']}"),
                  ("widths of the spec", ", ".join(f"{k} {v}" for k, v in spec["widths"].items())),
                  ("latencies", s["latencies"]), ("also at the spec's widths", str(s["full_widths"]).lower()),
                  ("solver", s["solver"])]
    sec.config += [(f"assumed ({k + 1})", text) for k, text in enumerate(s["assumptions"])]
    sec.config += provenance_rows(s.get("provenance"))
    sec.extra["properties"] = [{"name": p["name"], "description": p["description"], "status": p["status"],
                                "seconds": f"{p['seconds']:.1f}", "log": p["log"]} for p in s["properties"]]
    failures = [p for p in s["properties"] if p.get("counterexample")]
    sec.extra["counterexamples"] = [{"name": p["name"], "vcd": p["counterexample_vcd"], **p["counterexample"]}
                                    for p in failures]
    for p in failures:
        if all(isinstance(o["expected"], int) for o in p["counterexample"]["outputs"]):
            add_counterexample_figure(sec, p)
    return sec


def add_counterexample_figure(sec: Section, prop: dict) -> None:
    """The failing check: the expected value of every signal (the contract's, or the shadow's) beside the RTL's."""
    from lapicque.plots import figure

    outputs = prop["counterexample"]["outputs"]
    fig, ax = figure(9, 2.8)
    names = [o["signal"].removeprefix("update.") for o in outputs]
    x = range(len(names))
    ax.bar([k - 0.2 for k in x], [o["expected"] for o in outputs], width=0.4, color=COLORS["float"],
           label="expected (contract, shadow)")
    ax.bar([k + 0.2 for k in x], [o["got"] for o in outputs], width=0.4,
           color=[COLORS["bound"] if o["expected"] != o["got"] else COLORS["rtl"] for o in outputs], label="RTL")
    ax.set_xticks(list(x), names, fontsize=8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.legend(fontsize=7)
    ax.set_title(f"counterexample, step {prop['counterexample']['step']}: differs in "
                 + ", ".join(d.removeprefix("update.") for d in prop["counterexample"]["differs"]), fontsize=9)
    sec.add_figure(f"Counterexample: {prop['name']}", fig)
