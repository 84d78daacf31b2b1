"""`lapicque fit` runs: held-out spike prediction, the parameters against the truth when it is known."""

from __future__ import annotations

from ..sections import Check, Run, Section, provenance_rows, shown

FILE = "summary.json"
STDERRS = 4.0  # a fitted parameter further than this many standard errors from the truth fails


def matches(data: dict) -> bool:
    return {"coincidence_factor", "export", "params"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    label = f"held-out coincidence factor (+-{s['coincidence_window_ms']:g} ms; 0 is chance)"
    sec.checks.append(Check.above("coincidence_factor", label, s["coincidence_factor"], 0))
    true = s.get("true") or {}
    compared = [k for k in s["stderr"] if k in true]
    if compared:
        off = [k for k in compared if not abs(s["params"][k] - true[k]) <= STDERRS * s["stderr"][k]]
        within = len(compared) - len(off)
        shown_value = f"{within} of {len(compared)}" + (f" (off: {', '.join(off)})" if off else "")
        sec.checks.append(Check("parameters_within_stderr",
                                f"fitted parameters within {STDERRS:g} standard errors of the truth", shown_value,
                                f"{len(compared)} of {len(compared)}", not off))
    sec.numbers = {k: s[k] for k in ("coincidence_factor", "intrinsic_coincidence_factor", "variance_explained_v",
                                     "variance_explained_dvdt", "spikes_fitted", "duration_s") if s.get(k) is not None}
    worst, error = s["export"]["worst_error"]
    sec.config = [("model", s["model"]), ("recording", f"{s['source']}: {s['duration_s']:g} s at {s['dt_ms']:g} ms, "
                                                       f"{s['held_out_s']:g} s held out"),
                  ("parameters", ", ".join(parameter_text(s, k, v, true) for k, v in s["params"].items()
                                           if not isinstance(v, dict))),
                  ("true model's own coincidence factor", shown(s.get("intrinsic_coincidence_factor"))),
                  ("on the array", f"{len(s['export']['codes'])} codes, worst quantisation error {error:+.2%} "
                                   f"({worst}); dropped: {s['export']['dropped']}")]
    sec.config += provenance_rows(s.get("provenance"))
    sec.add_png("Kernels, and the held-out recording against the model", run.folder / "fit.png")
    return sec


def parameter_text(s: dict, name: str, value, true: dict) -> str:
    text = f"{name} {shown(value)}"
    if name in s["stderr"]:
        text += f" +- {shown(s['stderr'][name])}"
    if name in true:
        text += f" (true {shown(true[name])})"
    return text
