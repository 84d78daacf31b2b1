"""`lapicque fi` runs: the f-I curve against its closed form, and the noisy LIF against Siegert."""

from __future__ import annotations

import numpy as np

from ..sections import Check, Run, Section, shown

FILE = "summary.json"
CLOSED_FORM_TOLERANCE = 1e-3  # relative; exact integrators reach rounding, fixed-step ones well below this
RATE_FLOOR_HZ = 1.0  # below it the deviation is taken in Hz: a closed form of 0 has no relative error


def matches(data: dict) -> bool:
    return {"currents", "rates_hz", "rheobase"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    rates = np.asarray(s["rates_hz"], dtype=np.float64)
    bad = int(np.count_nonzero(~np.isfinite(rates)))
    sec.checks.append(Check.equals("non_finite_rates", "rates that are not finite numbers", bad, 0))
    if s.get("closed_form_rates_hz") is not None:
        closed = np.asarray(s["closed_form_rates_hz"], dtype=np.float64)
        deviation = float(np.max(np.abs(rates - closed) / np.maximum(closed, RATE_FLOOR_HZ)))
        sec.checks.append(Check.at_most("closed_form_deviation", "largest relative deviation from the closed form",
                                        deviation, CLOSED_FORM_TOLERANCE))
        sec.numbers["closed_form_deviation"] = deviation
    sec.numbers.update({"rheobase": s["rheobase"], "max_rate_hz": float(np.max(rates, initial=0)),
                        "dt_ms": s["dt_ms"], "duration_ms": s["duration_ms"]})
    sec.numbers = {k: v for k, v in sec.numbers.items() if v is not None}
    sec.config = [("model", f"{s['model']} ({s['method']})"), ("equations", s["equations"]),
                  ("parameters", ", ".join(f"{k} {shown(v)}" for k, v in s["params"].items())),
                  ("currents", f"{len(rates)} from {shown(s['currents'][0])} to {shown(s['currents'][-1])}"),
                  ("dt, duration", f"{s['dt_ms']:g} ms, {s['duration_ms']:g} ms (the first 200 ms not counted)")]
    if "noise" in s:
        n = s["noise"]
        sec.config.append(("noise", f"sigma {n['sigma_mv']:g} mV, {n['simulated_neurons']} simulated neurons per "
                                    f"current, linear response at mu {n['response_mu_mv']:.3g} mV"))
    sec.add_png("f-I curve" + (" against the closed form" if s.get("closed_form_rates_hz") else ""),
                run.folder / "fi.png")
    if "noise" in s:
        sec.add_png("Under white noise: Siegert against simulation, and the linear response", run.folder / "noise.png")
    return sec
