"""`lapicque verify` runs: the bit-exact and float checks, the traces around the first mismatch, coverage."""

from __future__ import annotations

import numpy as np

from ..sections import COLORS, Check, Run, Section, provenance_rows

FILE = "summary.json"


def matches(data: dict) -> bool:
    return {"updates_checked", "bit_exact_mismatches", "steps"} <= data.keys()


def section(run: Run) -> Section:
    from lapicque.spec import ArraySpec

    from ..runs import read_json

    s = run.data
    sec = Section(run)
    bound = s["float_bound_lsb"]
    error = s["max_float_error_lsb"]
    float_error = (Check.below("max_float_error_lsb", "largest float error (LSB)", error, bound,
                               display=lambda x: round(x, 4)) if bound
                   else Check.equals("max_float_error_lsb", "largest float error (LSB)", error, 0))
    sec.checks = [
        Check.equals("bit_exact_mismatches", "bit-exact mismatches (RTL vs fixed model)", s["bit_exact_mismatches"], 0),
        Check.equals("float_bound_violations", "float one-step bound violations", s["float_bound_violations"], 0),
        Check.equals("updates_checked", "updates checked", s["updates_checked"], s["neurons"] * s["steps"]),
        float_error,
    ]
    if s.get("coverage_required"):
        sec.checks.append(Check.at_least("coverage_hit_fraction", "coverage bins hit (required: every bin)",
                                         s["coverage_hit_fraction"], 1.0, display=lambda x: round(x, 4)))
    if s.get("timed_out"):
        sec.checks.append(Check("timed_out", "the RTL kept making progress", "timed out", "no time-out", False))
    if "records_left_over" in s:
        sec.checks.append(Check.equals("records_left_over", "bytes of a partial record left unchecked",
                                       s["records_left_over"], 0))
    # (the floor, which no run beats, only in runs since the steps overlap)
    sec.numbers = {k: s[k] for k in ("neurons", "lanes", "steps", "updates_checked", "bit_exact_mismatches",
                                     "float_bound_violations", "max_float_error_lsb", "cycles_per_step",
                                     "cycles_per_step_bound", "cycles_per_step_floor", "coverage_hit_fraction")
                   if k in s}
    sim = run.folder / "sim"
    config = read_json(sim / "config.json") if (sim / "config.json").exists() else None
    spec = ArraySpec.from_dict(config["spec"]) if config else None
    sec.config = [("simulator", s["simulator"]), ("neurons x lanes", f"{s['neurons']} x {s['lanes']}"),
                  ("steps", str(s["steps"])), ("seed", str(s["seed"])), ("back-pressure", str(s.get("backpressure")))]
    if spec is not None:
        sec.config += spec_rows(spec)
    sec.config += provenance_rows(s.get("provenance"))
    split = s.get("time_split")
    if split:  # where the wall time went: what bounds this run
        from lapicque.sim.verify import TIME_PARTS

        wall = s["wall_s"]
        sec.extra["time_split"] = [(key.removesuffix("_s").replace("_", " "), TIME_PARTS.get(key, ""), seconds,
                                    seconds / wall if wall else 0.0) for key, seconds in split.items()]
        sec.extra["wall_s"] = wall
    first = s.get("first_mismatch")
    sec.extra["mismatches"] = [(title, s[key]) for key, title in (("first_mismatch", "first bit-exact mismatch"),
                                                                 ("first_float_violation",
                                                                  "first float bound violation")) if s.get(key)]
    traces_path = sim / "traces.npz"
    if spec is None or not traces_path.exists() or not (sim / "stimulus.npz").exists():
        sec.notes.append("The simulator's traces are missing from this folder: figures left out.")
        return sec
    add_figures(sec, spec, sim, first)
    return sec


def add_figures(sec: Section, spec, sim, first: dict | None) -> None:
    from matplotlib.figure import Figure

    from lapicque.golden.neuron import ArrayModel, State, quantisation_bound
    from lapicque.plots import figure
    from lapicque.sim.scoreboard import float_one_step
    from lapicque.sim.verify import cycles_bound

    s = sec.run.data
    traces = np.load(sim / "traces.npz")
    stim = np.load(sim / "stimulus.npz")
    steps = len(traces["v"])
    if steps == 0:
        sec.notes.append("No step completed: no traces to plot.")
        return
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
    sec.add_figure("Membrane and current traces: float, fixed and RTL" + (" around the first mismatch" if first
                                                                          else ""), fig)

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
    sec.add_figure("Per-step float error against the analytic bound, and its histogram", fig)

    fig, (ax1, ax2) = figure(9, 3.4, 2)
    r_spk, f_spk = rtl["spike"].astype(bool), flt["spike"].astype(bool)
    window = slice(0, min(steps, 200))
    for spikes, color, label in ((f_spk, COLORS["float"], "float (free-running)"), (r_spk, COLORS["rtl"], "RTL")):
        tt, nn = np.nonzero(spikes[window])
        ax1.scatter(tt, nn, s=8, marker="|", color=color, label=label, alpha=0.7)
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
    sec.add_figure("Spike raster with coincidences, and firing-rate agreement", fig)

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
        bound = [cycles_bound(spec, [x]) for x in spikes_per_step[:-1]]
        ax2.plot(np.arange(1, steps), per_step, color=COLORS["rtl"], lw=1, label="RTL")
        ax2.plot(np.arange(1, steps), bound, color=COLORS["bound"], lw=1, ls="--", label="bound (issue 20)")
        ax2.legend(fontsize=7)
    ax2.set_xlabel("step")
    ax2.set_ylabel("cycles")
    ax2.set_title(f"cycles per step: mean {s['cycles_per_step']:.1f}, bound {s['cycles_per_step_bound']:.1f}",
                  fontsize=9)
    sec.add_figure("Coverage bins, and cycles per timestep against the bound", fig)


def spec_rows(spec) -> list[tuple[str, str]]:
    from lapicque.spec import LEAK_MODES, RESET_MODES

    w = spec.widths
    p = spec.params
    rows = [("widths (bits)", f"v {w.v}, i {w.i}, w {w.w}, bias {w.bias}, ext {w.ext}, refractory {w.refractory}"),
            ("rounding of decays", spec.rounding),
            ("weight exponent", f"{spec.weight_exponent} (input x {1 << spec.weight_exponent})")]
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
