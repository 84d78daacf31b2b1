"""Input currents and spike trains for the models: arrays [steps, neurons], one value per step.

Each function takes the number of steps and `dt` (ms) and returns what `simulate` accepts as its
`current` (held constant within each step). Random inputs take a `seed`.
"""

from __future__ import annotations

import numpy as np

from lapicque.errors import LapicqueError


def _steps(duration: float, dt: float) -> int:
    if not (np.isfinite(dt) and dt > 0 and np.isfinite(duration) and duration > 0):
        raise LapicqueError(f"duration = {duration} ms and dt = {dt} ms must be positive numbers")
    return int(round(duration / dt))


def step(amplitude, duration: float, dt: float, onset: float = 0.0, offset: float | None = None,
         neurons: int = 1) -> np.ndarray:
    """`amplitude` between `onset` and `offset` (ms), 0 elsewhere."""
    t = np.arange(_steps(duration, dt)) * dt
    on = (t >= onset) & (t < (offset if offset is not None else np.inf))
    return np.where(on[:, None], np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (neurons,)), 0.0)


def ramp(start, stop, duration: float, dt: float, neurons: int = 1) -> np.ndarray:
    """Linear from `start` to `stop` over the window."""
    steps = _steps(duration, dt)
    return np.repeat(np.linspace(start, stop, steps)[:, None], neurons, axis=1)


def sinusoid(mean, amplitude, frequency_hz: float, duration: float, dt: float, phase: float = 0.0,
             neurons: int = 1) -> np.ndarray:
    """mean + amplitude sin(2 pi f t + phase), sampled at the start of each step."""
    t = np.arange(_steps(duration, dt)) * dt / 1000.0
    return np.repeat((mean + amplitude * np.sin(2 * np.pi * frequency_hz * t + phase))[:, None], neurons, axis=1)


def ornstein_uhlenbeck(mean, sigma, tau: float, duration: float, dt: float, neurons: int = 1, seed: int = 0
                       ) -> np.ndarray:
    """Ornstein-Uhlenbeck noise with stationary mean `mean`, standard deviation `sigma` and
    correlation time `tau` (ms), updated exactly: x <- mean + (x - mean) e^{-dt/tau} +
    sigma sqrt(1 - e^{-2 dt/tau}) xi, started from its stationary distribution."""
    if tau <= 0 or sigma < 0:
        raise LapicqueError(f"tau = {tau} ms must be positive and sigma = {sigma} non-negative")
    rng = np.random.default_rng(seed)
    steps = _steps(duration, dt)
    decay = np.exp(-dt / tau)
    kick = sigma * np.sqrt(1 - decay * decay)
    out = np.empty((steps, neurons))
    x = mean + sigma * rng.standard_normal(neurons)
    noise = rng.standard_normal((steps, neurons))
    for k in range(steps):
        out[k] = x
        x = mean + (x - mean) * decay + kick * noise[k]
    return out


def white_noise(mean, sigma, duration: float, dt: float, neurons: int = 1, seed: int = 0) -> np.ndarray:
    """Gaussian white noise current of mean `mean` whose integral over a step has standard deviation
    sigma sqrt(dt): each step's value is mean + sigma / sqrt(dt) xi (sigma in current x sqrt(ms))."""
    rng = np.random.default_rng(seed)
    return mean + sigma / np.sqrt(dt) * rng.standard_normal((_steps(duration, dt), neurons))


def poisson_spikes(rate_hz, duration: float, dt: float, neurons: int = 1, seed: int = 0) -> np.ndarray:
    """Poisson spike counts per step (int), rate in Hz per neuron (a number or one per neuron)."""
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (neurons,))
    if np.any(rate < 0):
        raise LapicqueError("rates must be non-negative")
    rng = np.random.default_rng(seed)
    return rng.poisson(rate * dt / 1000.0, size=(_steps(duration, dt), neurons))


def spike_train_spectrum(spike_times_ms: np.ndarray, duration: float, bin_ms: float = 1.0
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrum of a spike train (or a population's pooled spikes), binned at `bin_ms`:
    frequencies (Hz) and the periodogram normalised so that a Poisson train of rate r is flat at r."""
    edges = np.arange(0.0, duration + bin_ms, bin_ms)
    counts, _ = np.histogram(spike_times_ms, edges)
    x = counts / (bin_ms / 1000.0)  # a rate signal (Hz)
    x = x - x.mean()
    spectrum = np.abs(np.fft.rfft(x)) ** 2 * (bin_ms / 1000.0) / len(x)
    return np.fft.rfftfreq(len(x), bin_ms / 1000.0), spectrum
