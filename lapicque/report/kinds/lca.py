"""`lapicque lca` runs: the gap to the optimum, its curve, the code against the optimum, the reconstruction."""

from __future__ import annotations

import numpy as np

from ..sections import COLORS, Check, Run, Section, provenance_rows, shown

FILE = "summary.json"
GAP_TARGET = 0.01


def matches(data: dict) -> bool:
    return {"objective_opt", "backend"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    sec.checks.append(Check.at_most("rel_gap", f"relative objective gap ({s['backend']})", s["rel_gap"], GAP_TARGET,
                                    display=shown))
    reached = s["steps_to_1pct_gap"]
    sec.checks.append(Check("steps_to_1pct_gap", "steps to a 1 % gap", reached if reached is not None else "never",
                            f"<= {s['timesteps']}", reached is not None and reached <= s["timesteps"]))
    if s["backend"] == "rtl":
        sec.checks.append(Check.equals("bit_exact_mismatches", "RTL bit-exact mismatches while solving",
                                       s["bit_exact_mismatches"], 0))
        sec.checks.append(Check.equals("rtl_spikes_equal_fixed", "RTL spikes equal the fixed model's",
                                       s["rtl_spikes_equal_fixed"], True))
    q = s.get("quantisation", {})
    if s.get("predicted_gap") is not None and q.get("target_gap") is not None:
        sec.checks.append(Check.at_most("predicted_gap", "the rounding's predicted gap (before the run)",
                                        s["predicted_gap"], q["target_gap"], display=shown))
    sec.numbers = {"timesteps": s["timesteps"], "weight_bits": q.get("weight_bits"),
                   "weight_exponent": q.get("weight_exponent"), "predicted_gap": s.get("predicted_gap")}
    sec.numbers.update({k: s[k] for k in ("objective", "objective_opt", "rel_gap", "rel_recon_error",
                                          "support_precision", "support_recall", "spikes", "steps_to_1pct_gap",
                                          "cycles") if s.get(k) is not None})
    sec.config = [("problem", f"{s['problem']}: {s['atoms']} atoms, dim {s['dim']}, lam {s['lam']:g}"
                              f"{', nonnegative' if s.get('nonnegative') else ''}"),
                  ("backend", s["backend"]), ("timesteps", str(s["timesteps"])),
                  ("neurons", f"{s['neurons']} ({'signed pairs' if s.get('signed_pairs') else 'one per atom'}), "
                              f"{s.get('lanes', 1)} lane(s)"),
                  ("weight bits, exponent, theta, scale", f"{q.get('weight_bits')}, {q.get('weight_exponent', 0)}, "
                                                          f"{q.get('theta')}, {shown(q.get('scale'))}"),
                  ("predicted gap by exponent", ", ".join(f"{e}: {shown(g)}" for e, g in
                                                          q.get("predicted_gap_by_exponent", {}).items()) or "-"),
                  ("widths (bits)", ", ".join(f"{k} {v}" for k, v in q.get("widths", {}).items())),
                  ("rounding in problem units", f"G to {shown(q.get('max_weight_error_in_gram'))}, drive to "
                                                f"{shown(q.get('max_bias_error_in_coefficient'))}"),
                  ("reference", f"{s['reference_solver']}, {s['reference_wall_s'] * 1e3:.1f} ms, duality gap "
                                f"{shown(s.get('reference_duality_gap'))}"), ("seed", str(s.get("seed")))]
    sec.config += provenance_rows(s.get("provenance"))
    sec.extra["runs"] = [{"name": name, "objective": shown(r["objective"]), "rel_gap": shown(r["rel_gap"]),
                          "predicted": shown(r["predicted_gap"]) if r.get("predicted_gap") is not None else "",
                          "recon": f"{r['rel_recon_error']:.3f}",
                          "support": f"{r['support_precision']:.2f} / {r['support_recall']:.2f}",
                          "steps": r["steps_to_1pct_gap"] if r["steps_to_1pct_gap"] is not None else "never"}
                         for name, r in s["runs"].items()]
    curves_path = run.folder / "curves.npz"
    if not curves_path.exists():
        sec.notes.append("curves.npz is missing from this folder: figures left out.")
        return sec
    add_figures(sec, np.load(curves_path))
    return sec


def add_figures(sec: Section, curves) -> None:
    from lapicque.plots import figure

    s, folder = sec.run.data, sec.run.folder
    fig, ax = figure(8, 3.2)
    for name in s["runs"]:
        key = f"gap_{name}"
        if key in curves.files:
            gap = np.maximum(curves[key], 1e-12)
            ax.plot(np.arange(1, len(gap) + 1), gap, color=COLORS.get(name), lw=1.4 if name == "rtl" else 1,
                    ls="--" if name == "rtl" else "-", label=name)
    ax.axhline(GAP_TARGET, color="grey", ls=":", lw=0.8, label="1 %")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("timestep")
    ax.set_ylabel("relative objective gap")
    ax.legend(fontsize=7)
    sec.add_figure("Relative gap against timesteps", fig)

    if not ((folder / "coefficients.npy").exists() and (folder / "optimum.npy").exists()):
        return
    code, optimum = np.load(folder / "coefficients.npy"), np.load(folder / "optimum.npy")
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
    sec.add_figure("Coefficients against the optimum", fig)

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
    sec.add_figure("Reconstruction next to the signal", fig)
