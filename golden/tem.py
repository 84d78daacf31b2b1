"""Time encoding machines: integrate-and-fire neurons as encoders of band-limited signals, and their decoders.

An integrate-and-fire neuron driven by u(t) + b is a time encoding machine (Lazar and Toth 2004):

    ideal (R = inf):  kappa dv/dt = u(t) + b                    spike when v reaches delta, then v <- 0
    leaky:            C dv/dt     = -v / R + u(t) + b            (kappa is C)

Between consecutive spikes t_k < t_{k+1} the spike times give one linear measurement of u (the t-transform):

    ideal: int_{t_k}^{t_{k+1}} u(s) ds                             = kappa delta - b (t_{k+1} - t_k)   = q_k
    leaky: int_{t_k}^{t_{k+1}} u(s) exp(-(t_{k+1} - s) / RC) ds    = C delta - b RC (1 - exp(-(t_{k+1} - t_k) / RC))

A signal of bandwidth B (Omega = 2 pi B) is recoverable from these when the spikes are dense enough: the
longest possible interval, at the weakest drive b - c (c bounds |u|), must be shorter than the Nyquist
period pi / Omega (ideal); the leaky neuron needs the tighter (1 - e) / (1 + e), e = delta / (R (b - c))
(Lazar 2004, as bionet ted checks it). A population recovers when the sum of its neurons' lowest rates
exceeds Omega / pi.

Encoders here integrate a sampled signal on a fine grid: the ideal one by the trapezoid rule, the leaky one
exactly for input linear between samples (an exponential integrator); a spike's time is the linear
interpolation of the crossing inside its grid step, and the neuron restarts from 0 at that time and
finishes the step. Spike times are exact up to O(dt^2) of the grid (dt = 1 us by default: errors near 1e-10 s).

Decoders (all linear in the measurements q):

- `sinc`: u = sum_l c_l g(t - s_l), g(t) = sin(Omega t) / (pi t), s_l the interval midpoints, c = G^+ q with
  G[k, l] = L_k g(. - s_l) (Lazar and Toth 2004); a population stacks every neuron's measurements.
- `spline`: the consistent decoder (Lazar and Pnevmatikakis): the function with least int (u'')^2 whose
  t-transform is q: u = d_0 + d_1 t + sum_l c_l psi_l(t), psi_l(t) = L_l |t - .|^3, from the saddle system
  [[G, P], [P^T, 0]] [c; d] = [q; 0]. It needs no bandwidth; a population stacks as for sinc.
- `vandermonde` (ideal, one neuron): the antiderivative F(t) = int_{t_0}^t u, known at the spike times by
  the cumulative sums of q, is interpolated by n + 1 exponentials e^{j w_i t} with w_i evenly spaced on
  [-Omega, Omega] (Lazar, Simonyi and Toth 2005): a Vandermonde system in z_k = e^{j 2 Omega t_k / n},
  solved in O(n^2) by the Bjorck-Pereyra algorithm; u = F'.

L_k is the k-th measurement functional (the integral above, with its exponential weight when leaky). Its
integrals are computed by Gauss-Legendre quadrature on the cells between consecutive spike times of all
neurons (where every integrand is smooth), so ideal and leaky, one neuron or many, share one code path; the
tests check it against the closed forms (sine integrals, polynomials) of the ideal neuron.

`decode_blocks` decodes long spike trains window by window (each window overlaps its neighbours and keeps
only its centre), so memory is bounded by the window, not by the signal's length.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numba
import numpy as np

from lapicque.errors import LapicqueError
from lapicque.spec import DECAY_ONE, WIDTH_LIMITS, ArraySpec, Widths, signed_range

DECODERS = ("sinc", "spline", "vandermonde")
PINV_RCOND = 1e-8  # singular values below this fraction of the largest are noise in the sinc system
_QUADRATURE_NODES = 12  # per cell: exact to rounding for the sinc kernel over cells up to a Nyquist period


# ----------------------------------------------------------------------------------------------- encoders


@dataclass(frozen=True)
class Encoder:
    """An integrate-and-fire time encoder: bias b, threshold delta, capacitance kappa (C), resistance R."""

    bias: float
    delta: float
    kappa: float = 1.0
    resistance: float = math.inf

    @property
    def leaky(self) -> bool:
        return math.isfinite(self.resistance)

    @property
    def rc(self) -> float:
        return self.resistance * self.kappa

    def describe(self) -> dict:
        out = {"kind": "leaky" if self.leaky else "ideal", "b": self.bias, "delta": self.delta}
        if self.leaky:
            out.update(C=self.kappa, R=self.resistance)
        else:
            out["kappa"] = self.kappa
        return out

    def max_interval(self, peak: float) -> float:
        """The longest interval between spikes for any |u| <= peak (inf when it may never fire)."""
        drive = self.bias - peak
        if drive <= 0:
            return math.inf
        if not self.leaky:
            return self.kappa * self.delta / drive
        ratio = self.delta / (self.resistance * drive)
        return math.inf if ratio >= 1 else -self.rc * math.log1p(-ratio)

    def min_interval(self, peak: float) -> float:
        """The shortest interval between spikes for any |u| <= peak."""
        drive = self.bias + peak
        if not self.leaky:
            return self.kappa * self.delta / drive
        ratio = self.delta / (self.resistance * drive)
        return -self.rc * math.log1p(-ratio) if ratio < 1 else math.inf

    def quanta(self, times: np.ndarray) -> np.ndarray:
        """q_k for the intervals between consecutive `times` (the t-transform's right-hand side)."""
        gaps = np.diff(times)
        if not self.leaky:
            return self.kappa * self.delta - self.bias * gaps
        return self.kappa * self.delta + self.bias * self.rc * np.expm1(-gaps / self.rc)


def check_encoders(encoders: list[Encoder]) -> None:
    """Parameters an encoder cannot run with: one-line errors naming the parameter."""
    for k, e in enumerate(encoders):
        name = f"encoder {k}" if len(encoders) > 1 else "the encoder"
        for field_name, value in (("delta", e.delta), ("kappa" if not e.leaky else "C", e.kappa)):
            if not (math.isfinite(value) and value > 0):
                raise LapicqueError(f"{name}: {field_name} = {value} must be a positive number")
        if not (math.isfinite(e.bias) and e.bias > 0):
            raise LapicqueError(f"{name}: bias b = {e.bias} must be a positive number")
        if not e.resistance > 0 or math.isnan(e.resistance):
            raise LapicqueError(f"{name}: R = {e.resistance} must be positive (inf for an ideal encoder)")


def population(base: Encoder, count: int, spread: float = 0.2) -> list[Encoder]:
    """`count` encoders for one signal whose biases spread evenly over base.bias * (1 +- spread / 2)."""
    if count < 1:
        raise LapicqueError(f"--encoders = {count} must be at least 1")
    if count == 1:
        return [base]
    factors = 1.0 + spread * (np.linspace(0.0, 1.0, count) - 0.5)
    return [Encoder(float(base.bias * f), base.delta, base.kappa, base.resistance) for f in factors]


@numba.njit(cache=True)
def _encode_kernel(u, dt, t0, bias, delta, kappa, rc, v, times, owner):  # pragma: no cover - compiled
    count = 0
    capacity = times.shape[0]
    for n in range(u.shape[0] - 1):
        u0 = u[n]
        u1 = u[n + 1]
        for e in range(bias.shape[0]):
            b = bias[e]
            leaky = rc[e] < np.inf
            if leaky:
                decay = math.exp(-dt / rc[e])
                r = rc[e] / kappa[e]
                new = v[e] * decay + r * (b + u0) * (1.0 - decay) + r * (u1 - u0) * (1.0 - rc[e] * (1.0 - decay) / dt)
            else:
                new = v[e] + dt * (b + 0.5 * (u0 + u1)) / kappa[e]
            if new >= delta[e]:
                frac = (delta[e] - v[e]) / (new - v[e])
                if count == capacity:
                    return -1
                times[count] = t0 + (n + frac) * dt
                owner[count] = e
                count += 1
                rest = (1.0 - frac) * dt
                um = u0 + frac * (u1 - u0)
                if rest <= 0.0:
                    new = 0.0
                elif leaky:
                    decay = math.exp(-rest / rc[e])
                    r = rc[e] / kappa[e]
                    new = r * (b + um) * (1.0 - decay) + r * (u1 - um) * (1.0 - rc[e] * (1.0 - decay) / rest)
                else:
                    new = rest * (b + 0.5 * (um + u1)) / kappa[e]
            v[e] = new
    return count


class StreamEncoder:
    """Encoders integrating one signal chunk by chunk; `feed` returns each encoder's new spike times.

    Chunks are consecutive samples of the signal on a grid of step `dt`; each chunk's first sample must
    repeat the previous chunk's last (the kernel integrates between neighbouring samples).
    """

    def __init__(self, encoders: list[Encoder], dt: float, peak: float, t0: float = 0.0):
        check_encoders(encoders)
        self.encoders = encoders
        self.dt = dt
        self.t = t0
        self.v = np.zeros(len(encoders))
        self._params = [np.array([getattr(e, name) for e in encoders], dtype=np.float64)
                        for name in ("bias", "delta", "kappa")]
        self._rc = np.array([e.rc for e in encoders], dtype=np.float64)
        shortest = min(e.min_interval(peak) for e in encoders)
        if shortest < 2 * dt:
            raise LapicqueError(f"the encoder fires faster than the grid resolves (an interval of {shortest:.3g} s "
                                f"against a grid of {dt:.3g} s); raise delta or refine the grid")
        self._rate_bound = 1.0 / shortest

    def feed(self, u: np.ndarray) -> list[np.ndarray]:
        u = np.ascontiguousarray(u, dtype=np.float64)
        span = (len(u) - 1) * self.dt
        capacity = int(len(self.encoders) * (span * self._rate_bound + 2)) + 8
        times = np.empty(capacity)
        owner = np.empty(capacity, dtype=np.int64)
        count = _encode_kernel(u, self.dt, self.t, *self._params, self._rc, self.v, times, owner)
        if count < 0:  # the signal exceeded the peak it was declared with
            raise LapicqueError("the signal exceeds its declared peak |u|; pass its true peak")
        self.t += span
        return [times[:count][owner[:count] == e] for e in range(len(self.encoders))]


def encode(encoders: list[Encoder], u: np.ndarray, dt: float, t0: float = 0.0) -> list[np.ndarray]:
    """Spike times (s) of each encoder for the samples `u` on a grid of step `dt` starting at t0."""
    u = np.asarray(u, dtype=np.float64)
    return StreamEncoder(encoders, dt, float(np.max(np.abs(u), initial=0.0)), t0).feed(u)


# ----------------------------------------------------------------------------------- recovery condition


def recovery(encoders: list[Encoder], bandwidth: float, peak: float) -> dict:
    """The spike-density condition for perfect recovery, with its value; raises when an encoder cannot fire.

    One neuron: r = T_max Omega / pi < bound (1 for ideal, (1 - e) / (1 + e) for leaky). A population: the
    sum of its lowest rates 1 / T_max must exceed Omega / pi, stated as r = (Omega / pi) / sum(1 / T_max) < 1.
    """
    for k, e in enumerate(encoders):
        if not math.isfinite(e.max_interval(peak)):
            name = f"encoder {k}" if len(encoders) > 1 else "the encoder"
            need = f"b > {peak:g}" if not e.leaky else f"R (b - {peak:g}) > delta = {e.delta:g}"
            raise LapicqueError(f"{name} cannot fire for every signal with |u| <= {peak:g}: it needs {need}; "
                                "raise the bias or lower the threshold")
    omega_over_pi = 2.0 * bandwidth
    if len(encoders) == 1:
        e = encoders[0]
        t_max = e.max_interval(peak)
        value = t_max * omega_over_pi
        if e.leaky:
            eps = e.delta / (e.resistance * (e.bias - peak))
            bound = (1 - eps) / (1 + eps)
            condition = "-RC ln(1 - delta / (R (b - c))) Omega / pi < (1 - e) / (1 + e), e = delta / (R (b - c))"
        else:
            bound = 1.0
            condition = "kappa delta / (b - c) < pi / Omega"
        return {"condition": condition, "value": value, "bound": bound, "satisfied": bool(value < bound),
                "max_interval_s": t_max, "nyquist_period_s": 1.0 / omega_over_pi, "peak": peak}
    rates = sum(1.0 / e.max_interval(peak) for e in encoders)
    value = omega_over_pi / rates
    return {"condition": "Omega / pi < sum_j 1 / T_max,j (the population's lowest total rate)", "value": value,
            "bound": 1.0, "satisfied": bool(value < 1.0), "lowest_total_rate_hz": rates,
            "nyquist_rate_hz": omega_over_pi, "peak": peak}


# -------------------------------------------------------------------------------------------- signals


@dataclass
class Multitone:
    """sum_k a_k cos(2 pi f_k t + phi_k): band-limited to max f_k, peak bounded by sum |a_k|."""

    frequencies: np.ndarray
    amplitudes: np.ndarray
    phases: np.ndarray
    bandwidth: float

    @property
    def peak(self) -> float:
        return float(np.sum(np.abs(self.amplitudes)))

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros(t.shape)
        for f, a, p in zip(self.frequencies, self.amplitudes, self.phases, strict=True):
            out += a * np.cos(2 * np.pi * f * t + p)
        return out

    def integral(self, t0, t1) -> np.ndarray:
        """int_{t0}^{t1} u(s) ds, exactly."""
        w = 2 * np.pi * self.frequencies[:, None]
        t0 = np.asarray(t0, dtype=np.float64)[None]
        t1 = np.asarray(t1, dtype=np.float64)[None]
        a, p = self.amplitudes[:, None], self.phases[:, None]
        return np.sum(a * (np.sin(w * t1 + p) - np.sin(w * t0 + p)) / w, axis=0)


def multitone(bandwidth: float, tones: int = 10, peak: float = 1.0, seed: int = 0) -> Multitone:
    """A random multitone signal: `tones` frequencies uniform in (0, bandwidth] (the highest at the band edge),
    amplitudes uniform in [0.2, 1], random phases; scaled so that sum |a_k| = peak, the bound on |u|."""
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise LapicqueError(f"--bandwidth = {bandwidth} Hz must be a positive number")
    if tones < 1:
        raise LapicqueError(f"--tones = {tones} must be at least 1")
    rng = np.random.default_rng(seed)
    freqs = np.sort(rng.uniform(0.0, bandwidth, tones))
    freqs[-1] = bandwidth
    freqs[freqs == 0] = bandwidth / 2  # a constant is not a tone
    amps = rng.uniform(0.2, 1.0, tones)
    amps *= peak / amps.sum()
    return Multitone(freqs, amps, rng.uniform(0, 2 * np.pi, tones), float(bandwidth))


@dataclass
class Sampled:
    """A band-limited signal given by samples at `rate` Hz from t = 0 (a user's file after band-limiting)."""

    samples: np.ndarray
    rate: float
    bandwidth: float
    removed_energy: float = 0.0  # fraction of the file's energy above the band, filtered out

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.samples), initial=0.0))

    def __call__(self, times) -> np.ndarray:
        """The signal on a regular grid of `times` (from its first element), by band-limited (FFT)
        interpolation; a grid that runs one sample past the end wraps to the (periodic) start."""
        from scipy.signal import resample

        times = np.asarray(times, dtype=np.float64)
        step = times[1] - times[0] if len(times) > 1 else 1.0 / self.rate
        n = int(round(self.duration / step))
        fine = resample(self.samples, n) if n != len(self.samples) else self.samples
        if times[0]:  # shift by a fraction of a sample: a phase ramp in the band-limited spectrum
            spectrum = np.fft.rfft(fine)
            spectrum *= np.exp(2j * np.pi * np.fft.rfftfreq(n, step) * times[0])
            fine = np.fft.irfft(spectrum, n)
        return np.resize(fine, len(times))


