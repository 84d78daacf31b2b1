"""`lapicque fit`: a GIF (or LIF) fitted to a recording, scored on held-out data, exported to the array.

Writes `OUT/summary.json` and `OUT/fit.png`, each to a temporary name first.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import read_array, write_atomic, write_json
from lapicque.golden import gif
from lapicque.golden.inputs import ornstein_uhlenbeck
from lapicque.provenance import provenance
from lapicque.spec import Widths
from lapicque.units import to_codes

MODELS = ("gif", "lif")
SYNTHETIC_NOISE_PA = 50.0  # unrecorded input noise of the synthetic neuron
MIN_HELD_OUT = 100  # samples on each side of the cut: a fit and a score need a few spikes
MAX_SAMPLES = 20_000_000  # a synthetic recording's samples: about 2 s of fitting per million


@dataclass
class Recording:
    current: np.ndarray  # pA
    voltage: np.ndarray  # mV
    dt: float  # ms
    truth: gif.Truth | None = None  # known for synthetic recordings
    source: str = ""


def synthetic_truth(bins: int = 6, kernel_ms: float = 300.0, t_ref: float = 4.0) -> gif.Truth:
    """lapicque's reference GIF neuron, its kernels in the fit's own basis (so the fit can recover them exactly)."""
    edges = gif.bins_ms(bins, kernel_ms, t_ref)
    eta = 30.0 * np.exp(-(edges[:-1] + edges[1:]) / 2 / 60.0)
    gamma = 5.0 * np.exp(-(edges[:-1] + edges[1:]) / 2 / 40.0)
    return gif.BinnedTruth(100.0, 5.0, -70.0, -55.0, t_ref, -50.0, 1.0, (), (), edges, eta, edges, gamma)


def synthetic_recording(seconds: float, dt: float = 0.1, seed: int = 0, truth: gif.Truth | None = None,
                        noise_pa: float = SYNTHETIC_NOISE_PA) -> Recording:
    """lapicque's GIF neuron (or `truth`) under an Ornstein-Uhlenbeck current (mean 250 pA, sd 150 pA, 3 ms),
    with unrecorded white-noise current of `noise_pa`: a recording whose true parameters are known."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise LapicqueError(f"--synthetic = {seconds} s must be a positive number")
    if not (math.isfinite(dt) and 0 < dt <= 1.0):
        raise LapicqueError(f"--dt = {dt} ms must be positive and at most 1 ms")
    if seconds * 1000.0 / dt > MAX_SAMPLES:
        raise LapicqueError(f"--synthetic {seconds:g} s at --dt {dt:g} ms is {seconds * 1000.0 / dt:,.3g} samples; "
                            f"at most {MAX_SAMPLES:,}")
    truth = truth or synthetic_truth()
    current = 250.0 + ornstein_uhlenbeck(0.0, 150.0, 3.0, seconds * 1000.0, dt, seed=seed + 1)[:, 0]
    voltage, _ = gif.simulate(truth, current, dt, seed=seed + 2, noise_pa=noise_pa)
    return Recording(current, voltage, dt, truth, f"synthetic GIF, {seconds:g} s")


def _samples(source, option: str) -> np.ndarray:
    """A recorded trace given as a file path or as an array."""
    samples = read_array(Path(source), option) if isinstance(source, str | Path) else source
    if isinstance(samples, dict):
        raise LapicqueError(f"--{option} {source}: an .npz archive; give one .npy file of samples (or the .npz as "
                            "--current alone)")
    return np.asarray(samples)


def load_recording(current, voltage, dt: float | None) -> Recording:
    """The recording from .npy files or arrays (with --dt), or one .npz holding current, voltage and dt."""
    if current is None:
        raise LapicqueError("give --current I.npy --voltage V.npy --dt MS (or a .npz as --current), or --synthetic")
    if isinstance(current, str | Path) and Path(current).suffix == ".npz":
        data = read_array(current, "current")
        if not isinstance(data, dict):
            raise LapicqueError(f"--current {current}: not an .npz archive; it needs current, voltage and dt")
        try:
            i, v, stored = data["current"], data["voltage"], data["dt"]
        except KeyError as exc:
            raise LapicqueError(f"--current {current}: the .npz has no {exc.args[0]!r}; it needs current, voltage "
                                "and dt") from None
        if stored.shape != () or not np.issubdtype(stored.dtype, np.number) or np.iscomplexobj(stored):
            raise LapicqueError(f"--current {current}: dt in the .npz must be one number (ms), not an array of "
                                f"shape {stored.shape} of {stored.dtype}")
        stored = float(stored)
        if dt is not None and not math.isclose(dt, stored, rel_tol=1e-9):
            raise LapicqueError(f"--dt {dt} ms does not match the recording's dt = {stored} ms; drop --dt")
        dt = stored
    else:
        if voltage is None:
            raise LapicqueError("give --voltage V.npy beside --current I.npy")
        if dt is None:
            raise LapicqueError("give --dt, the sample interval in ms, for .npy recordings")
        i, v = _samples(current, "current"), _samples(voltage, "voltage")
    if not (math.isfinite(dt) and dt > 0):
        raise LapicqueError(f"--dt = {dt} ms must be a positive number")
    for name, x in (("current", i), ("voltage", v)):
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
            raise LapicqueError(f"--{name}: expected 1-D numeric samples, got shape {x.shape} of {x.dtype}")
        if not np.all(np.isfinite(x)):
            raise LapicqueError(f"--{name}: contains NaN or infinite samples")
    if i.shape != v.shape:
        raise LapicqueError(f"--current has {len(i)} samples but --voltage has {len(v)}; they must match")
    source = f"{current}, {voltage}" if isinstance(current, str | Path) else "arrays"
    return Recording(i.astype(np.float64), v.astype(np.float64), float(dt), None, source)


