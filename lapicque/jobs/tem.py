"""Time encoding: a band-limited signal encoded by integrate-and-fire neurons on a backend, decoded and scored."""

from __future__ import annotations

import math
from pathlib import Path

from lapicque.errors import LapicqueError

from .folders import output_folder, write_run_report

NEURONS = ("ideal", "leaky")


def tem(*, signal: str | Path = "multitone", bandwidth: float = 100.0, duration: float | None = None, tones: int = 10,
        peak: float = 1.0, seed: int = 0, rate: float | None = None, lowpass: bool = False, neuron: str = "ideal",
        bias: float = 3.5, delta: float = 0.7, kappa: float = 0.01, resistance: float = 10.0, encoders: int = 1,
        spread: float = 0.2, decoder: str = "spline", block: float | None = None, overlap: float | None = None,
        backend: str = "float", grid_us: float = 1.0, step_us: float = 10.0, lanes: int = 1, sim: str = "verilator",
        out: Path | str | None = None, report: bool = False, status=None) -> dict:
    """Encode `signal` (a seeded multitone, or a .wav / .npy file) with IAF time encoders and decode it.

    neuron: ideal or leaky (bias b, threshold delta, integration constant kappa, leaky: resistance R);
    encoders, spread: a population with biases spread by that fraction; decoder: spline, sinc or vandermonde;
    block, overlap: decode in windows of `block` s (default: one block for short runs); backend: float (on a
    grid of grid_us), fixed or rtl (an array timestep of step_us); out: results folder (summary.json,
    signal.npz, tem.png; report.html with report=True).

    Returns the summary (`recoverable`, `snr_db`, `spikes`, ...; docs/tem.md).
    """
    from lapicque.golden import tem as golden_tem
    from lapicque.sim.tem import make_signal, run

    source, length, description = make_signal(str(signal), bandwidth, duration, tones=tones, peak=peak, seed=seed,
                                              rate=rate, lowpass=lowpass)
    if neuron not in NEURONS:
        raise LapicqueError(f"unknown --neuron {neuron!r}; choose ideal or leaky")
    encoder = golden_tem.Encoder(bias, delta, kappa, resistance if neuron == "leaky" else math.inf)
    population = golden_tem.population(encoder, encoders, spread)
    windows = None if block is None else (block, overlap if overlap is not None else block / 5)
    with output_folder(out, "tem", report) as folder:
        summary = run(source, length, population, backend, decoder, folder, description=description,
                      grid=grid_us * 1e-6, step=step_us * 1e-6, block=windows, lanes=lanes, sim=sim, seed=seed,
                      status=status)
    if report:  # once the run is complete: the report refuses a folder whose run is not
        write_run_report(folder)
    return summary
