"""`lapicque tem` runs: the recovery condition, the RTL's bit-exact checks, the reconstruction and its error."""

from __future__ import annotations

import numpy as np

from ..sections import COLORS, Check, Run, Section, provenance_rows, shown

FILE = "summary.json"


def matches(data: dict) -> bool:
    return {"snr_db", "recoverable"} <= data.keys()


def section(run: Run) -> Section:
    r = run.data
    sec = Section(run)
    cond = r["recoverable"]
    sec.checks.append(Check.below("recoverable", "recovery condition (spike density)", cond["value"], cond["bound"]))
    if "verified" in r:
        sec.checks.append(Check.equals("bit_exact_mismatches", "RTL updates against the bit-exact model",
                                       r["bit_exact_mismatches"], 0))
        sec.checks.append(Check.equals("rtl_spikes_equal_fixed", "RTL spikes equal the fixed model's",
                                       r["rtl_spikes_equal_fixed"], True))
        sec.checks.append(Check.equals("snr_equal", "RTL spikes decode to the fixed model's SNR (dB)", r["snr_db"],
                                       r["fixed_snr_db"]))
    sec.numbers = {"snr_db": r["snr_db"], "decode_s": r["decode_s"], "condition_value": cond["value"]}
    spikes = r["spikes"] if isinstance(r["spikes"], list) else [r["spikes"]]
    sec.numbers["spikes"] = int(sum(spikes))
    neurons = r["neuron"] if isinstance(r["neuron"], list) else [r["neuron"]]
    sec.config = [("signal", ", ".join(f"{k} {v}" for k, v in r["signal"].items() if k != "frequencies_hz")),
                  ("band", f"{r['bandwidth_hz']:g} Hz, {r['duration_s']:g} s"),
                  ("backend", r["backend"]),
                  ("encoders", "; ".join(", ".join(f"{k} {shown(v)}" for k, v in n.items()) for n in neurons)),
                  ("decoder", f"{r['decoder']}" + (f", windows of {r['block']['window_s']:.3g} s"
                                                   if r.get("block") else ", one block")),
                  ("SNR", f"{r['snr_db']:.2f} dB over {r['snr_window_s'][0]:g}-{r['snr_window_s'][1]:g} s"),
                  ("condition", cond["condition"])]
    sec.config += provenance_rows(r.get("provenance"))
    data = run.folder / "signal.npz"
    if not data.exists():
        sec.notes.append("signal.npz is missing from this folder: figures left out.")
        return sec
    from lapicque.plots import figure

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
    sec.add_figure("Time encoding and decoding", fig)
    return sec
