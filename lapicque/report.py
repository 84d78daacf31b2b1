"""The verification report: one self-contained HTML page per run, or several runs side by side.

`lapicque verify/lca/build/tem --report` and `lapicque report RUN... --out FILE` call `write_report`.
The page has a verdict (every check with its number and bound), the configuration and provenance,
and matplotlib figures embedded as PNG data; it needs no network and no other file. Each check row
carries its numbers as data attributes (`data-check`, `data-value`, `data-bound`, `data-passed`)
so that tests and scripts read them without parsing prose.

What a run folder holds decides its kind: `summary.json` with `updates_checked` (verify), with
`objective_opt` (lca), with `snr_db` and `recoverable` (tem), or `report.json` with `fmax_mhz` (build).
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import LapicqueError
from .files import write_atomic
from .plots import figure, png_bytes

KINDS = ("verify", "lca", "build", "tem")
COLORS = {"float": "#1f77b4", "fixed": "#ff7f0e", "rtl": "#2ca02c", "analog": "#9467bd", "bound": "#d62728"}


@dataclass
class Run:
    folder: Path
    kind: str
    data: dict

    @property
    def name(self) -> str:
        return self.folder.name or str(self.folder)


@dataclass
class Check:
    key: str
    label: str
    value: float | int | str
    bound: str
    passed: bool


@dataclass
class Section:
    """What a run contributes: checks for the verdict, configuration rows, headline numbers, figures."""

    run: Run
    checks: list[Check] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (title, base64 PNG)
    notes: list[str] = field(default_factory=list)  # HTML fragments

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


# -- loading runs ------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise LapicqueError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LapicqueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); re-run to rewrite it"
                            ) from None
    if not isinstance(value, dict):
        raise LapicqueError(f"{path} does not hold a JSON object; re-run to rewrite it")
    return value


def load_run(folder: Path) -> Run:
    """The run in `folder`, or a one-line LapicqueError saying why it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LapicqueError(f"run folder {folder} does not exist")
    summary, report = folder / "summary.json", folder / "report.json"
    if summary.exists():
        data = _read_json(summary)
        if "updates_checked" in data and "bit_exact_mismatches" in data and "steps" in data:
            return Run(folder, "verify", data)
        if "objective_opt" in data and "backend" in data:
            return Run(folder, "lca", data)
        if "snr_db" in data and "recoverable" in data:
            return Run(folder, "tem", data)
        raise LapicqueError(f"{summary} is not a verify, lca or tem summary; is {folder} a lapicque run folder?")
    if report.exists():
        data = _read_json(report)
        if "fmax_mhz" in data and "resources" in data:
            return Run(folder, "build", data)
        raise LapicqueError(f"{report} is not a build report; is {folder} a lapicque build folder?")
    raise LapicqueError(f"{folder} holds no summary.json or report.json; is it a lapicque run folder?")


# -- figures -----------------------------------------------------------------------------------------


def _png(fig) -> str:
    return base64.b64encode(png_bytes(fig)).decode("ascii")


# -- verify ------------------------------------------------------------------------------------------