def band_limit(samples: np.ndarray, rate: float, bandwidth: float) -> tuple[np.ndarray, float]:
    """Remove every component above `bandwidth` (FFT brick wall); returns the signal and the energy fraction
    removed."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    total = float(np.sum(np.abs(spectrum) ** 2))
    above = freqs > bandwidth
    removed = float(np.sum(np.abs(spectrum[above]) ** 2)) / total if total > 0 else 0.0
    spectrum[above] = 0
    return np.fft.irfft(spectrum, len(samples)), removed


# ------------------------------------------------------------------------------------------ measurements


@dataclass
class Measurements:
    """The t-transform of every encoder's spikes: interval [start, end], weight time constant rc, value q,
    sorted by start."""

    start: np.ndarray
    end: np.ndarray
    rc: np.ndarray
    q: np.ndarray

    @classmethod
    def from_spikes(cls, encoders: list[Encoder], spikes: list[np.ndarray]) -> Measurements:
        parts = [(t[:-1], t[1:], np.full(max(len(t) - 1, 0), e.rc), e.quanta(t))
                 for e, t in zip(encoders, spikes, strict=True) if len(t) >= 2]
        if not parts:
            return cls(*(np.empty(0) for _ in range(4)))
        merged = [np.concatenate([p[i] for p in parts]) for i in range(4)]
        order = np.argsort(merged[0], kind="stable")  # by start: decode_blocks slices windows by it
        return cls(*(m[order] for m in merged))

    def __len__(self) -> int:
        return len(self.q)

    def inside(self, lo: float, hi: float) -> Measurements:
        keep = (self.start >= lo) & (self.end <= hi)
        return Measurements(self.start[keep], self.end[keep], self.rc[keep], self.q[keep])

    def shifted(self, origin: float, unit: float) -> Measurements:
        """The same measurements in the time variable (t - origin) / unit (q scales with the integral)."""
        return Measurements((self.start - origin) / unit, (self.end - origin) / unit, self.rc / unit,
                            self.q / unit)


def _gauss(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(nodes)
    return (x + 1) / 2, w / 2  # on [0, 1]


def _weight(s, end, rc):
    """exp(-(end - s) / rc), 1 for an ideal encoder (rc = inf)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(rc), 1.0, np.exp(-(end - s) / rc))