def fit_recording(rec: Recording, model: str, out: Path | None, *, t_ref: float = 4.0, bins: int = 6,
                  kernel_ms: float = 300.0, spike_threshold: float = 0.0, holdout: float = 0.2, repeats: int = 10,
                  seed: int = 0) -> dict:
    if model not in MODELS:
        raise LapicqueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if not 0.0 < holdout < 0.9:
        raise LapicqueError(f"--holdout = {holdout} must lie between 0 and 0.9")
    if not (math.isfinite(t_ref) and t_ref >= 2 * rec.dt):
        raise LapicqueError(f"--t-ref = {t_ref} ms must span at least two samples of {rec.dt} ms")
    wall0 = time.perf_counter()
    n = len(rec.current)
    cut = int(n * (1 - holdout))
    if n - cut < MIN_HELD_OUT or cut < MIN_HELD_OUT:
        raise LapicqueError(f"--holdout {holdout:g} of {n:,} samples leaves {n - cut:,} to score and {cut:,} to fit; "
                            f"each needs at least {MIN_HELD_OUT:,}")
    kernels = bins if model == "gif" else 0
    estimator = gif.GIF(dt=rec.dt, T_ref=t_ref, eta_bins=kernels, eta_ms=kernel_ms, gamma_bins=kernels,
                        gamma_ms=kernel_ms, spike_threshold=spike_threshold, repeats=repeats, seed=seed)
    estimator.fit(rec.current[:cut], rec.voltage[:cut])
    held_i, held_v = rec.current[cut:], rec.voltage[cut:]
    score = estimator.score(held_i, held_v)
    params = estimator.params_()
    stderr = {f"{k}_{unit}": float(estimator.stderr_[k]) for k, unit in
              (("C", "pF"), ("g_L", "nS"), ("E_L", "mV"), ("V_T", "mV"), ("Delta_V", "mV"))}
    summary = {
        "model": model,
        "source": rec.source,
        "dt_ms": rec.dt,
        "duration_s": n * rec.dt / 1000.0,
        "fitted_s": cut * rec.dt / 1000.0,
        "held_out_s": (n - cut) * rec.dt / 1000.0,
        "spikes_fitted": estimator.spikes_,
        "params": params,
        "stderr": stderr,
        "kernel_stderr": {"eta_pA": estimator.stderr_["eta"].tolist(), "gamma_mV": estimator.stderr_["gamma"].tolist()},
        "variance_explained_dvdt": estimator.dvdt_variance_explained_,
        "variance_explained_v": estimator.v_variance_explained_,
        "coincidence_factor": score,
        "coincidence_window_ms": gif.COINCIDENCE_WINDOW_MS,
        "intrinsic_coincidence_factor": None,
    }
    if rec.truth is not None:
        t = rec.truth
        summary["true"] = {"C_pF": t.C, "g_L_nS": t.g_L, "E_L_mV": t.E_L, "V_reset_mV": t.V_reset,
                           "T_ref_ms": t.T_ref, "V_T_mV": t.V_T, "Delta_V_mV": t.Delta_V, "tau_m_ms": t.C / t.g_L}
        if isinstance(t, gif.BinnedTruth):
            summary["true"]["eta_pA"] = t.eta_values.tolist()
            summary["true"]["gamma_mV"] = t.gamma_values.tolist()
        data = gif.detect_spikes(held_v, spike_threshold) * rec.dt
        duration = len(held_i) * rec.dt
        summary["intrinsic_coincidence_factor"] = float(np.mean([
            gif.coincidence_factor(data, gif.simulate(t, held_i, rec.dt, seed=seed + 100 + k,
                                                      noise_pa=SYNTHETIC_NOISE_PA)[1] * rec.dt, duration)
            for k in range(repeats)]))
    neuron = estimator.to_physical_lif()
    mapping = to_codes(neuron, widths=Widths(refractory=max(4, int(round(t_ref / rec.dt)).bit_length())))
    summary["export"] = {
        "physical": {k: getattr(neuron, k) for k in ("tau_m_ms", "r_mohm", "e_l_mv", "v_th_mv", "v_reset_mv",
                                                     "refractory_ms", "dt_ms")},
        "codes": mapping.codes,
        "realised": mapping.realised,
        "quantisation_errors": mapping.errors,
        "worst_error": list(mapping.worst),
        "dropped": "escape noise (Delta_V) and the spike-triggered current and threshold kernels: the array's "
                   "neuron is a deterministic LIF",
    }
    summary["wall_s"] = time.perf_counter() - wall0
    summary["provenance"] = provenance()
    if out is None:
        return summary
    from lapicque.plots import fit_png

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_v = estimator._subthreshold(held_i, gif.detect_spikes(held_v, spike_threshold))
    write_atomic(out / "fit.png", fit_png(summary, held_v, model_v, estimator.predict(held_i)[1], rec.dt))
    write_json(out / "summary.json", summary)
    return summary