def _verify_section(run: Run) -> Section:
    from lapicque.golden.neuron import ArrayModel, State, quantisation_bound
    from lapicque.sim.scoreboard import float_one_step
    from lapicque.sim.verify import cycles_lower_bound
    from lapicque.spec import ArraySpec

    s = run.data
    sec = Section(run)
    complete = s["updates_checked"] == s["neurons"] * s["steps"]
    sec.checks = [
        Check("bit_exact_mismatches", "bit-exact mismatches (RTL vs fixed model)", s["bit_exact_mismatches"], "= 0",
              s["bit_exact_mismatches"] == 0),
        Check("float_bound_violations", "float one-step bound violations", s["float_bound_violations"], "= 0",
              s["float_bound_violations"] == 0),
        Check("updates_checked", "updates checked", s["updates_checked"], f"= {s['neurons'] * s['steps']}", complete),
        Check("max_float_error_lsb", "largest float error (LSB)", round(s["max_float_error_lsb"], 4),
              f"< {s['float_bound_lsb']}" if s["float_bound_lsb"] else "= 0",
              s["float_bound_violations"] == 0),
    ]
    if s.get("timed_out"):
        sec.checks.append(Check("timed_out", "the RTL kept making progress", "timed out", "no time-out", False))
    sec.numbers = {"neurons": s["neurons"], "lanes": s["lanes"], "steps": s["steps"],
                   "updates_checked": s["updates_checked"], "bit_exact_mismatches": s["bit_exact_mismatches"],
                   "float_bound_violations": s["float_bound_violations"],
                   "max_float_error_lsb": s["max_float_error_lsb"], "cycles_per_step": s["cycles_per_step"],
                   "cycles_per_step_bound": s["cycles_per_step_bound"],
                   "coverage_hit_fraction": s["coverage_hit_fraction"]}

    sim = run.folder / "sim"
    config = _read_json(sim / "config.json") if (sim / "config.json").exists() else None
    spec = ArraySpec.from_dict(config["spec"]) if config else None
    sec.config = [("simulator", s["simulator"]), ("neurons x lanes", f"{s['neurons']} x {s['lanes']}"),
                  ("steps", str(s["steps"])), ("seed", str(s["seed"])), ("back-pressure", str(s.get("backpressure")))]
    if spec is not None:
        sec.config += _spec_rows(spec)
    sec.config += _provenance_rows(s.get("provenance"))
    first = s.get("first_mismatch")
    if first:
        sec.notes.append(_mismatch_note("first bit-exact mismatch", first))
    if s.get("first_float_violation"):
        sec.notes.append(_mismatch_note("first float bound violation", s["first_float_violation"]))

    traces_path = sim / "traces.npz"
    if spec is None or not traces_path.exists() or not (sim / "stimulus.npz").exists():
        sec.notes.append("<p>The simulator's traces are missing from this folder: figures left out.</p>")
        return sec
    traces = np.load(traces_path)
    stim = np.load(sim / "stimulus.npz")
    steps = len(traces["v"])
    if steps == 0:
        sec.notes.append("<p>No step completed: no traces to plot.</p>")
        return sec
    initial = State(*(stim[k].astype(np.int64) for k in ("v", "i", "ref", "pulse")))
    ext = stim["ext"][:steps].astype(np.int64)
    rtl = {k: traces[k] for k in ("v", "i", "ref", "pulse", "spike", "flags")}
    fixed = ArrayModel(spec, fixed=True, state=initial).run(ext)
    flt = ArrayModel(spec, fixed=False, state=initial).run(ext)
    t = np.arange(steps)

    # neurons to show: around the first mismatch, else the busiest ones
    if first and first.get("neuron") is not None and first.get("field") != "aer":
        chosen = [int(first["neuron"])]
        lo, hi = max(0, first["step"] - 25), min(steps, first["step"] + 25)
    else:
        chosen = [int(x) for x in np.argsort(-rtl["spike"].sum(axis=0), kind="stable")[:3]]
        lo, hi = 0, min(steps, 200)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.4 * len(chosen) + 0.6), layout="constrained")
    grid = fig.subplots(len(chosen), 2, squeeze=False)
    for row, n in enumerate(chosen):
        for col, name in enumerate(("v", "i")):
            ax = grid[row][col]
            ax.plot(t[lo:hi], flt[name][lo:hi, n], color=COLORS["float"], lw=1, label="float (free-running)")
            ax.plot(t[lo:hi], fixed[name][lo:hi, n], color=COLORS["fixed"], lw=2.2, alpha=0.6, label="fixed")
            ax.plot(t[lo:hi], rtl[name][lo:hi, n], color=COLORS["rtl"], lw=1, ls="--", label="RTL")
            if first and first.get("neuron") == n:
                ax.axvline(first["step"], color=COLORS["bound"], lw=1, label="first mismatch")
            ax.set_title(f"neuron {n}: {'membrane v' if name == 'v' else 'current i'} (codes)", fontsize=9)
            ax.set_xlabel("step")
    grid[0][0].legend(fontsize=7)
    sec.figures.append(("Membrane and current traces: float, fixed and RTL" +
                        (" around the first mismatch" if first else ""), _png(fig)))

    one = float_one_step(spec, initial, rtl, ext)
    bound = quantisation_bound(spec)
    fig, (ax1, ax2) = figure(9, 3.0, 2)
    ax1.plot(t, np.abs(one.d_v).max(axis=1), color=COLORS["rtl"], lw=1, label="|v error|, worst neuron")
    ax1.plot(t, np.abs(one.d_i).max(axis=1), color=COLORS["fixed"], lw=1, label="|i error|, worst neuron")
    ax1.axhline(max(bound["v"].max(initial=0), bound["i"].max(initial=0)), color=COLORS["bound"], ls="--",
                label="bound")
    ax1.set_xlabel("step")
    ax1.set_ylabel("LSB")
    ax1.legend(fontsize=7)
    ax1.set_title("one-step float error against its bound", fontsize=9)
    ax2.hist([one.d_v.ravel(), one.d_i.ravel()], bins=20, label=["v", "i"], color=[COLORS["rtl"], COLORS["fixed"]])
    ax2.set_yscale("log")
    ax2.set_xlabel("RTL - float after one step (LSB)")
    ax2.legend(fontsize=7)
    ax2.set_title("error histogram", fontsize=9)
    sec.figures.append(("Per-step float error against the analytic bound, and its histogram", _png(fig)))

    fig, (ax1, ax2) = figure(9, 3.4, 2)
    r_spk, f_spk = rtl["spike"].astype(bool), flt["spike"].astype(bool)
    window = slice(0, min(steps, 200))
    for spikes, color, label, marker in ((f_spk, COLORS["float"], "float (free-running)", "|"),
                                         (r_spk, COLORS["rtl"], "RTL", "|")):
        tt, nn = np.nonzero(spikes[window])
        ax1.scatter(tt, nn, s=8, marker=marker, color=color, label=label, alpha=0.7)
    tt, nn = np.nonzero((r_spk & f_spk)[window])
    ax1.scatter(tt, nn, s=14, marker="o", facecolors="none", edgecolors="k", lw=0.5, label="coincident")
    ax1.set_xlabel("step")
    ax1.set_ylabel("neuron")
    ax1.legend(fontsize=7, loc="upper right")
    ax1.set_title("spike raster, RTL vs free-running float", fontsize=9)
    ax2.scatter(f_spk.mean(axis=0), r_spk.mean(axis=0), s=10, color=COLORS["rtl"])
    top = max(f_spk.mean(axis=0).max(initial=0), r_spk.mean(axis=0).max(initial=0), 1e-3)
    ax2.plot([0, top], [0, top], color="grey", lw=0.8, ls=":")
    ax2.set_xlabel("float rate (spikes/step)")
    ax2.set_ylabel("RTL rate (spikes/step)")
    ax2.set_title(f"firing rates (coincidence {s['free_running'].get('coincidence', float('nan')):.3f})", fontsize=9)
    sec.figures.append(("Spike raster with coincidences, and firing-rate agreement", _png(fig)))

    fig, (ax1, ax2) = figure(9, 3.2, 2)
    names = list(s["coverage"])
    counts = [s["coverage"][n] for n in names]
    ax1.barh(names, [max(c, 0.8) for c in counts], color=["#2ca02c" if c else "#d62728" for c in counts])
    ax1.set_xscale("log")
    ax1.tick_params(axis="y", labelsize=7)
    ax1.set_title(f"coverage: {sum(1 for c in counts if c)}/{len(counts)} bins hit (red: missed)", fontsize=9)
    ends = traces["step_end_cycle"] if "step_end_cycle" in traces.files else np.zeros(0)
    if len(ends) > 1:
        per_step = np.diff(ends.astype(np.int64))
        spikes_per_step = r_spk.sum(axis=1)
        lower = [cycles_lower_bound(spec, [x]) for x in spikes_per_step[:-1]]
        ax2.plot(np.arange(1, steps), per_step, color=COLORS["rtl"], lw=1, label="RTL")
        ax2.plot(np.arange(1, steps), lower, color=COLORS["bound"], lw=1, ls="--", label="lower bound")
        ax2.legend(fontsize=7)
    ax2.set_xlabel("step")
    ax2.set_ylabel("cycles")
    ax2.set_title(f"cycles per step: mean {s['cycles_per_step']:.1f}, bound {s['cycles_per_step_bound']:.1f}",
                  fontsize=9)
    sec.figures.append(("Coverage bins, and cycles per timestep against the lower bound", _png(fig)))
    return sec


