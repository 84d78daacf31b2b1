"""Population density of noisy LIF neurons: a Fokker-Planck solver, with network feedback (NNLIF).

Each neuron of a large population obeys the diffusion convention of `lapicque.golden.analysis`

    tau dV = (mu + J tau nu(t) - V) dt + sigma sqrt(tau) dW,      fire at V = theta, restart at v_reset

where nu(t) is the population's rate and J its coupling (J > 0 excitatory: the nonlinear noisy LIF of
Caceres, Carrillo and Perthame 2011, whose connectivity parameter b is J in units of theta - v_reset).
Its membrane-potential density p(v, t) obeys

    dp/dt = -d/dv [A(v, t) p] + D d^2p/dv^2 + nu(t) delta(v - v_reset),
    A = (mu + J tau nu - v) / tau,   D = sigma^2 / (2 tau),   p(theta) = 0,   nu = -D dp/dv (theta)

Discretisation: finite volumes of width h on [v_min, theta] (v_reset at a cell centre; v_min far enough
below that the density there is negligible, with a reflecting wall). The flux through each face is
Scharfetter-Gummel's, J = (D / h) (B(-Pe) p_left - B(Pe) p_right) with Pe = A h / D and B(x) = x / (e^x - 1):
exact for locally constant drift, upwind when drift dominates, central when diffusion does. The flux
through theta (to the absorbing boundary half a cell away) is the rate, and it re-enters the reset
cell. Every flux leaves one cell and enters another, so the matrix's columns sum to zero and backward
Euler conserves mass to rounding; the matrix is an M-matrix, so densities stay non-negative.

The coupling enters the drift with the rate of the previous step (semi-implicit). Where no finite
stationary state exists (strong excitation: the rate's fixed point nu = Siegert(mu + J tau nu) is lost),
the rate diverges in finite time (the NNLIF blow-up); the solver stops there and reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.linalg import solve_banded
from scipy.sparse.linalg import splu

from lapicque.errors import LapicqueError

from .analysis import siegert_rate

BLOW_UP_RATE_HZ = 5000.0  # a population rate past this (or a fifth of the mass leaving per step) is a blow-up


def bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (e^x - 1), with B(0) = 1 and no cancellation near 0."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - x / 2, safe / np.expm1(safe))


@dataclass
class Population:
    """Noisy LIF population parameters (voltages in units of your choice, tau in ms)."""

    mu: float
    sigma: float
    coupling: float = 0.0
    tau_m: float = 20.0
    theta: float = 1.0
    v_reset: float = 0.0
    t_ref: float = 0.0  # ms

    def check(self) -> None:
        for name in ("mu", "sigma", "coupling", "tau_m", "theta", "v_reset", "t_ref"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise LapicqueError(f"--{name.replace('_', '-')} = {value} must be a finite number")
        if self.sigma <= 0:
            raise LapicqueError(f"--sigma = {self.sigma} must be positive (the density needs noise)")
        if self.tau_m <= 0:
            raise LapicqueError(f"--tau-m = {self.tau_m} ms must be positive")
        if self.t_ref < 0:
            raise LapicqueError(f"--t-ref = {self.t_ref} ms must not be negative")
        if self.v_reset >= self.theta:
            raise LapicqueError(f"--v-reset = {self.v_reset} must lie below the threshold {self.theta}")

    def siegert_hz(self, mu_eff: float | None = None) -> float:
        mu = self.mu if mu_eff is None else mu_eff
        return float(siegert_rate(mu, self.sigma, self.tau_m, self.theta, self.v_reset, self.t_ref))


@dataclass
class Grid:
    """Cells of width h whose last face is theta, with v_reset at the centre of cell `reset`."""

    edges: np.ndarray
    reset: int

    @property
    def h(self) -> float:
        return float(self.edges[1] - self.edges[0])

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


def make_grid(pop: Population, cells_per_unit: int = 400, v_min: float | None = None) -> Grid:
    """A grid with `cells_per_unit` cells per (theta - v_reset), down to v_min (default: 6 free standard
    deviations below the lower of mu and v_reset)."""
    span = pop.theta - pop.v_reset
    h = span / (cells_per_unit + 0.5)  # v_reset at a cell centre
    low = v_min if v_min is not None else min(pop.mu, pop.v_reset) - 6 * pop.sigma / math.sqrt(2) - 0.5 * span
    below = max(1, int(math.ceil((pop.v_reset - low) / h - 0.5)))
    cells = cells_per_unit + 1 + below
    edges = pop.theta - h * np.arange(cells, -1, -1, dtype=np.float64)
    return Grid(edges, cells - cells_per_unit - 1)


def bands(pop: Population, grid: Grid, mu_eff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The transport part of dp/dt = M p as tridiagonal bands (sub, main, super) and the coefficient c with
    rate = c p[-1]; M adds c / h at (reset, last): the re-injection."""
    h, n = grid.h, len(grid.edges) - 1
    d = pop.sigma**2 / (2 * pop.tau_m)
    faces = grid.edges[1:-1]
    pe = (mu_eff - faces) / pop.tau_m * h / d
    out_left = d / h * bernoulli(-pe)  # face flux per unit density of the left cell, rightwards
    in_right = d / h * bernoulli(pe)  # per unit density of the right cell, leftwards
    pe_edge = (mu_eff - pop.theta) / pop.tau_m * (h / 2) / d
    c = d / (h / 2) * float(bernoulli(-pe_edge))
    main = np.zeros(n)
    main[:-1] -= out_left / h
    main[1:] -= in_right / h
    main[-1] -= c / h
    return out_left / h, main, in_right / h, c