def quadrature(meas: Measurements, nodes: int = _QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Nodes x and weights W [measurements, nodes] with L_k f = sum_j W[k, j] f(x_j) for smooth pieces of f.

    The cells are the gaps between all interval ends, so any f that is smooth except at interval ends
    (every kernel here) is integrated cell by cell where it is smooth.
    """
    breaks = np.unique(np.concatenate([meas.start, meas.end]))
    xi, wi = _gauss(nodes)
    widths = np.diff(breaks)
    x = (breaks[:-1, None] + widths[:, None] * xi[None]).ravel()
    cell_w = (widths[:, None] * wi[None]).ravel()
    first = np.searchsorted(breaks, meas.start)
    last = np.searchsorted(breaks, meas.end)
    weights = np.zeros((len(meas), len(x)))
    for k in range(len(meas)):
        sl = slice(first[k] * nodes, last[k] * nodes)
        weights[k, sl] = cell_w[sl] * _weight(x[sl], meas.end[k], meas.rc[k])
    return x, weights


def sinc_kernel(t, omega: float) -> np.ndarray:
    """g(t) = sin(Omega t) / (pi t), the band-limited identity (g(0) = Omega / pi)."""
    return (omega / np.pi) * np.sinc(omega * np.asarray(t) / np.pi)


def spline_basis(x: np.ndarray, meas: Measurements, chunk: int = 1 << 21) -> np.ndarray:
    """psi_l(x) = L_l |x - .|^3 for every point x and measurement l, shape [len(x), len(meas)].

    Each interval is split at x, leaving two smooth pieces; Gauss-Legendre with 2 nodes is exact for the
    ideal neuron's cubic, 6 nodes are exact to rounding for the leaky one's cubic times a slow exponential.
    """
    leaky = bool(np.any(np.isfinite(meas.rc)))
    xi, wi = _gauss(6 if leaky else 2)
    out = np.empty((len(x), len(meas)))
    rows = max(1, chunk // max(1, len(meas) * len(xi)))
    a, b, rc = meas.start[None, :, None], meas.end[None, :, None], meas.rc[None, :, None]
    for lo in range(0, len(x), rows):
        xs = x[lo:lo + rows, None, None]
        cut = np.clip(xs, a, b)
        left = a + (cut - a) * xi
        right = cut + (b - cut) * xi
        total = ((cut - a) * np.sum(wi * _weight(left, b, rc) * (xs - left) ** 3, axis=-1, keepdims=True)
                 + (b - cut) * np.sum(wi * _weight(right, b, rc) * (right - xs) ** 3, axis=-1, keepdims=True))
        out[lo:lo + rows] = total[..., 0]
    return out


# ------------------------------------------------------------------------------------------------ decoders


def bjorck_pereyra(z: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve sum_i a_i z_k^i = rhs_k (a Vandermonde system) in O(n^2) (Bjorck and Pereyra 1970).

    Stage 1 turns rhs into Newton divided differences on the nodes z, stage 2 turns the Newton form into
    monomial coefficients; neither forms the matrix, whose condition number grows exponentially with n.
    """
    z = np.asarray(z)
    a = np.array(rhs, dtype=np.result_type(z, rhs, np.float64))
    n = len(z) - 1
    for k in range(n):
        a[k + 1:] = (a[k + 1:] - a[k:-1]) / (z[k + 1:] - z[: n - k])
    for k in range(n - 1, -1, -1):
        a[k:n] = a[k:n] - z[k] * a[k + 1:]
    return a


def _solve_sinc(meas: Measurements, omega: float) -> Callable:
    x, weights = quadrature(meas)
    centres = (meas.start + meas.end) / 2
    gram = weights @ sinc_kernel(x[:, None] - centres[None, :], omega)
    coeffs = np.linalg.pinv(gram, rcond=PINV_RCOND) @ meas.q

    def evaluate(t):
        out = np.empty(len(t))
        step = max(1, (1 << 22) // max(1, len(centres)))
        for lo in range(0, len(t), step):
            out[lo:lo + step] = sinc_kernel(t[lo:lo + step, None] - centres[None, :], omega) @ coeffs
        return out

    return evaluate


def _solve_spline(meas: Measurements) -> Callable:
    x, weights = quadrature(meas, nodes=6)
    n = len(meas)
    system = np.zeros((n + 2, n + 2))
    system[:n, :n] = weights @ spline_basis(x, meas)
    poly = np.stack([weights.sum(axis=1), weights @ x], axis=1)  # L_k 1, L_k t
    system[:n, n:] = poly
    system[n:, :n] = poly.T
    rhs = np.concatenate([meas.q, [0.0, 0.0]])
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    coeffs, d0, d1 = solution[:n], solution[n], solution[n + 1]

    def evaluate(t):
        return d0 + d1 * t + spline_basis(t, meas) @ coeffs

    return evaluate


def vandermonde_system(times: np.ndarray, q: np.ndarray, omega: float) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """Nodes z, right-hand side and frequencies of the Vandermonde formulation for spike times t_0..t_n."""
    n = len(times) - 1
    rel = times - times[0]
    antiderivative = np.concatenate([[0.0], np.cumsum(q)])
    z = np.exp(2j * omega * rel / n)
    rhs = np.exp(1j * omega * rel) * antiderivative
    freqs = omega * (-1.0 + 2.0 * np.arange(n + 1) / n)
    return z, rhs, freqs


def _solve_vandermonde(meas: Measurements, omega: float, solver: str = "bjorck-pereyra") -> Callable:
    if np.any(np.isfinite(meas.rc)):
        raise LapicqueError("the vandermonde decoder needs an ideal encoder (R = inf); use sinc or spline")
    times = np.append(meas.start, meas.end[-1:])
    if len(times) > 1 and np.any(times[1:-1] != meas.end[:-1]):
        raise LapicqueError("the vandermonde decoder takes one encoder's spikes; use sinc or spline for a "
                            "population")
    z, rhs, freqs = vandermonde_system(times, meas.q, omega)
    if solver == "bjorck-pereyra":
        amplitudes = bjorck_pereyra(z, rhs)
    else:
        amplitudes = np.linalg.solve(np.vander(z, increasing=True), rhs)
    t0 = times[0]

    def evaluate(t):
        out = np.empty(len(t))
        step = max(1, (1 << 22) // len(freqs))
        for lo in range(0, len(t), step):
            phase = np.exp(1j * freqs[None, :] * (t[lo:lo + step, None] - t0))
            out[lo:lo + step] = np.real(phase @ (1j * freqs * amplitudes))
        return out

    return evaluate


def decode(meas: Measurements, bandwidth: float, method: str = "sinc",
           solver: str = "bjorck-pereyra") -> Callable[[np.ndarray], np.ndarray]:
    """Solve the decoder `method` for the measurements; returns u as a function of time (s).

    Internally time runs in units of the measurements' span, centred, so every decoder's matrix has
    entries of order one whatever the signal's length.
    """
    if method not in DECODERS:
        raise LapicqueError(f"unknown decoder {method!r}; choose one of {', '.join(DECODERS)}")
    if len(meas) < 2:
        raise LapicqueError("fewer than 3 spikes: nothing to decode; lengthen the signal or raise the bias")
    origin = float((meas.start.min() + meas.end.max()) / 2)
    unit = float(meas.end.max() - meas.start.min())
    local = meas.shifted(origin, unit)
    omega = 2 * np.pi * bandwidth * unit
    if method == "sinc":
        inner = _solve_sinc(local, omega)
    elif method == "spline":
        inner = _solve_spline(local)
    else:
        inner = _solve_vandermonde(local, omega, solver)
    return lambda t: inner((np.asarray(t, dtype=np.float64) - origin) / unit)


def decode_blocks(meas: Measurements, bandwidth: float, rate: float, samples: int, method: str = "sinc",
                  window: float = 0.2, overlap: float = 0.05) -> Iterator[tuple[int, np.ndarray]]:
    """Decode window by window; yields (first, values), the reconstruction at times k / rate for
    k = first .. first + len(values) - 1. Together the blocks cover k = 0 .. samples - 1 exactly once.

    Windows of `window` seconds start every `window - 2 * overlap` seconds; each keeps the part of its
    reconstruction at least `overlap` from its ends (the first and last keep their outer edges too), so
    the kept parts tile the output. Each window decodes the intervals that lie inside it; only one
    window's matrices exist at a time, so memory does not grow with the signal's length.
    """
    if not (window > 2 * overlap > 0):
        raise LapicqueError(f"--block = {window} s must exceed twice the overlap ({overlap} s), which must be "
                            "positive")
    if len(meas) == 0:
        raise LapicqueError("no spikes to decode; lengthen the signal or raise the bias")
    start, end, rc, q = meas.start, meas.end, meas.rc, meas.q  # sorted by start (from_spikes sorts them)
    lo, finish = float(start[0]), float(end.max())
    first = 0
    while first < samples:
        hi = lo + window
        last = hi >= finish
        stop = samples if last else min(samples, math.ceil((hi - overlap) * rate))
        rows = slice(np.searchsorted(start, lo), np.searchsorted(start, hi))
        part = Measurements(start[rows], end[rows], rc[rows], q[rows]).inside(lo, hi)
        if stop > first:
            yield first, decode(part, bandwidth, method)(np.arange(first, stop) / rate)
        first = max(first, stop)
        lo += window - 2 * overlap


# --------------------------------------------------------------------------------------------- scoring


def snr_db(u: np.ndarray, estimate: np.ndarray) -> float:
    """10 log10(sum u^2 / sum (u - estimate)^2)."""
    err = float(np.sum((np.asarray(u) - np.asarray(estimate)) ** 2))
    power = float(np.sum(np.asarray(u) ** 2))
    return math.inf if err == 0 else 10 * math.log10(power / err)


def central(t: np.ndarray, duration: float, trim: float = 0.1) -> np.ndarray:
    """The mask of times in the central part: `trim` of the duration cut from each end."""
    return (t >= trim * duration) & (t <= (1 - trim) * duration)


# ------------------------------------------------------------------------------------ on the array


@dataclass
class CompiledTEM:
    """Encoders as an array spec: one neuron per encoder, the signal as every neuron's external input.

    The fixed model samples u at the middle of each step of `step` seconds (x_n = round(scale u)), so a
    step adds the midpoint rule's integral; a spike at step n is read as the time (n + 1/2) step, within
    half a step of the crossing. `encoders` are the encoders the codes implement (bias, threshold and
    leak rounded), which the decoder must use; `requested` are the ones asked for.
    """

    spec: ArraySpec
    encoders: list[Encoder]
    requested: list[Encoder]
    step: float
    scale: float
    quantisation: dict

    def inputs(self, u_mid: np.ndarray) -> np.ndarray:
        """External input codes [steps, neurons] from the signal sampled at the steps' midpoints."""
        lo, hi = signed_range(self.spec.widths.ext)
        x = np.clip(np.round(self.scale * np.asarray(u_mid, dtype=np.float64)), lo, hi).astype(np.int64)
        return np.repeat(x[:, None], self.spec.neurons, axis=1)

    def spike_times(self, spikes: np.ndarray) -> list[np.ndarray]:
        """Spike times (s) of each neuron from a [steps, neurons] raster."""
        return [(np.flatnonzero(spikes[:, k]) + 0.5) * self.step for k in range(spikes.shape[1])]


def compile_encoders(encoders: list[Encoder], step: float, peak: float, ext_bits: int = 16,
                     lanes: int = 1) -> CompiledTEM:
    """Quantise `encoders` onto the array's neuron contract at a timestep of `step` seconds.

    The input scale K maps the signal's peak to the largest `ext_bits` code. Ideal: v += x + bias with
    bias = K b and threshold K kappa delta / step (no leak). Leaky: the membrane decays by the 12-bit code
    d = round(4096 (1 - exp(-step / RC))), so the effective RC is -step / ln(1 - d / 4096); the step then
    adds R (1 - E)(u + b) in units where K = V R (1 - E), threshold V delta. Both reset by subtracting
    the threshold, which keeps the overshoot as the continuous neuron's restart at the crossing does.
    """
    check_encoders(encoders)
    lo, hi, _ = WIDTH_LIMITS["ext"]
    if not lo + 1 <= ext_bits <= hi:
        raise LapicqueError(f"--ext-bits = {ext_bits} is out of range; allowed {lo + 1}..{hi}")
    if not (math.isfinite(step) and step > 0):
        raise LapicqueError(f"--step-us must be a positive number (got {step * 1e6:g})")
    if not peak > 0:
        raise LapicqueError("the signal is zero everywhere: nothing to encode")
    n = len(encoders)
    if n % lanes:
        raise LapicqueError(f"{n} encoders do not fit {lanes} lanes; choose lanes that divide {n}")
    scale = ((1 << (ext_bits - 1)) - 1) / peak
    bias, theta, leak, effective = [], [], [], []
    for k, e in enumerate(encoders):
        if e.leaky:
            d = int(round(DECAY_ONE * -math.expm1(-step / e.rc)))
            if d == 0:
                raise LapicqueError(f"encoder {k}: RC = {e.rc:g} s is too slow for the array's 12-bit leak at a "
                                    f"{step * 1e6:g} us step (the decay code rounds to 0); lengthen --step-us "
                                    f"to at least {e.rc / DECAY_ONE * 0.5e6 * 2:.0f} or lower R C")
            keep = 1.0 - d / DECAY_ONE
            rc = -step / math.log(keep)
            volts = scale / (e.resistance * (1.0 - keep))
        else:
            d, rc, volts = 0, math.inf, scale / step * 1.0
        b_code = int(round(scale * e.bias))
        t_code = int(round(volts * (e.kappa * e.delta if not e.leaky else e.delta)))
        if t_code < 4:
            raise LapicqueError(f"encoder {k}: the threshold rounds to {t_code} codes; shorten --step-us")
        bias.append(b_code)
        theta.append(t_code)
        leak.append(d)
        if e.leaky:
            effective.append(Encoder(b_code / scale, t_code / volts, rc / e.resistance, e.resistance))
        else:
            effective.append(Encoder(b_code / scale, e.delta, t_code * step / (scale * e.delta)))
    bias, theta = np.array(bias), np.array(theta)
    v_bits = int(theta.max()).bit_length() + 2
    bias_bits = max(int(bias.max()).bit_length() + 1, 2)
    if v_bits > WIDTH_LIMITS["v"][1] or bias_bits > WIDTH_LIMITS["bias"][1]:
        raise LapicqueError(f"the encoder needs {max(v_bits, bias_bits)}-bit state, more than the array's 32; "
                            "shorten --step-us or lower --ext-bits")
    widths = Widths(v=v_bits, i=ext_bits + 1, w=2, bias=bias_bits, ext=ext_bits, refractory=1)
    params = {"bias": bias, "leak": np.array(leak), "decay": DECAY_ONE, "theta_hi": theta, "theta_lo": 0,
              "refractory": 0, "v_reset": 0, "reset_current": 0, "leak_mode": "exponential",
              "reset_mode": "subtract", "hysteresis": 0}
    spec = ArraySpec(n, lanes, widths, params, np.zeros((n, n), dtype=np.int64))
    quantisation = {
        "step_s": step,
        "input_scale": scale,
        "ext_bits": ext_bits,
        "input_lsb": 1.0 / scale,
        "timing_error_s": step / 2,
        "bias_codes": bias.tolist(),
        "threshold_codes": theta.tolist(),
        "leak_codes": leak,
        "widths": {"v": v_bits, "i": ext_bits + 1, "bias": bias_bits, "ext": ext_bits},
    }
    return CompiledTEM(spec, effective, list(encoders), step, scale, quantisation)


def fixed_spikes(compiled: CompiledTEM, u_mid: np.ndarray) -> np.ndarray:
    """The bit-exact model's spikes [steps, neurons] for the signal sampled at the steps' midpoints."""
    from .neuron import ArrayModel

    model = ArrayModel(compiled.spec, fixed=True)
    return model.run(compiled.inputs(u_mid))["spike"].astype(bool)