def _mismatch_note(title: str, m: dict) -> str:
    return (f"<p class='mismatch'><b>{html.escape(title)}</b>: step {m['step']}, neuron {m['neuron']}, field "
            f"<code>{html.escape(str(m['field']))}</code>: expected <b>{m['expected']}</b>, got <b>{m['got']}</b></p>")


def _spec_rows(spec) -> list[tuple[str, str]]:
    from lapicque.spec import LEAK_MODES, RESET_MODES

    w = spec.widths
    p = spec.params
    rows = [("widths (bits)", f"v {w.v}, i {w.i}, w {w.w}, bias {w.bias}, ext {w.ext}, refractory {w.refractory}")]
    rows.append(("leak modes", ", ".join(f"{name} {int(np.sum(p['leak_mode'] == k))}"
                                        for k, name in enumerate(LEAK_MODES))))
    rows.append(("reset modes", ", ".join(f"{name} {int(np.sum(p['reset_mode'] == k))}"
                                         for k, name in enumerate(RESET_MODES))))
    rows.append(("hysteresis neurons", str(int(np.sum(p["hysteresis"] == 1)))))
    for name in ("bias", "theta_hi", "decay", "leak", "refractory"):
        rows.append((f"{name} (codes)", f"{int(p[name].min())} .. {int(p[name].max())}"))
    rows.append(("weights", f"{int(np.count_nonzero(spec.weights))} nonzero, "
                            f"{int(spec.weights.min())} .. {int(spec.weights.max())}"))
    return rows