def generator(pop: Population, grid: Grid, mu_eff: float) -> tuple[sparse.csc_matrix, float]:
    """The matrix M with dp/dt = M p (re-injection included) and the coefficient c with rate = c p[-1]."""
    sub, main, sup, c = bands(pop, grid, mu_eff)
    n = len(main)
    matrix = sparse.diags([sub, main, sup], [-1, 0, 1], format="lil")
    matrix[grid.reset, n - 1] += c / grid.h
    return matrix.tocsc(), c


def _implicit_step(pop: Population, grid: Grid, mu_eff: float, dt: float, p: np.ndarray,
                   fixed_bands: tuple | None = None, reinject: bool = True) -> tuple[np.ndarray, float]:
    """Solve (I - dt M) p_new = p: the tridiagonal part by LAPACK's banded solver, the re-injection (a rank-one
    term) by Sherman-Morrison; O(cells) per step. `fixed_bands` reuses the bands of an uncoupled population;
    `reinject=False` leaves the outflow out (a refractory period returns it later, as a source)."""
    sub, main, sup, c = fixed_bands or bands(pop, grid, mu_eff)
    n = len(main)
    ab = np.zeros((3, n))
    ab[0, 1:] = -dt * sup
    ab[1] = 1.0 - dt * main
    ab[2, :-1] = -dt * sub
    if not reinject:
        return solve_banded((1, 1), ab, p, check_finite=False), c
    u = np.zeros(n)
    u[grid.reset] = -dt * c / grid.h
    x, y = solve_banded((1, 1), ab, np.stack([p, u], axis=1), check_finite=False).T
    return x - y * (x[-1] / (1.0 + y[-1])), c


def stationary(pop: Population, grid: Grid | None = None, mu_eff: float | None = None) -> tuple[np.ndarray, float]:
    """The stationary density and its rate in Hz at a fixed drift (default: mu, no feedback).

    With a refractory period the density's shape is that of t_ref = 0 (the outflow returns at a constant
    rate), its mass 1 - nu t_ref (the rest is refractory), and nu = r_0 / (1 + r_0 t_ref): Siegert's form.
    """
    grid = grid or make_grid(pop)
    matrix, c = generator(pop, grid, pop.mu if mu_eff is None else mu_eff)
    matrix = matrix.tolil()
    matrix[0, :] = grid.h  # replace one (redundant) balance equation by the mass
    rhs = np.zeros(matrix.shape[0])
    rhs[0] = 1.0
    p = splu(matrix.tocsc()).solve(rhs)
    free = c * p[-1]  # per ms, without refractoriness
    nu = free / (1.0 + free * pop.t_ref)
    return p * (1.0 - nu * pop.t_ref), nu * 1000.0


def self_consistent_rate(pop: Population, grid: Grid | None = None, tol: float = 1e-10) -> float | None:
    """The stationary rate of the coupled population (Hz), nu = rate(mu + J tau nu), or None if there is none.

    The lowest fixed point, found by iterating from nu = 0 (monotone for J > 0, damped for J < 0).
    """
    grid = grid or make_grid(pop)
    nu = 0.0
    for _ in range(2000):
        _, rate = stationary(pop, grid, pop.mu + pop.coupling * pop.tau_m * nu / 1000.0)
        if rate > BLOW_UP_RATE_HZ:
            return None
        new = rate if pop.coupling >= 0 else 0.5 * (nu + rate)
        if abs(new - nu) <= tol * max(1.0, nu):
            return new
        nu = new
    return None


