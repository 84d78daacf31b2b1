"""`lapicque density` runs: mass conservation, the stationary state against Siegert, the Monte-Carlo check."""

from __future__ import annotations

import math

from ..sections import Check, Run, Section, shown

FILE = "summary.json"
MASS_TOLERANCE = 1e-10  # per step: the scheme conserves mass to rounding
SIEGERT_TOLERANCE = 0.01  # relative: the grid's discretisation error at the default cells
# uncoupled neurons: chi2 per bin may exceed 1 by this many of its standard deviations, sqrt(2 / bins)
MONTE_CARLO_SIGMAS = 5.0


def matches(data: dict) -> bool:
    return {"final_rate_hz", "max_mass_error_per_step", "cells"} <= data.keys()


def section(run: Run) -> Section:
    s = run.data
    sec = Section(run)
    sec.checks.append(Check.at_most("max_mass_error_per_step", "largest change of total mass in a step",
                                    s["max_mass_error_per_step"], MASS_TOLERANCE))
    if s.get("stationary_vs_siegert") is not None:
        sec.checks.append(Check.at_most("stationary_vs_siegert", "stationary rate against Siegert's, relative",
                                        abs(s["stationary_vs_siegert"]), SIEGERT_TOLERANCE))
    mc = s.get("monte_carlo")
    if mc and not mc["bins"]:
        sec.notes.append("Monte-Carlo rates: no 1 ms bin expects 5 spikes (too few neurons or too short a run): "
                         "nothing to compare.")
    elif mc and s["coupling"] != 0:
        sec.notes.append(f"Monte-Carlo rates: chi2 per bin {mc['chi2_per_bin']:.2f} over {mc['bins']} bins, shown, not "
                         "checked: the network's feedback amplifies finite-size fluctuations beyond Poisson counting "
                         "error, so chi2 per bin is not expected near 1 when the coupling is not 0.")
    elif mc:
        limit = 1.0 + MONTE_CARLO_SIGMAS * math.sqrt(2.0 / max(mc["bins"], 1))
        sec.checks.append(Check.at_most("monte_carlo_chi2", f"Monte-Carlo rates: chi2 per bin ({mc['bins']} bins)",
                                        mc["chi2_per_bin"], round(limit, 3)))
    blow_up = s.get("blow_up")
    if blow_up:
        sec.notes.append(f"Blow-up at {blow_up['time_ms']:.2f} ms (rate {blow_up['rate_hz']:.0f} Hz): "
                         f"{blow_up['reason']}. A property of the model at this coupling, not a failure of the solver.")
    sec.numbers = {k: s[k] for k in ("mu", "sigma", "coupling", "final_rate_hz", "stationary_rate_hz",
                                     "siegert_rate_hz", "max_mass_error_per_step", "wall_s") if s.get(k) is not None}
    sec.config = [("population", f"mu {s['mu']:g}, sigma {s['sigma']:g}, coupling J {s['coupling']:g}, tau_m "
                                 f"{s['tau_m_ms']:g} ms, t_ref {s['t_ref_ms']:g} ms"),
                  ("scheme", f"{s['scheme']}; {s['cells']} cells from {shown(s['v_min'])} to the threshold"),
                  ("time", f"{s['duration_s']:g} s at dt {s['dt_ms']:g} ms"),
                  ("rates", f"final {shown(s['final_rate_hz'])} Hz, stationary {shown(s['stationary_rate_hz'])} Hz, "
                            f"Siegert {shown(s.get('siegert_rate_hz'))} Hz")]
    sec.add_png("Population rate over time, and density snapshots", run.folder / "density.png")
    return sec
