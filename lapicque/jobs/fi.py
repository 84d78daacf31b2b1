"""The f-I curve of a neuron model of the integrate-and-fire family, with its closed form and under noise."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError

from .folders import owned, quiet

TRANSIENT_MS = 200.0  # left out of every rate (golden.models.fi_curve)
RANGES = {"izhikevich": (0.0, 20.0), "fitzhugh-nagumo": (0.0, 1.5), "hodgkin-huxley": (0.0, 50.0)}
DEFAULT_RANGE, DEFAULT_POINTS, MAX_POINTS = (0.0, 1000.0), 26, 10_000


def default_currents(model: str) -> np.ndarray:
    """The currents of an f-I curve when none are given: 26 across the model's usual range."""
    low, high = RANGES.get(model, DEFAULT_RANGE)
    return np.linspace(low, high, DEFAULT_POINTS)


def fi(*, model: str = "lif", currents: Sequence[float] | np.ndarray | None = None, duration: float = 1000.0,
       dt: float = 0.05, params: dict[str, float] | None = None, sigma: float | None = None,
       out: Path | str | None = None, status=None) -> dict:
    """Steady firing rate against constant current for a model of `lapicque.golden.models`.

    currents: in the model's current unit (default: 26 across its usual range); duration: simulated ms per
    current (the first 200 ms are not counted); dt: ms; params: parameter overrides, e.g. {"tau_m": 20};
    sigma: lif only, white noise in mV (adds Siegert's rates, simulated noisy rates and the linear response);
    out: results folder (summary.json, fi.png, with sigma noise.png).

    Returns the summary (`currents`, `rates_hz`, `closed_form_rates_hz` for lif and qif, `rheobase`, ...).
    """
    from lapicque.golden.models import get_model

    neuron = get_model(model, **(params or {}))
    currents = default_currents(neuron.name) if currents is None else np.asarray(currents, dtype=np.float64)
    if currents.ndim != 1 or not 2 <= len(currents) <= MAX_POINTS or not np.all(np.isfinite(currents)):
        raise LapicqueError(f"currents: need 2 to {MAX_POINTS} finite values")
    if duration <= TRANSIENT_MS:
        raise LapicqueError(f"--duration {duration} ms must exceed the {TRANSIENT_MS:g} ms transient that is not "
                            "counted")
    if sigma is not None and (neuron.name != "lif" or not (np.isfinite(sigma) and sigma > 0)):
        raise LapicqueError("--sigma needs --model lif and a positive noise amplitude in mV")
    with owned(out, "fi") as folder:
        summary = run_fi(neuron, currents, duration, dt, sigma, quiet(status))
        if folder is not None:
            write(folder, summary)
    return summary


def run_fi(neuron, currents: np.ndarray, duration: float, dt: float, sigma: float | None, say) -> dict:
    from lapicque.golden.analysis import noisy_lif_fi
    from lapicque.golden.models import fi_curve, lif_rate, qif_rate, rheobase

    wall0 = time.perf_counter()
    say(f"simulating {len(currents)} currents for {duration:g} ms of {neuron.name}")
    rates = fi_curve(neuron, currents, duration=duration, dt=dt)
    closed = {"lif": lif_rate, "qif": qif_rate}.get(neuron.name)
    summary = {
        "model": neuron.name,
        "equations": neuron.equations,
        "method": neuron.method,
        "params": neuron.p,
        "dt_ms": dt,
        "duration_ms": duration,
        "currents": currents.tolist(),
        "rates_hz": rates.tolist(),
        "rheobase": rheobase(rates, currents),
        "closed_form_rates_hz": closed(currents, **neuron.p).tolist() if closed else None,
        "wall_s": time.perf_counter() - wall0,
    }
    if sigma is not None:
        say(f"noisy LIFs at sigma {sigma:g} mV: Siegert, simulation, linear response")
        summary["noise"] = noisy_lif_fi(neuron.p, currents, sigma, dt, duration)
    return summary


def write(out: Path, summary: dict) -> None:
    from lapicque.files import write_atomic, write_json
    from lapicque.plots import fi_png, noise_png

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "fi.png", fi_png(summary))
    if "noise" in summary:
        write_atomic(out / "noise.png", noise_png(summary))
    write_json(out / "summary.json", summary)
