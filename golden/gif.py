"""The generalized integrate-and-fire model (GIF; Mensi et al. 2012, Pozzorini et al. 2015): simulation and fitting.

Units: ms, mV, pA, pF, nS. The model, stepped by forward Euler on the data's grid:

    C dV/dt = -g_L (V - E_L) + I(t) - sum_j eta(t - t_j)              (spike-triggered current)
    lambda(t) = lambda_0 exp((V - V_T(t)) / Delta_V),  V_T(t) = V_T* + sum_j gamma(t - t_j)
    a spike in each step with probability 1 - exp(-lambda dt); then T_ref of refractoriness, and V restarts
    at V_reset

with lambda_0 = 1 / ms. Recorded traces follow the convention of `simulate`: the spike decided at sample s
(from V[s]) shows as a peak at s + 1, the samples s + 2 .. s + ref hold V_reset, and the membrane moves
again from s + ref + 1. Real recordings are read the same way: a spike is an upward crossing of
`spike_threshold` at sample s + 1.

Fitting (`GIF.fit`), the three steps of Pozzorini et al.:

1. V_reset: the spike-triggered average of V at T_ref after each spike;
2. subthreshold: linear regression of dV/dt (the forward difference) on [V, I, 1, eta features], where
   the k-th feature counts past spikes whose lag falls in the k-th bin of eta's basis (rectangular
   bins, log-spaced), over samples outside the spikes' refractory windows: C = 1 / beta_I,
   g_L = -C beta_V, E_L = C beta_1 / g_L, eta_k = -C beta_k; the forward difference makes this exact
   for data stepped by forward Euler, as `simulate` steps it;
3. threshold: the likelihood of the spikes (one Bernoulli trial per sample, P = 1 - exp(-lambda dt)) under
   lambda = exp(b_0 + b_V V + sum b_k gamma features) over non-refractory samples, concave in b (the
   complementary log-log link), maximised by Newton's method: Delta_V = 1 / b_V, V_T* = -b_0 Delta_V,
   gamma_k = -b_k Delta_V.

Standard errors come from the regression's covariance and the likelihood's Hessian (the Fisher
information), so tests can judge recovered parameters by the data's own length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from lapicque.errors import LapicqueError

LAMBDA_0 = 1.0  # per ms: the escape rate at V = V_T
COINCIDENCE_WINDOW_MS = 4.0  # Kistler et al. 1997; Jolivet et al. 2008


@dataclass
class Truth:
    """Parameters of a GIF neuron to simulate (kernels as sums of exponentials: amplitudes, time constants)."""

    C: float = 100.0
    g_L: float = 5.0
    E_L: float = -70.0
    V_reset: float = -55.0
    T_ref: float = 4.0
    V_T: float = -50.0
    Delta_V: float = 1.0
    eta: tuple = ((30.0, 50.0),)  # (pA, ms)
    gamma: tuple = ((5.0, 30.0),)  # (mV, ms)

    def kernel(self, which: str, lags_ms: np.ndarray) -> np.ndarray:
        return sum((a * np.exp(-lags_ms / tau) for a, tau in getattr(self, which)), np.zeros(len(lags_ms)))

    def horizon(self) -> float:
        """How far back (ms) the kernels reach: ten time constants of the slowest exponential."""
        return 10 * max([tau for _, tau in self.eta + self.gamma], default=0.0)


def bins_ms(count: int, longest: float, start: float = 0.0, first: float = 2.0) -> np.ndarray:
    """Edges of `count` rectangular bins, log-spaced from `start` to `longest` ms (the first `first` ms wide).

    Fitting starts them at T_ref: before it the membrane is held, so no sample informs shorter lags."""
    if count < 1:
        return np.array([start, longest])
    if longest <= start + first:
        raise LapicqueError(f"kernel length {longest} ms must exceed T_ref + {first} ms")
    return np.concatenate([[start], start + np.geomspace(first, longest - start, count)])


def _kernel_steps(edges_ms: np.ndarray, dt: float) -> np.ndarray:
    """Bin index of every lag 1 .. L steps (lag in ms = steps * dt), -1 past the last edge."""
    lags = np.arange(1, int(math.ceil(edges_ms[-1] / dt)) + 1) * dt
    which = np.searchsorted(edges_ms, lags, side="right") - 1
    return np.where(which < len(edges_ms) - 1, which, -1)


def spike_features(spikes: np.ndarray, n: int, edges_ms: np.ndarray, dt: float) -> np.ndarray:
    """[n, bins]: at each sample, how many earlier spikes lie at a lag in each bin."""
    which = _kernel_steps(edges_ms, dt)
    features = np.zeros((n, len(edges_ms) - 1))
    for s in spikes:
        stop = min(n, s + 1 + len(which))
        lags = which[: stop - s - 1]
        keep = lags >= 0
        features[np.arange(s + 1, stop)[keep], lags[keep]] += 1.0
    return features


def simulate(truth: Truth, current: np.ndarray, dt: float = 0.1, seed: int = 0, v_peak: float = 30.0,
             noise_pa: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a GIF neuron; returns (recorded voltage, spike sample indices). `noise_pa` adds an unrecorded
    white-noise current (standard deviation per sample) to the input the neuron sees."""
    rng = np.random.default_rng(seed)
    n = len(current)
    ref = int(round(truth.T_ref / dt))
    if ref < 2:
        raise LapicqueError(f"T_ref = {truth.T_ref} ms is shorter than two samples of {dt} ms")
    lags = np.arange(1, int(truth.horizon() / dt) + 1) * dt
    eta_k, gamma_k = truth.kernel("eta", lags), truth.kernel("gamma", lags)
    eta_sum, gamma_sum = np.zeros(n + len(lags) + 1), np.zeros(n + len(lags) + 1)
    drive = current + noise_pa * rng.standard_normal(n) if noise_pa else current
    uniform = rng.random(n)
    v_rec = np.empty(n)
    spikes = []
    v, r = truth.E_L, 0
    for t in range(n):
        if r > 0:
            r -= 1
            v_rec[t] = v_peak if r == ref - 1 else truth.V_reset
            if r == 0:
                v = truth.V_reset
            continue
        v_rec[t] = v
        rate = LAMBDA_0 * math.exp(min((v - truth.V_T - gamma_sum[t]) / truth.Delta_V, 50.0))
        if uniform[t] < -math.expm1(-rate * dt):
            spikes.append(t)
            r = ref
            eta_sum[t + 1:t + 1 + len(lags)] += eta_k
            gamma_sum[t + 1:t + 1 + len(lags)] += gamma_k
            continue
        v += dt / truth.C * (-truth.g_L * (v - truth.E_L) + drive[t] - eta_sum[t])
    return v_rec, np.array(spikes, dtype=np.int64)