@dataclass
class DensityRun:
    """A transient: times (ms), rate (Hz), mass after every step (density plus refractory), the final density,
    a blow-up if any."""

    times_ms: np.ndarray
    rate_hz: np.ndarray
    mass: np.ndarray
    grid: Grid
    density: np.ndarray
    snapshots: dict = field(default_factory=dict)
    blow_up: dict | None = None


def initial_density(grid: Grid, kind: str = "gaussian", mean: float | None = None, std: float = 0.1) -> np.ndarray:
    """Unit mass at the reset cell ("reset"), or a Gaussian of `mean` (default: the reset) and `std`."""
    p = np.zeros(len(grid.centres))
    if kind == "reset":
        p[grid.reset] = 1.0 / grid.h
        return p
    if kind != "gaussian":
        raise LapicqueError(f"unknown initial density {kind!r}; choose gaussian or reset")
    if not std > 0:
        raise LapicqueError(f"--init-std = {std} must be positive")
    centre = grid.centres[grid.reset] if mean is None else mean
    p = np.exp(-0.5 * ((grid.centres - centre) / std) ** 2)
    return p / (p.sum() * grid.h)


MAX_STEPS = 10_000_000  # each step solves the grid's tridiagonal system: beyond this a run takes hours


def evolve(pop: Population, duration_ms: float, dt_ms: float = 0.01, grid: Grid | None = None,
           initial: np.ndarray | None = None, snapshots: int = 5, progress=None) -> DensityRun:
    """Backward Euler in time from `initial` (default: a Gaussian at v_reset); stops at a blow-up.

    A refractory period (a whole number of steps) holds each step's outflow for t_ref and returns it to the
    reset cell as a source; the mass counts it while it waits, so it is conserved to rounding as well."""
    pop.check()
    if not (math.isfinite(duration_ms) and duration_ms > 0):
        raise LapicqueError(f"--duration must be positive (got {duration_ms / 1000:g} s)")
    if not (math.isfinite(dt_ms) and 0 < dt_ms <= pop.tau_m / 10):
        raise LapicqueError(f"--dt = {dt_ms} ms must be positive and at most tau_m / 10 = {pop.tau_m / 10:g} ms")
    grid = grid or make_grid(pop)
    p = initial_density(grid) if initial is None else np.array(initial, dtype=np.float64)
    if not 1 <= duration_ms / dt_ms <= MAX_STEPS:  # in floats first: 1e308 steps do not fit an int
        raise LapicqueError(f"--duration / --dt = {duration_ms / dt_ms:,.3g} steps; allowed 1 to {MAX_STEPS:,}: "
                            "choose --dt and --duration accordingly")
    steps = int(round(duration_ms / dt_ms))
    ref_steps = int(round(pop.t_ref / dt_ms))
    if abs(ref_steps * dt_ms - pop.t_ref) > 1e-9 * max(1.0, pop.t_ref):
        raise LapicqueError(f"--t-ref = {pop.t_ref} ms must be a whole number of --dt = {dt_ms} ms steps")
    waiting = np.zeros(ref_steps)  # outflow (per ms) of the last ref_steps steps, refractory now
    rates, masses = np.empty(steps), np.empty(steps)
    nu = 0.0  # per ms
    fixed = bands(pop, grid, pop.mu) if pop.coupling == 0 else None
    # snapshots spaced geometrically: most of the change is early, in the transient
    keep = set(np.geomspace(1, steps, snapshots).round().astype(int) - 1) if snapshots else set()
    shots, blow_up = {}, None
    for k in range(steps):
        mu_eff = pop.mu + pop.coupling * pop.tau_m * nu
        if ref_steps:
            slot = k % ref_steps
            source = p.copy()
            source[grid.reset] += dt_ms * waiting[slot] / grid.h  # the outflow of t_ref ago returns
            p, c = _implicit_step(pop, grid, mu_eff, dt_ms, source, fixed, reinject=False)
            waiting[slot] = c * p[-1]
        else:
            p, c = _implicit_step(pop, grid, mu_eff, dt_ms, p, fixed)
        nu = c * p[-1]
        rates[k] = nu * 1000.0
        masses[k] = p.sum() * grid.h + dt_ms * waiting.sum()
        if k in keep:
            shots[round((k + 1) * dt_ms, 9)] = p.copy()
        if not np.isfinite(nu) or rates[k] > BLOW_UP_RATE_HZ or nu * dt_ms > 0.2:
            blow_up = {"time_ms": (k + 1) * dt_ms, "rate_hz": float(rates[k]),
                       "reason": "the rate diverges: excitation feeds back faster than the leak and noise "
                                 "can carry it (the NNLIF blow-up); no finite stationary state"}
            rates, masses = rates[:k + 1], masses[:k + 1]
            break
        if progress is not None and (k + 1) % 1000 == 0:
            progress(k + 1, steps)
    times = dt_ms * np.arange(1, len(rates) + 1)
    return DensityRun(times, rates, masses, grid, p, shots, blow_up)


