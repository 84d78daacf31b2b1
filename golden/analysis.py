"""Analysis of integrate-and-fire neurons: the Siegert rate, noisy LIF simulation, ISI statistics.

Diffusion convention (Brunel 2000): the free membrane obeys

    tau dV = (mu - V) dt + sigma sqrt(tau) dW

so `mu` (mV) is its mean and sigma / sqrt(2) its standard deviation without threshold.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special

from lapicque.errors import LapicqueError

# |zeta(1/2)| sqrt(2): a threshold checked only on a grid of step dt acts as one raised by
# sigma * ALPHA / 2 * sqrt(dt / tau) (Brunel and Hakim 1999; Fourcaud and Brunel 2002)
ALPHA = np.sqrt(2.0) * 1.4603545088095868


def siegert_rate(mu, sigma, tau_m=10.0, theta=20.0, v_reset=10.0, t_ref=2.0) -> np.ndarray:
    """Stationary rate (Hz) of the LIF under white noise (Siegert 1951; Brunel 2000):

        1 / rate = t_ref + tau sqrt(pi) int_{(v_reset - mu)/sigma}^{(theta - mu)/sigma} exp(u^2) (1 + erf u) du

    computed stably as the integral of erfcx(-u) = exp(u^2) erfc(-u) = exp(u^2) (1 + erf u), which
    neither overflows nor loses digits for strongly negative u; above u = 26 the integrand's
    exp(u^2) exceeds floating point and the rate is 0 to every digit.
    """
    mu, sigma = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64))
    if np.any(sigma <= 0):
        raise LapicqueError("sigma must be positive (use the deterministic LIF rate for sigma = 0)")
    out = np.empty(mu.shape)
    for k in np.ndindex(mu.shape):
        lo, hi = (v_reset - mu[k]) / sigma[k], (theta - mu[k]) / sigma[k]
        if hi > 26.0:
            out[k] = 0.0
            continue
        value, _ = integrate.quad(lambda u: special.erfcx(-u), lo, hi, limit=200, epsabs=0, epsrel=1e-12)
        out[k] = 1000.0 / (t_ref + tau_m * np.sqrt(np.pi) * value)
    return out if out.ndim else float(out)


def noisy_lif(mu, sigma, tau_m=10.0, theta=20.0, v_reset=10.0, t_ref=2.0, dt=0.01, duration=1000.0,
              neurons=100, seed=0):
    """Simulate `neurons` independent LIFs in the diffusion convention, exactly on the grid (the OU
    propagator: V <- mu + (V - mu) e^{-dt/tau} + sigma sqrt((1 - e^{-2 dt/tau}) / 2) xi), threshold checked
    at each step. Returns the spike counts per neuron and all interspike intervals (ms)."""
    rng = np.random.default_rng(seed)
    steps = int(round(duration / dt))
    decay = np.exp(-dt / tau_m)
    kick = sigma / np.sqrt(2.0) * np.sqrt(1 - decay * decay)
    v = np.full(neurons, float(v_reset))
    ref = np.zeros(neurons, dtype=np.int64)
    ref_steps = int(round(t_ref / dt))
    last = np.full(neurons, np.nan)
    counts = np.zeros(neurons, dtype=np.int64)
    intervals = []
    for k in range(steps):
        free = ref == 0
        v = np.where(free, mu + (v - mu) * decay + kick * rng.standard_normal(neurons), v)
        ref = np.maximum(ref - 1, 0)
        fired = free & (v >= theta)
        if fired.any():
            t = (k + 1) * dt
            idx = np.flatnonzero(fired)
            seen = ~np.isnan(last[idx])
            intervals.extend((t - last[idx][seen]).tolist())
            last[idx] = t
            counts[idx] += 1
            v[idx] = v_reset
            ref[idx] = ref_steps
    return counts, np.asarray(intervals)


def cv(intervals) -> float:
    """Coefficient of variation of interspike intervals (nan with fewer than two)."""
    intervals = np.asarray(intervals, dtype=np.float64)
    return float(intervals.std() / intervals.mean()) if intervals.size >= 2 else float("nan")