def detect_spikes(voltage: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Sample indices s of spikes: V crosses `threshold` upwards between s and s + 1 (the decision sample)."""
    above = voltage >= threshold
    return np.flatnonzero(~above[:-1] & above[1:])


def coincidence_factor(data_ms: np.ndarray, model_ms: np.ndarray, duration_ms: float,
                       window_ms: float = COINCIDENCE_WINDOW_MS) -> float:
    """Kistler's coincidence factor Gamma: coincidences within +-window beyond chance, normalised so that
    identical trains give 1 and a Poisson train of the model's rate gives 0 on average."""
    n_data, n_model = len(data_ms), len(model_ms)
    if n_data == 0 or n_model == 0:
        return 0.0
    model_sorted = np.sort(model_ms)
    pos = np.searchsorted(model_sorted, data_ms)
    near = np.zeros(n_data, dtype=bool)
    for offset in (-1, 0):
        idx = np.clip(pos + offset, 0, n_model - 1)
        near |= np.abs(model_sorted[idx] - data_ms) <= window_ms
    coincident = int(near.sum())
    rate = n_model / duration_ms
    expected = 2 * rate * window_ms * n_data
    norm = 1 - 2 * rate * window_ms
    return float((coincident - expected) / (0.5 * (n_data + n_model)) / norm)


class GIF(BaseEstimator):
    """A GIF neuron fitted to a recording; scikit-learn style (get_params / set_params / clone work).

    `eta_bins` and `gamma_bins` rectangular log-spaced bins up to `eta_ms` and `gamma_ms` represent the
    kernels (0 bins: a LIF, or a LIF with a fixed escape threshold). `T_ref` is the refractory period
    in ms, `spike_threshold` the voltage that marks a spike in the recording, `repeats` the number of
    simulated trials `score` averages, `seed` their randomness.
    """

    def __init__(self, dt: float = 0.1, T_ref: float = 4.0, eta_bins: int = 8, eta_ms: float = 500.0,
                 gamma_bins: int = 8, gamma_ms: float = 500.0, spike_threshold: float = 0.0,
                 repeats: int = 10, seed: int = 0):
        self.dt = dt
        self.T_ref = T_ref
        self.eta_bins = eta_bins
        self.eta_ms = eta_ms
        self.gamma_bins = gamma_bins
        self.gamma_ms = gamma_ms
        self.spike_threshold = spike_threshold
        self.repeats = repeats
        self.seed = seed

    # -- data checks -------------------------------------------------------------------------------
    def _check(self, current, voltage=None, dt=None) -> tuple[np.ndarray, np.ndarray | None]:
        if dt is not None and not math.isclose(dt, self.dt, rel_tol=1e-9):
            raise LapicqueError(f"dt = {dt} ms does not match the model's dt = {self.dt} ms; resample the data "
                                "or set dt")
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise LapicqueError(f"dt = {self.dt} ms must be a positive number")
        current = np.asarray(current, dtype=np.float64)
        if current.ndim != 1:
            raise LapicqueError(f"the current must be 1-D samples, got shape {current.shape}")
        if not np.all(np.isfinite(current)):
            raise LapicqueError("the current contains NaN or infinite samples")
        if voltage is None:
            return current, None
        voltage = np.asarray(voltage, dtype=np.float64)
        if voltage.shape != current.shape:
            raise LapicqueError(f"current and voltage differ in shape: {current.shape} against {voltage.shape}")
        if not np.all(np.isfinite(voltage)):
            raise LapicqueError("the voltage contains NaN or infinite samples")
        return current, voltage

    @property
    def _ref(self) -> int:
        ref = int(round(self.T_ref / self.dt))
        if ref < 2:
            raise LapicqueError(f"T_ref = {self.T_ref} ms is shorter than two samples of {self.dt} ms")
        return ref

    def _free(self, spikes: np.ndarray, n: int) -> np.ndarray:
        """Samples outside every refractory window (s + 1 .. s + ref)."""
        free = np.ones(n, dtype=bool)
        for s in spikes:
            free[s + 1: s + 1 + self._ref] = False
        return free

    # -- fitting -----------------------------------------------------------------------------------
    def fit(self, current, voltage, dt: float | None = None) -> GIF:
        current, voltage = self._check(current, voltage, dt)
        n = len(current)
        spikes = detect_spikes(voltage, self.spike_threshold)
        if len(spikes) < 10:
            raise LapicqueError(f"the recording has {len(spikes)} spikes above {self.spike_threshold} mV; fitting "
                                "needs at least 10 (check --spike-threshold, or give a longer recording)")
        ref = self._ref
        after = spikes + ref + 1
        after = after[after < n]
        self.V_reset_ = float(np.mean(voltage[after]))
        free = self._free(spikes, n)

        # 2. subthreshold regression on the forward difference
        eta_edges = bins_ms(self.eta_bins, self.eta_ms, self.T_ref)
        eta_f = spike_features(spikes, n, eta_edges, self.dt) if self.eta_bins else np.zeros((n, 0))
        valid = free[:-1] & free[1:]
        valid[spikes] = False
        rows = np.flatnonzero(valid)
        design = np.column_stack([voltage[rows], current[rows], np.ones(len(rows)), eta_f[rows]])
        target = (voltage[rows + 1] - voltage[rows]) / self.dt
        beta = regression(design, target)
        resid = target - design @ beta
        sigma2 = float(resid @ resid) / max(1, len(rows) - design.shape[1])
        cov = sigma2 * np.linalg.inv(design.T @ design)
        self.C_ = 1.0 / beta[1]
        self.g_L_ = -beta[0] * self.C_
        self.E_L_ = beta[2] * self.C_ / self.g_L_
        self.eta_ = -beta[3:] * self.C_
        self.eta_edges_ = eta_edges
        # standard errors by the delta method through beta's full covariance
        grad_c = np.zeros_like(beta)
        grad_c[1] = -self.C_**2
        grad_g = np.zeros_like(beta)
        grad_g[[0, 1]] = [-self.C_, beta[0] * self.C_**2]
        grad_e = np.zeros_like(beta)
        grad_e[[0, 2]] = [beta[2] / beta[0] ** 2, -1.0 / beta[0]]
        eta_se = []
        for k in range(len(self.eta_)):
            grad = np.zeros_like(beta)
            grad[[1, 3 + k]] = [beta[3 + k] * self.C_**2, -self.C_]
            eta_se.append(math.sqrt(grad @ cov @ grad))
        self.stderr_ = {"C": math.sqrt(grad_c @ cov @ grad_c), "g_L": math.sqrt(grad_g @ cov @ grad_g),
                        "E_L": math.sqrt(grad_e @ cov @ grad_e), "eta": np.array(eta_se)}
        self.dvdt_variance_explained_ = float(1 - resid.var() / target.var())

        # 3. escape-rate threshold by maximum likelihood
        gamma_edges = bins_ms(self.gamma_bins, self.gamma_ms, self.T_ref)
        gamma_f = spike_features(spikes, n, gamma_edges, self.dt) if self.gamma_bins else np.zeros((n, 0))
        decide = np.flatnonzero(free)
        events = np.zeros(n)
        events[spikes] = 1.0
        x = np.column_stack([np.ones(len(decide)), voltage[decide], gamma_f[decide]])
        b, hessian = escape_glm(x, events[decide], self.dt)
        self.Delta_V_ = 1.0 / b[1]
        self.V_T_ = -(b[0] - math.log(LAMBDA_0)) * self.Delta_V_
        self.gamma_ = -b[2:] * self.Delta_V_
        self.gamma_edges_ = gamma_edges
        b_cov = np.linalg.inv(-hessian)
        b_se = np.sqrt(np.diag(b_cov))
        self.stderr_.update({"Delta_V": b_se[1] * self.Delta_V_**2,
                             "V_T": math.sqrt(max(0.0, _vt_variance(b, b_cov))), "gamma": b_se[2:] * self.Delta_V_})
        self.spikes_ = len(spikes)
        self.v_variance_explained_ = self._v_variance_explained(current, voltage, spikes, free)
        return self

    def _v_variance_explained(self, current, voltage, spikes, free) -> float:
        """1 - var(V_model - V) / var(V) outside refractory windows, the model's subthreshold voltage driven by
        the recorded current with the recorded spikes imposed (Pozzorini's 'variance explained on V')."""
        model = self._subthreshold(current, spikes)
        keep = free & ~np.isnan(model)  # the model has no voltage inside refractory windows
        return float(1 - np.var(model[keep] - voltage[keep]) / np.var(voltage[keep]))

    def _subthreshold(self, current, spikes) -> np.ndarray:
        n = len(current)
        eta_sum = spike_features(spikes, n, self.eta_edges_, self.dt) @ self.eta_ if len(self.eta_) else np.zeros(n)
        v_model = np.full(n, np.nan)
        ref = self._ref
        starts = set((spikes + ref + 1).tolist())
        blocked = ~self._free(spikes, n)
        v = self.E_L_
        for t in range(n):
            if t in starts:
                v = self.V_reset_
            if blocked[t]:
                continue
            v_model[t] = v
            v += self.dt / self.C_ * (-self.g_L_ * (v - self.E_L_) + current[t] - eta_sum[t])
        return v_model

    # -- prediction --------------------------------------------------------------------------------
    def as_truth(self) -> Truth:
        """The fitted parameters as a simulator input (kernels as their bins: steps, not exponentials)."""
        self._fitted()
        return BinnedTruth(self.C_, self.g_L_, self.E_L_, self.V_reset_, self.T_ref, self.V_T_, self.Delta_V_,
                            (), (), self.eta_edges_, self.eta_, self.gamma_edges_, self.gamma_)

    def predict(self, current, dt: float | None = None, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One simulated trial: (voltage, spike times in ms)."""
        current, _ = self._check(current, None, dt)
        v, spikes = simulate(self.as_truth(), current, self.dt, self.seed if seed is None else seed)
        return v, spikes * self.dt

    def score(self, current, voltage, dt: float | None = None, window_ms: float = COINCIDENCE_WINDOW_MS) -> float:
        """The mean coincidence factor (within +-`window_ms`) of `repeats` simulated trials against the
        recording's spikes."""
        current, voltage = self._check(current, voltage, dt)
        data = detect_spikes(voltage, self.spike_threshold) * self.dt
        duration = len(current) * self.dt
        return float(np.mean([coincidence_factor(data, self.predict(current, seed=self.seed + k)[1], duration,
                                                 window_ms) for k in range(self.repeats)]))

    def _fitted(self) -> None:
        if not hasattr(self, "C_"):
            raise LapicqueError("the model is not fitted yet; call fit(current, voltage) first")

    def to_physical_lif(self, tau_syn_ms: float = 5.0):
        """The fitted neuron's deterministic part as the array's LIF (lapicque.units.PhysicalLIF): tau_m = C / g_L,
        R = 1 / g_L, E_L, threshold V_T*, V_reset, T_ref. The array has no escape noise and no spike-triggered
        kernels: those are dropped (their fitted values stay in the summary)."""
        from lapicque.units import PhysicalLIF

        self._fitted()
        return PhysicalLIF(tau_m_ms=self.C_ / self.g_L_, tau_syn_ms=tau_syn_ms, r_mohm=1000.0 / self.g_L_,
                           e_l_mv=self.E_L_, v_th_mv=self.V_T_, v_reset_mv=self.V_reset_, i_bias_na=0.0,
                           refractory_ms=self.T_ref, dt_ms=self.dt)

    def params_(self) -> dict:
        self._fitted()
        return {"C_pF": self.C_, "g_L_nS": self.g_L_, "E_L_mV": self.E_L_, "V_reset_mV": self.V_reset_,
                "T_ref_ms": self.T_ref, "V_T_mV": self.V_T_, "Delta_V_mV": self.Delta_V_,
                "tau_m_ms": self.C_ / self.g_L_,
                "eta_pA": {"edges_ms": self.eta_edges_.tolist(), "values": self.eta_.tolist()},
                "gamma_mV": {"edges_ms": self.gamma_edges_.tolist(), "values": self.gamma_.tolist()}}


@dataclass
class BinnedTruth(Truth):
    """Truth with kernels given as rectangular bins (the fit's own basis) instead of exponentials."""

    eta_edges: np.ndarray = None
    eta_values: np.ndarray = None
    gamma_edges: np.ndarray = None
    gamma_values: np.ndarray = None

    def kernel(self, which: str, lags_ms: np.ndarray) -> np.ndarray:
        edges, values = getattr(self, f"{which}_edges"), getattr(self, f"{which}_values")
        if values is None or len(values) == 0:
            return np.zeros(len(lags_ms))
        idx = np.searchsorted(edges, lags_ms, side="right") - 1
        return np.where((idx >= 0) & (idx < len(values)), values[np.clip(idx, 0, len(values) - 1)], 0.0)

    def horizon(self) -> float:
        return float(max(self.eta_edges[-1], self.gamma_edges[-1]))


def regression(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least squares by the normal equations with column scaling (the features differ by orders of magnitude)."""
    scale = np.sqrt(np.sum(design**2, axis=0))
    scale[scale == 0] = 1.0
    scaled = design / scale
    return np.linalg.solve(scaled.T @ scaled, scaled.T @ target) / scale


def escape_glm(x: np.ndarray, y: np.ndarray, dt: float, iterations: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the likelihood of spikes y (0/1 per sample) under P(spike) = 1 - exp(-lambda dt),
    lambda = exp(x b): sum over samples of y log(1 - e^-mu) - (1 - y) mu, mu = lambda dt, concave in b
    (the complementary log-log link). Newton's method with step halving; returns b and the Hessian."""
    b = np.zeros(x.shape[1])
    b[0] = math.log(max(y.mean(), 1e-12) / dt)

    def parts(coef):
        mu = dt * np.exp(np.minimum(x @ coef, 50.0))
        fire = -np.expm1(-np.maximum(mu, 1e-300))  # 1 - e^-mu, written so that no large mu overflows
        ll = float(np.sum(np.where(y > 0, np.log(fire), -mu)))
        ratio = mu * np.exp(-mu) / fire  # mu / (e^mu - 1), the y = 1 derivative
        first = np.where(y > 0, ratio, -mu)
        second = np.where(y > 0, ratio * (1 - mu / fire), -mu)
        return ll, x.T @ first, (x.T * second) @ x

    current, gradient, hessian = parts(b)
    for _ in range(iterations):
        step = np.linalg.solve(hessian, -gradient)
        t = 1.0
        while True:
            trial = parts(b + t * step)
            if trial[0] >= current or t < 1e-8:
                break
            t /= 2
        previous = current
        b = b + t * step
        current, gradient, hessian = trial
        if abs(current - previous) < 1e-12 * max(1.0, abs(current)):
            break
    return b, hessian


def _vt_variance(b: np.ndarray, cov: np.ndarray) -> float:
    """Var(V_T*) by the delta method, V_T* = -(b0 - log lambda0) / b1."""
    grad = np.zeros(len(b))
    grad[0] = -1.0 / b[1]
    grad[1] = (b[0] - math.log(LAMBDA_0)) / b[1] ** 2
    return float(grad @ cov @ grad)
