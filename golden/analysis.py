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


def lif_linear_response(frequency_hz, mu, sigma, tau_m=10.0, theta=20.0, v_reset=10.0, t_ref=2.0) -> complex:
    """The LIF's rate response to a small modulation of its mean input, mu + eps cos(2 pi f t):
    r(t) = r0 + eps Re[chi e^{i 2 pi f t}], chi in Hz per mV (|chi| the gain, -arg chi the lag;
    Brunel and Hakim 1999; the closed form of Lindner and Schimansky-Geier 2001, with parabolic
    cylinder functions D of complex order, evaluated by mpmath). In units of tau_m, with
    w = 2 pi f tau_m, D = sigma^2 / 2, z_T = (mu - theta) / sqrt(D), z_R = (mu - v_reset) / sqrt(D) and
    Delta = (v_reset^2 - theta^2 + 2 mu (theta - v_reset)) / (4 D):

        chi = r0 i w / (sqrt(D) (i w - 1)) [D_{iw-1}(z_T) - e^Delta D_{iw-1}(z_R)]
                                           / [D_{iw}(z_T) - e^Delta e^{i w t_ref / tau} D_{iw}(z_R)]

    At f -> 0 it is d r0 / d mu of the Siegert rate (a test checks this)."""
    import mpmath

    d = sigma**2 / 2.0
    w = 2 * np.pi * frequency_hz * tau_m / 1000.0
    r0 = siegert_rate(mu, sigma, tau_m, theta, v_reset, t_ref) * tau_m / 1000.0  # per tau_m
    iw = 1j * w
    delta = (v_reset**2 - theta**2 + 2 * mu * (theta - v_reset)) / (4 * d)
    z_t, z_r = (mu - theta) / np.sqrt(d), (mu - v_reset) / np.sqrt(d)
    num = mpmath.pcfd(iw - 1, z_t) - mpmath.exp(delta) * mpmath.pcfd(iw - 1, z_r)
    den = mpmath.pcfd(iw, z_t) - mpmath.exp(delta) * mpmath.exp(iw * t_ref / tau_m) * mpmath.pcfd(iw, z_r)
    chi = r0 * iw / (np.sqrt(d) * (iw - 1)) * num / den
    # the closed form is written for e^{-i w t}: conjugated, it is chi in the convention above
    return complex(chi).conjugate() * 1000.0 / tau_m


def noisy_lif(mu, sigma, tau_m=10.0, theta=20.0, v_reset=10.0, t_ref=2.0, dt=0.01, duration=1000.0,
              neurons=100, seed=0):
    """Simulate `neurons` independent LIFs in the diffusion convention, exactly on the grid (the OU
    propagator: V <- mu + (V - mu) e^{-dt/tau} + sigma sqrt((1 - e^{-2 dt/tau}) / 2) xi), threshold checked
    at each step. Returns the spike counts per neuron and all interspike intervals (ms)."""
    counts, intervals, _ = _noisy_lif_run(mu, sigma, tau_m, theta, v_reset, t_ref, dt, duration, neurons, seed)
    return counts, intervals


def rate_modulation(frequency_hz, mu, sigma, eps=1.0, tau_m=10.0, theta=20.0, v_reset=10.0, t_ref=2.0, dt=0.02,
                    duration=1000.0, neurons=4000, seed=0, skip=200.0) -> tuple[float, complex]:
    """Simulated counterpart of `lif_linear_response`: the mean input mu + eps cos(2 pi f t), the
    population's rate after `skip` ms projected on the drive's frequency. Returns (r0 in Hz, the
    complex response per mV, whose modulus and argument compare with chi's)."""
    _, _, per_step = _noisy_lif_run(mu, sigma, tau_m, theta, v_reset, t_ref, dt, duration, neurons, seed,
                                    modulation=(eps, frequency_hz))
    start = int(round(skip / dt))
    t = (np.arange(len(per_step)) + 1) * dt
    counts, t = per_step[start:], t[start:]
    seconds = (duration - skip) / 1000.0
    phase = np.exp(-2j * np.pi * frequency_hz * t / 1000.0)
    return counts.sum() / (neurons * seconds), 2 * np.sum(counts * phase) / (neurons * seconds * eps)


def _noisy_lif_run(mu, sigma, tau_m, theta, v_reset, t_ref, dt, duration, neurons, seed, modulation=None):
    rng = np.random.default_rng(seed)
    steps = int(round(duration / dt))
    decay = np.exp(-dt / tau_m)
    kick = sigma / np.sqrt(2.0) * np.sqrt(1 - decay * decay)
    v = np.full(neurons, float(v_reset))
    ref = np.zeros(neurons, dtype=np.int64)
    ref_steps = int(round(t_ref / dt))
    last = np.full(neurons, np.nan)
    counts = np.zeros(neurons, dtype=np.int64)
    per_step = np.zeros(steps, dtype=np.int64)
    intervals = []
    for k in range(steps):
        mean = mu if modulation is None else mu + modulation[0] * np.cos(2 * np.pi * modulation[1] * k * dt / 1000)
        free = ref == 0
        v = np.where(free, mean + (v - mean) * decay + kick * rng.standard_normal(neurons), v)
        ref = np.maximum(ref - 1, 0)
        fired = free & (v >= theta)
        if fired.any():
            t = (k + 1) * dt
            idx = np.flatnonzero(fired)
            seen = ~np.isnan(last[idx])
            intervals.extend((t - last[idx][seen]).tolist())
            last[idx] = t
            counts[idx] += 1
            per_step[k] = idx.size
            v[idx] = v_reset
            ref[idx] = ref_steps
    return counts, np.asarray(intervals), per_step


def cv(intervals) -> float:
    """Coefficient of variation of interspike intervals (nan with fewer than two)."""
    intervals = np.asarray(intervals, dtype=np.float64)
    return float(intervals.std() / intervals.mean()) if intervals.size >= 2 else float("nan")


def noisy_lif_fi(p: dict, currents, sigma: float, dt: float, duration: float, neurons: int = 200) -> dict:
    """The LIF of `lapicque.golden.models` parameters `p` under white noise of `sigma` mV: Siegert rates and
    simulated ones (`neurons` each) for each current, and the linear response at the middle current
    (Brunel's convention, voltages relative to E_L). What `lapicque fi --sigma` adds to its summary."""
    cell = {"tau_m": p["tau_m"], "theta": p["v_th"] - p["e_l"], "v_reset": p["v_reset"] - p["e_l"], "t_ref": p["t_ref"]}
    mus = p["tau_m"] / p["c_m"] * np.asarray(currents)
    siegert = [siegert_rate(mu, sigma, **cell) for mu in mus]
    simulated = [noisy_lif(mu, sigma, dt=dt, duration=duration, neurons=neurons, seed=k, **cell)[0].mean()
                 / duration * 1000.0 for k, mu in enumerate(mus)]
    mid = float(mus[len(mus) // 2])
    freqs = np.geomspace(1.0, 500.0, 25)
    chi = [lif_linear_response(f, mid, sigma, **cell) for f in freqs]
    return {"sigma_mv": sigma, "mu_mv": mus.tolist(), "siegert_rates_hz": siegert, "simulated_rates_hz": simulated,
            "simulated_neurons": neurons, "response_mu_mv": mid, "response_frequencies_hz": freqs.tolist(),
            "response_gain_hz_per_mv": [abs(c) for c in chi], "response_phase_rad": [float(np.angle(c)) for c in chi]}
