"""A GIF (or LIF) neuron fitted to a current-clamp recording, scored on held-out data, exported to the array."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError

from .folders import owned


def fit(*, current: Path | str | np.ndarray | None = None, voltage: Path | str | np.ndarray | None = None,
        dt: float | None = None, synthetic: float | None = None, model: str = "gif", t_ref: float = 4.0,
        bins: int = 6, kernel_ms: float = 300.0, spike_threshold: float = 0.0, holdout: float = 0.2,
        repeats: int = 10, seed: int = 0, out: Path | str | None = None, status=None) -> dict:
    """Fit the generalized integrate-and-fire model (Pozzorini et al. 2015) or a LIF to a recording.

    current, voltage: injected current (pA) and membrane potential (mV), .npy files or arrays with `dt` (ms),
    or one .npz as `current` holding current, voltage and dt; synthetic: instead, simulate lapicque's own
    GIF neuron for this many seconds and fit it (the summary shows the true parameters); model: gif or lif;
    t_ref: refractory ms; bins, kernel_ms: the kernels' basis; spike_threshold: mV that marks a spike;
    holdout: the fraction held out for scoring; repeats: simulated trials per score; out: results folder
    (summary.json, fit.png).

    Returns the summary (`params`, `stderr`, `coincidence_factor`, `export`, ...; docs/analysis.md).
    """
    from lapicque.fitting import fit_recording, load_recording, synthetic_recording, synthetic_truth

    if synthetic is not None:
        if current is not None or voltage is not None:
            raise LapicqueError("give either --synthetic SECONDS or --current and --voltage, not both")
        # the true kernels in the fit's own basis, so that the fit can recover them exactly
        truth = synthetic_truth(bins, kernel_ms, t_ref)
        recording = synthetic_recording(synthetic, dt or 0.1, seed, truth=truth)
    else:
        recording = load_recording(current, voltage, dt)
    if status is not None:
        status(f"fitting a {model} to {len(recording.current) * recording.dt / 1000:g} s")
    with owned(out, "fit") as folder:
        return fit_recording(recording, model, folder, t_ref=t_ref, bins=bins, kernel_ms=kernel_ms,
                             spike_threshold=spike_threshold, holdout=holdout, repeats=repeats, seed=seed)