def _provenance_rows(prov: dict | None) -> list[tuple[str, str]]:
    if not prov:
        return [("provenance", "not recorded by this run")]
    packages = ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v)
    return [("lapicque", f"{prov.get('lapicque')} (commit {prov.get('git_commit')})"), ("date", prov.get("date", "")),
            ("python", prov.get("python", "")), ("packages", packages)]


# -- lca ---------------------------------------------------------------------------------------------


def _lca_section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    gap_bound = 0.01
    sec.checks.append(Check("rel_gap", f"relative objective gap ({s['backend']})", _sig(s["rel_gap"]),
                            f"<= {gap_bound}", s["rel_gap"] <= gap_bound))
    sec.checks.append(Check("steps_to_1pct_gap", "steps to a 1 % gap", s["steps_to_1pct_gap"] or "never",
                            f"<= {s['timesteps']}", s["steps_to_1pct_gap"] is not None))
    if s["backend"] == "rtl":
        sec.checks.append(Check("bit_exact_mismatches", "RTL bit-exact mismatches while solving",
                                s["bit_exact_mismatches"], "= 0", s["bit_exact_mismatches"] == 0))
        sec.checks.append(Check("rtl_spikes_equal_fixed", "RTL spikes equal the fixed model's",
                                str(s["rtl_spikes_equal_fixed"]).lower(), "true", bool(s["rtl_spikes_equal_fixed"])))
    sec.numbers = {k: s[k] for k in ("objective", "objective_opt", "rel_gap", "rel_recon_error", "support_precision",
                                     "support_recall", "spikes") if s.get(k) is not None}
    if s.get("steps_to_1pct_gap") is not None:
        sec.numbers["steps_to_1pct_gap"] = s["steps_to_1pct_gap"]
    if "cycles" in s:
        sec.numbers["cycles"] = s["cycles"]
    q = s.get("quantisation", {})
    sec.numbers = {"timesteps": s["timesteps"], "weight_bits": q.get("weight_bits"), **sec.numbers}
    sec.config = [("problem", f"{s['problem']}: {s['atoms']} atoms, dim {s['dim']}, lam {s['lam']:g}"
                              f"{', nonnegative' if s.get('nonnegative') else ''}"),
                  ("backend", s["backend"]), ("timesteps", str(s["timesteps"])),
                  ("neurons", f"{s['neurons']} ({'signed pairs' if s.get('signed_pairs') else 'one per atom'}), "
                              f"{s.get('lanes', 1)} lane(s)"),
                  ("weight bits, theta, scale", f"{q.get('weight_bits')}, {q.get('theta')}, {_sig(q.get('scale'))}"),
                  ("widths (bits)", ", ".join(f"{k} {v}" for k, v in q.get("widths", {}).items())),
                  ("rounding in problem units", f"G to {_sig(q.get('max_weight_error_in_gram'))}, drive to "
                                                f"{_sig(q.get('max_bias_error_in_coefficient'))}"),
                  ("reference", f"{s['reference_solver']}, {s['reference_wall_s'] * 1e3:.1f} ms, duality gap "
                                f"{_sig(s.get('reference_duality_gap'))}"), ("seed", str(s.get("seed")))]
    sec.config += _provenance_rows(s.get("provenance"))
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{_sig(r['objective'])}</td><td>{_sig(r['rel_gap'])}</td>"
                   f"<td>{r['rel_recon_error']:.3f}</td><td>{r['support_precision']:.2f} / {r['support_recall']:.2f}"
                   f"</td><td>{r['steps_to_1pct_gap'] if r['steps_to_1pct_gap'] is not None else 'never'}</td></tr>"
                   for name, r in s["runs"].items())
    sec.notes.append("<table class='runs'><tr><th>model run</th><th>objective</th><th>relative gap</th>"
                     "<th>recon error</th><th>support P / R</th><th>steps to 1 %</th></tr>" + rows + "</table>")

    curves_path = run.folder / "curves.npz"
    if not curves_path.exists():
        sec.notes.append("<p>curves.npz is missing from this folder: figures left out.</p>")
        return sec
    curves = np.load(curves_path)
    fig, ax = figure(8, 3.2)
    for name in s["runs"]:
        key = f"gap_{name}"
        if key in curves.files:
            gap = np.maximum(curves[key], 1e-12)
            ax.plot(np.arange(1, len(gap) + 1), gap, color=COLORS.get(name), lw=1.4 if name == "rtl" else 1,
                    ls="--" if name == "rtl" else "-", label=name)
    ax.axhline(0.01, color="grey", ls=":", lw=0.8, label="1 %")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("timestep")
    ax.set_ylabel("relative objective gap")
    ax.legend(fontsize=7)
    sec.figures.append(("Relative gap against timesteps", _png(fig)))

    code = np.load(run.folder / "coefficients.npy") if (run.folder / "coefficients.npy").exists() else None
    optimum = np.load(run.folder / "optimum.npy") if (run.folder / "optimum.npy").exists() else None
    if code is not None and optimum is not None:
        fig, (ax1, ax2) = figure(9, 3.0, 2)
        k = np.arange(len(optimum))
        ax1.vlines(k, 0, optimum, color="grey", lw=2, label="optimum")
        ax1.plot(k, code, ".", color=COLORS.get(s["backend"]), ms=4, label=s["backend"])
        ax1.set_xlabel("atom")
        ax1.set_ylabel("coefficient")
        ax1.legend(fontsize=7)
        ax2.scatter(optimum, code, s=10, color=COLORS.get(s["backend"]))
        lim = [min(optimum.min(), code.min()), max(optimum.max(), code.max())]
        ax2.plot(lim, lim, color="grey", lw=0.8, ls=":")
        ax2.set_xlabel("optimum")
        ax2.set_ylabel(s["backend"])
        sec.figures.append(("Coefficients against the optimum", _png(fig)))

        signal, dictionary = curves["signal"], curves["dictionary"]
        recon = dictionary @ code
        shape = s.get("patch_shape")
        if shape:
            fig, axes = figure(7, 2.6, 3)
            lim = np.abs(signal).max()
            for ax, image, title in zip(axes, (signal, recon, signal - recon),
                                        ("signal", f"reconstruction ({s['backend']})", "residual"), strict=True):
                ax.imshow(image.reshape(shape), cmap="gray", vmin=-lim, vmax=lim)
                ax.set_title(title, fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
        else:
            fig, ax = figure(8, 2.8)
            ax.plot(signal, color="k", lw=1, label="signal")
            ax.plot(recon, color=COLORS.get(s["backend"]), lw=1, ls="--", label=f"reconstruction ({s['backend']})")
            ax.set_xlabel("sample")
            ax.legend(fontsize=7)
        sec.figures.append(("Reconstruction next to the signal", _png(fig)))
    return sec


# -- build -------------------------------------------------------------------------------------------


def _build_section(run: Run) -> Section:
    r = run.data
    sec = Section(run)
    sec.checks.append(Check("fmax_mhz", "Fmax against the clock (MHz)", r["fmax_mhz"], f">= {r['clock_mhz']}",
                            bool(r["timing_met"])))
    over = [name for name, u in r["resources"].items() if u["available"] and u["used"] > u["available"]]
    sec.checks.append(Check("resources", "every resource within the device", "over: " + ", ".join(over) if over
                            else "all within", "<= available", not over))
    sec.numbers = {"fmax_mhz": r["fmax_mhz"], "clock_mhz": r["clock_mhz"],
                   "neuron_updates_per_s": r["neuron_updates_per_s"],
                   "synaptic_events_per_s": r["synaptic_events_per_s"]}
    for name, u in r["resources"].items():
        sec.numbers[f"{name}_used"] = u["used"]
    sec.config = [("board", f"{r['board']} ({r['device']})"), ("array", f"{r['neurons']} neurons x {r['lanes']} "
                                                                        f"lane(s), {r['weight_bits']}-bit weights"),
                  ("clock", f"target {r['clock_target_mhz']} MHz, PLL {r['clock_mhz']} MHz"),
                  ("memories", ", ".join(f"{k} in {v}" for k, v in sorted(r.get("memories", {}).items()))),
                  ("tools", ", ".join(f"{k} {v}" for k, v in r.get("tool_versions", {}).items() if k != "yosys")),
                  ("bitstream", str(r.get("bitstream")))]
    sec.config += _provenance_rows(r.get("provenance"))
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
    ax2.bar(["clock", "Fmax"], [r["clock_mhz"], r["fmax_mhz"]],
            color=["grey", COLORS["rtl"] if r["timing_met"] else COLORS["bound"]])
    ax2.set_ylabel("MHz")
    ax2.set_title(f"Fmax against the clock; {r['neuron_updates_per_s'] / 1e6:.1f} M updates/s, "
                  f"{r['synaptic_events_per_s'] / 1e6:.1f} M events/s", fontsize=9)
    sec.figures.append(("Resources and timing", _png(fig)))
    return sec


def _tem_section(run: Run) -> Section:
    r = run.data
    sec = Section(run)
    cond = r["recoverable"]
    sec.checks.append(Check("recoverable", "recovery condition (spike density)", cond["value"],
                            f"< {cond['bound']:.4g}", bool(cond["satisfied"])))
    if "verified" in r:
        sec.checks.append(Check("bit_exact_mismatches", "RTL updates against the bit-exact model",
                                r["bit_exact_mismatches"], "== 0", r["bit_exact_mismatches"] == 0))
        sec.checks.append(Check("rtl_spikes_equal_fixed", "RTL spikes equal the fixed model's",
                                str(r["rtl_spikes_equal_fixed"]), "True", bool(r["rtl_spikes_equal_fixed"])))
        sec.checks.append(Check("snr_equal", "RTL spikes decode to the fixed model's SNR (dB)", r["snr_db"],
                                f"== {r['fixed_snr_db']:.4g}", r["snr_db"] == r["fixed_snr_db"]))
    sec.numbers = {"snr_db": r["snr_db"], "decode_s": r["decode_s"], "condition_value": cond["value"]}
    spikes = r["spikes"] if isinstance(r["spikes"], list) else [r["spikes"]]
    sec.numbers["spikes"] = int(sum(spikes))
    neurons = r["neuron"] if isinstance(r["neuron"], list) else [r["neuron"]]
    sec.config = [("signal", ", ".join(f"{k} {v}" for k, v in r["signal"].items() if k != "frequencies_hz")),
                  ("band", f"{r['bandwidth_hz']:g} Hz, {r['duration_s']:g} s"),
                  ("backend", r["backend"]),
                  ("encoders", "; ".join(", ".join(f"{k} {_sig(v)}" for k, v in n.items()) for n in neurons)),
                  ("decoder", f"{r['decoder']}" + (f", windows of {r['block']['window_s']:.3g} s"
                                                   if r.get("block") else ", one block")),
                  ("SNR", f"{r['snr_db']:.2f} dB over {r['snr_window_s'][0]:g}-{r['snr_window_s'][1]:g} s"),
                  ("condition", cond["condition"])]
    sec.config += _provenance_rows(r.get("provenance"))
    data = run.folder / "signal.npz"
    if data.exists():
        with np.load(data) as z:
            t, u, rec = z["t"], z["signal"], z["reconstruction"]
            times = [z[k] for k in sorted(z.files) if k.startswith("spikes_")]
        fig, (top, bottom) = figure(10, 3.4, 2)
        top.plot(t, u, "k", lw=1, label="signal")
        top.plot(t, rec, color=COLORS[r["backend"]], lw=1, ls="--", label="decoded")
        low = float(np.min(u))
        for k, ts in enumerate(times):
            top.plot(ts, np.full(len(ts), low - 0.1 * (k + 1)), "|", ms=4, color="grey")
        top.set_xlabel("time (s)")
        top.set_title(f"signal, reconstruction and spikes ({r['decoder']})", fontsize=9)
        top.legend(fontsize=7)
        middle = (t >= r["snr_window_s"][0]) & (t <= r["snr_window_s"][1])
        bottom.hist(rec[middle] - u[middle], bins=40, color=COLORS[r["backend"]])
        bottom.set_xlabel("error inside the SNR window")
        bottom.set_title(f"SNR {r['snr_db']:.1f} dB", fontsize=9)
        sec.figures.append(("Time encoding and decoding", _png(fig)))
    return sec


SECTIONS = {"verify": _verify_section, "lca": _lca_section, "build": _build_section, "tem": _tem_section}


def _sig(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


# -- the page ----------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 1.5em auto; max-width: 1400px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
h3 { font-size: 1em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
tr.pass td.verdict { color: #1a7f37; font-weight: bold; } tr.fail td.verdict { color: #cf222e; font-weight: bold; }
.banner { padding: .6em 1em; border-radius: 6px; font-size: 1.2em; font-weight: bold; }
.banner.pass { background: #dafbe1; color: #1a7f37; } .banner.fail { background: #ffebe9; color: #cf222e; }
.runs-grid { display: grid; gap: 1.5em; }
.mismatch { background: #ffebe9; padding: .4em .8em; border-radius: 4px; }
.differs { background: #fff8c5; font-weight: bold; }
figure { margin: .8em 0; } figcaption { font-size: .9em; color: #555; } img { max-width: 100%; }
"""


def _checks_table(sec: Section) -> str:
    rows = []
    for c in sec.checks:
        state = "pass" if c.passed else "fail"
        rows.append(f"<tr class='{state}' data-check='{html.escape(c.key)}' data-value='{html.escape(str(c.value))}' "
                    f"data-bound='{html.escape(c.bound)}' data-passed='{str(c.passed).lower()}'>"
                    f"<td>{html.escape(c.label)}</td><td>{html.escape(str(c.value))}</td><td>{html.escape(c.bound)}"
                    f"</td><td class='verdict'>{'passed' if c.passed else 'FAILED'}</td></tr>")
    return ("<table class='checks'><tr><th>check</th><th>value</th><th>bound</th><th>verdict</th></tr>"
            + "".join(rows) + "</table>")


def _section_html(sec: Section) -> str:
    run = sec.run
    parts = [f"<section class='run' data-kind='{run.kind}' data-folder='{html.escape(str(run.folder))}'>",
             f"<h2>{html.escape(run.kind)}: {html.escape(run.name)}</h2>", _checks_table(sec), *sec.notes,
             "<h3>Configuration</h3><table class='config'>",
             *(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in sec.config),
             "</table>"]
    for title, png in sec.figures:
        parts.append(f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{png}'>"
                     f"<figcaption>{html.escape(title)}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def _differences_html(sections: list[Section]) -> str:
    keys = [k for k in sections[0].numbers if all(k in s.numbers for s in sections[1:])]
    rows = []
    for key in keys:
        values = [s.numbers[key] for s in sections]
        base = values[0]
        differs = any(not np.isclose(v, base, rtol=1e-9, atol=0) for v in values[1:])
        cells = "".join(f"<td>{_sig(v)}</td>" for v in values)
        delta = "".join(f"<td>{_sig(v - base) if isinstance(v, int | float) else ''}</td>" for v in values[1:])
        rows.append(f"<tr class='{'differs' if differs else 'same'}' data-key='{key}'><th>{html.escape(key)}</th>"
                    f"{cells}{delta}</tr>")
    head = "".join(f"<th>{html.escape(s.run.name)}</th>" for s in sections)
    deltas = "".join(f"<th>{html.escape(s.run.name)} - {html.escape(sections[0].run.name)}</th>" for s in sections[1:])
    return (f"<h2>Differences</h2><p>Highlighted rows differ between the runs.</p><table class='differences'>"
            f"<tr><th>figure</th>{head}{deltas}</tr>{''.join(rows)}</table>")


def render(runs: list[Run], story: str | None = None) -> str:
    """The whole page for one run or several runs of one kind side by side; with `story` (an HTML
    paragraph) the runs are chapters of one story, any kinds, one after the other."""
    from datetime import UTC, datetime

    kinds = {r.kind for r in runs}
    if story is None and len(runs) > 1 and len(kinds) > 1:
        raise LapicqueError("runs of different kinds cannot be compared side by side ("
                            + ", ".join(f"{r.folder}: {r.kind}" for r in runs) + "); give runs of one kind")
    sections = [SECTIONS[r.kind](r) for r in runs]
    passed = all(s.passed for s in sections)
    failed = [f"{s.run.name}: {c.label}" for s in sections for c in s.checks if not c.passed]
    title = ("lapicque report: " + ", ".join(r.name for r in runs))
    banner = ("<div class='banner pass' id='verdict' data-passed='true'>PASSED: every check holds</div>" if passed else
              f"<div class='banner fail' id='verdict' data-passed='false'>FAILED: {html.escape('; '.join(failed))}"
              "</div>")
    body = [f"<h1>{html.escape(title)}</h1>", banner,
            f"<p>Written {datetime.now(UTC).isoformat(timespec='seconds')}.</p>"]
    if story is not None:
        body.append(story)
    elif len(sections) > 1:
        body.append(_differences_html(sections))
    side_by_side = len(sections) if story is None else 1
    columns = f"grid-template-columns: repeat({side_by_side}, minmax(0, 1fr));"
    body.append(f"<div class='runs-grid' style='{columns}'>")
    body.extend(_section_html(s) for s in sections)
    body.append("</div>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(folders: list[Path], out: Path, story: str | None = None) -> Path:
    """Render the runs in `folders` into `out` (written whole, then renamed); returns `out`."""
    runs = [load_run(Path(f)) for f in folders]
    page = render(runs, story)
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise LapicqueError(f"cannot write {out}: folder {out.parent} does not exist")
    write_atomic(out, page)
    return out