def monte_carlo(pop: Population, duration_ms: float, dt_ms: float = 0.01, neurons: int = 10000, seed: int = 0,
                initial: np.ndarray | None = None, grid: Grid | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Simulate `neurons` LIFs of the population directly; returns (spike counts per step, step times in ms).

    The free membrane moves by the exact OU propagator; a crossing between grid points is caught with the
    Brownian-bridge probability exp(-2 (theta - v0)(theta - v1) / var), so the grid adds no sqrt(dt) bias.
    The coupling feeds the last step's empirical rate back into the drift, as the density solver does; a
    neuron that fires is held for t_ref and moves again from v_reset.
    Initial voltages are drawn from `initial` on `grid` (default: the solver's default Gaussian).
    """
    rng = np.random.default_rng(seed)
    grid = grid or make_grid(pop)
    p = initial_density(grid) if initial is None else initial
    weights = p * grid.h
    cells = rng.choice(len(weights), size=neurons, p=weights / weights.sum())
    v = grid.centres[cells] + (rng.random(neurons) - 0.5) * grid.h
    decay = math.exp(-dt_ms / pop.tau_m)
    spread = pop.sigma * math.sqrt((1 - decay**2) / 2)
    if not 1 <= duration_ms / dt_ms <= MAX_STEPS:  # in floats first: 1e308 steps do not fit an int
        raise LapicqueError(f"--duration / --dt = {duration_ms / dt_ms:,.3g} steps; allowed 1 to {MAX_STEPS:,}: "
                            "choose --dt and --duration accordingly")
    steps = int(round(duration_ms / dt_ms))
    ref_steps = int(round(pop.t_ref / dt_ms))
    held = np.zeros(neurons, dtype=np.int64)
    counts = np.zeros(steps, dtype=np.int64)
    nu = 0.0
    for k in range(steps):
        mu_eff = pop.mu + pop.coupling * pop.tau_m * nu
        new = mu_eff + (v - mu_eff) * decay + spread * rng.standard_normal(neurons)
        crossed = new >= pop.theta
        below = ~crossed
        bridge = np.exp(-2 * (pop.theta - v[below]) * (pop.theta - new[below]) / spread**2)
        crossed[below] = rng.random(int(below.sum())) < bridge
        resting = held > 0
        crossed &= ~resting
        new[resting | crossed] = pop.v_reset
        held[resting] -= 1
        held[crossed] = ref_steps
        v = new
        counts[k] = int(crossed.sum())
        nu = counts[k] / (neurons * dt_ms)
    return counts, dt_ms * np.arange(1, steps + 1)


def compare_rates(rate_hz: np.ndarray, counts: np.ndarray, dt_ms: float, neurons: int, bin_ms: float = 1.0) -> dict:
    """The density's rate against a Monte-Carlo run's spike counts in bins: z-scores under Poisson counts."""
    per_bin = max(1, int(round(bin_ms / dt_ms)))
    bins = len(counts) // per_bin
    observed = counts[: bins * per_bin].reshape(bins, per_bin).sum(axis=1)
    expected = rate_hz[: bins * per_bin].reshape(bins, per_bin).sum(axis=1) / 1000.0 * dt_ms * neurons
    used = expected >= 5  # where the Poisson z-score is meaningful
    z = (observed[used] - expected[used]) / np.sqrt(expected[used])
    # no bin expecting 5 spikes (too few neurons or too short a run): nothing to compare, said as None
    stats = {"chi2_per_bin": float(np.mean(z**2)), "max_abs_z": float(np.max(np.abs(z))),
             "mean_z": float(np.mean(z))} if z.size else {"chi2_per_bin": None, "max_abs_z": None, "mean_z": None}
    return {"bin_ms": per_bin * dt_ms, "bins": int(used.sum()), **stats,
            "observed_spikes": int(observed.sum()), "expected_spikes": float(expected.sum())}
