"""Networks of LIF neurons with exponential current synapses, integrated exactly; the CUBA benchmark.

Per neuron (time ms, voltage mV; synaptic currents in mV, i.e. already multiplied by R):

    tau_m dv/dt = -(v - E_L) + g_e + g_i      (unless refractory)
    dg_e/dt = -g_e / tau_e,  dg_i/dt = -g_i / tau_i
    v > v_th: spike, v <- v_reset, refractory for t_ref; a spike of j adds W[j, k] to g_e (or g_i) of k

Each step of dt applies the exact solution of these linear equations (the propagators; the
tau_m = tau_syn case uses its limit dt / tau e^{-dt / tau}), then the threshold, then the reset,
then the spikes' weights, which the next step integrates (a delay of one step plus `delay`). This is
the order Brian2 uses, and the same equations as its CUBA example (Brette et al. 2007, benchmark 2).

Connectivity is a scipy.sparse CSR matrix per synapse type, rows = sources; a step touches only
the rows of the neurons that spiked. The step loop is compiled with numba (cached after the first
call): a numpy version of the same loop spent most of its time in per-step overhead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy import sparse

from lapicque.errors import LapicqueError


def propagator(dt: float, tau_m: float, tau_s: float) -> float:
    """What a unit synaptic current (mV) at the start of a step adds to v by its end:
    tau_s / (tau_s - tau_m) (e^{-dt/tau_s} - e^{-dt/tau_m}), or dt / tau e^{-dt/tau} when the two
    time constants are equal (the limit; the general form divides 0 by 0 there)."""
    if abs(tau_s - tau_m) < 1e-9 * tau_m:
        return dt / tau_m * np.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (np.exp(-dt / tau_s) - np.exp(-dt / tau_m))


def alpha_propagator(dt: float, tau_m: float, tau_s: float) -> float:
    """What the rate h of an alpha current g(t) = h t e^{-t/tau_s} (started at g = 0) adds to v over a
    step: (1 / tau_m) [(dt / c - 1 / c^2) e^{-dt/tau_s} + e^{-dt/tau_m} / c^2] with c = 1/tau_m - 1/tau_s,
    or dt^2 / (2 tau_m) e^{-dt/tau} when the time constants are equal (the limit)."""
    a, b = 1.0 / tau_m, 1.0 / tau_s
    c = a - b
    if abs(c) < 1e-9 * a:
        return dt * dt / (2 * tau_m) * np.exp(-dt * a)
    return ((dt / c - 1 / c**2) * np.exp(-dt * b) + np.exp(-dt * a) / c**2) / tau_m


def random_connections(sources: int, targets: int, p: float, weight: float, rng: np.random.Generator,
                       chunk: int = 512) -> sparse.csr_matrix:
    """Each source connects to each target with probability p (autapses allowed, as Brian2's
    connect(p=...)), all with the same weight."""
    if not 0.0 <= p <= 1.0:
        raise LapicqueError(f"connection probability p = {p} is out of range; allowed 0..1")
    rows, cols = [], []
    for start in range(0, sources, chunk):
        block = rng.random((min(chunk, sources - start), targets)) < p
        r, c = np.nonzero(block)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.full(r.size, weight), (r, c)), shape=(sources, targets))


@dataclass
class LIFNetwork:
    """A population of `neurons` LIFs with excitatory and inhibitory exponential current synapses."""

    neurons: int
    excitatory: sparse.csr_matrix  # [sources, neurons], weights in mV
    inhibitory: sparse.csr_matrix
    tau_m: float = 20.0
    tau_e: float = 5.0
    tau_i: float = 10.0
    e_l: float = -49.0
    v_th: float = -50.0
    v_reset: float = -60.0
    t_ref: float = 5.0
    delay: float = 0.0  # ms beyond the one step every spike takes to arrive
    gap: sparse.csr_matrix | None = None  # electrical synapses: symmetric coupling k[i, j] (g_gap / g_L)
    synapse: str = "exponential"  # "delta": a weight jumps v itself when it arrives (Brunel 2000);
    # "alpha": the current rises and falls as w (t / tau) e^{1 - t / tau}, peaking at w at t = tau;
    # "conductance": w is a conductance in units of the leak, driving v towards e_e or e_i (COBA)
    e_e: float = 0.0  # reversal potentials of the conductance synapses (mV)
    e_i: float = -80.0
    external_rate_hz: float = 0.0  # Poisson input: each neuron receives a Poisson count of rate
    external_weight: float = 0.0  # external_rate_hz per step, each adding external_weight (mV)
    seed: int = 0  # of the external input
    v0: np.ndarray | None = None
    g0: tuple | None = None  # initial (g_e, g_i), one value per neuron each; default 0
    name: str = "network"
    notes: dict = field(default_factory=dict)

    @property
    def synapses(self) -> int:
        return int(self.excitatory.nnz + self.inhibitory.nnz)


CUBA = {  # Brette et al. 2007, benchmark 2 (Brian2's CUBA example); ms and mV
    "tau_m": 20.0, "tau_e": 5.0, "tau_i": 10.0, "e_l": -49.0, "v_th": -50.0, "v_reset": -60.0, "t_ref": 5.0,
    "w_e": 60 * 0.27 / 10, "w_i": -20 * 4.5 / 10, "excitatory_fraction": 0.8,
}


def cuba(neurons: int = 4000, seed: int = 1, p: float = 0.02, excitatory_fraction: float = 0.8,
         connectivity: str = "random") -> LIFNetwork:
    """The CUBA benchmark (Brette et al. 2007, benchmark 2; Brian2's CUBA example): 4000 LIF, 80 %
    excitatory, p = 0.02, w_e = 1.62 mV, w_i = -9 mV, tau_m 20, tau_e 5, tau_i 10 ms, threshold
    -50, reset -60, rest -49 mV (suprathreshold: the network drives itself), refractory 5 ms,
    initial v uniform between reset and threshold.

    connectivity: "random" (numpy's generator, as Brian2 draws) or "procedural" (lapicque's counter-based
    rows: exactly the connections of `lapicque.golden.network_codes.cuba_spec`'s four projections, so that the
    float and the fixed network run the same synapses)."""
    if neurons < 2:
        raise LapicqueError(f"--neurons = {neurons} is too small; a network needs at least 2")
    rng = np.random.default_rng(seed)
    n_exc = int(round(neurons * excitatory_fraction))
    notes = {"excitatory": n_exc, "p": p, "seed": seed, "connectivity": checked_connectivity(connectivity)}
    if connectivity == "procedural":
        from .connectivity import realised_p, skip_table
        from .network_codes import cuba_spec

        if excitatory_fraction != CUBA["excitatory_fraction"]:
            raise LapicqueError("procedural CUBA has CUBA's 80 % excitatory neurons")
        exc, inh = procedural_synapses(cuba_spec(neurons, p, seed)[0], CUBA["w_e"], CUBA["w_i"])
        notes["realised_p"] = realised_p(skip_table(p))
    else:
        exc = random_connections(n_exc, neurons, p, CUBA["w_e"], rng)
        inh = random_connections(neurons - n_exc, neurons, p, CUBA["w_i"], rng)
        # sources are numbered 0..n_exc-1 (excitatory) then n_exc.. (inhibitory): pad to [neurons, neurons]
        exc = sparse.vstack([exc, sparse.csr_matrix((neurons - n_exc, neurons))]).tocsr()
        inh = sparse.vstack([sparse.csr_matrix((n_exc, neurons)), inh]).tocsr()
    v0 = -60.0 + rng.random(neurons) * 10.0
    return LIFNetwork(neurons, exc, inh, v0=v0, name="cuba", notes=notes)


def procedural_synapses(spec, w_exc: float, w_inh: float) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Exactly the connections of a network spec with populations `exc` and `inh` (its procedural rows, as
    `lapicque.golden.network_model` realises them; a multapse's weights summed), as the float network's
    excitatory and inhibitory [neurons, neurons] matrices: rows of `exc` weigh w_exc (mV), of `inh` w_inh."""
    from .network_model import compile_network

    n = spec.neurons
    exc, inh = (sparse.csr_matrix((n, n)) for _ in range(2))
    for part in compile_network(spec):  # rows of one source population each
        rows = sparse.csr_matrix((np.ones(part.rows.nnz), part.rows.indices, part.rows.indptr), shape=part.rows.shape)
        placed = sparse.vstack([sparse.csr_matrix((part.source_offset, n)), rows,
                                sparse.csr_matrix((n - part.source_offset - part.source_size, n))])
        if part.source_offset == spec.offsets["exc"]:
            exc = exc + w_exc * placed
        else:
            inh = inh + w_inh * placed
    return exc.tocsr(), inh.tocsr()


CONNECTIVITIES = ("random", "procedural")


def checked_connectivity(name: str) -> str:
    """`name` if it is one of CONNECTIVITIES, else a one-line LapicqueError."""
    if name not in CONNECTIVITIES:
        raise LapicqueError(f"unknown connectivity {name!r}; choose one of {', '.join(CONNECTIVITIES)}")
    return name


def lattice(side: int = 32, radius: float = 1.5, weight: float = 80.0) -> LIFNetwork:
    """A side x side sheet of LIFs on a torus, each exciting the neighbours within `radius` (grid units;
    1.5 reaches the 8 surrounding sites) with synaptic current jumps of `weight` (mV; with tau_e = 2
    and tau_m = 20 ms one such input peaks at about 0.077 weight, 6 mV for the default). At rest
    (-70 mV, threshold -55) nothing happens; a patch started above threshold sets off a wave that
    travels across the sheet, each neuron firing once (refractory 50 ms)."""
    if side < 3:
        raise LapicqueError(f"side = {side} is too small; a lattice needs at least 3 x 3 neurons")
    n = side * side
    y, x = np.divmod(np.arange(n), side)
    reach = int(np.floor(radius))
    rows, cols = [], []
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if (dx, dy) != (0, 0) and dx * dx + dy * dy <= radius * radius:
                rows.append(np.arange(n))
                cols.append(((y + dy) % side) * side + (x + dx) % side)
    r, c = np.concatenate(rows), np.concatenate(cols)
    exc = sparse.csr_matrix((np.full(r.size, weight), (r, c)), shape=(n, n))
    v0 = np.full(n, -70.0)
    return LIFNetwork(n, exc, sparse.csr_matrix((n, n)), tau_m=20.0, tau_e=2.0, e_l=-70.0, v_th=-55.0,
                      v_reset=-70.0, t_ref=50.0, v0=v0, name="lattice", notes={"side": side, "radius": radius})


def qif_network(neurons: int = 200, coupling: float = 0.0, eta_mean: float = 1.0, eta_width: float = 0.05,
                tau: float = 10.0, tau_s: float = 5.0, duration: float = 1000.0, dt: float = 0.01, seed: int = 0,
                v_peak: float = 100.0) -> NetworkResult:
    """All-to-all QIF neurons in their normal form (Montbrio, Pazo and Roxin 2015), dimensionless V:

        tau dV_i/dt = V_i^2 + eta_i + J tau s(t),   tau_s ds/dt = -s + (tau_s / N) sum of spikes

    with excitabilities eta_i drawn from a Lorentzian (centre eta_mean, half-width eta_width, cut at
    10 half-widths), a spike at V = v_peak and the reset to -v_peak. The coupling J sets the
    synchrony: inhibition (J < 0) pulls the neurons into a common rhythm, excitation and no coupling
    leave them asynchronous (`synchrony`). Forward Euler with dt (first order; the fast upswing
    near the peak is what needs the small step)."""
    if neurons < 2 or not (dt > 0 and duration > 0):
        raise LapicqueError("qif_network needs at least 2 neurons and positive dt and duration")
    rng = np.random.default_rng(seed)
    eta = eta_mean + eta_width * np.tan(np.pi * (rng.random(neurons) - 0.5))
    eta = np.clip(eta, eta_mean - 10 * eta_width, eta_mean + 10 * eta_width)
    wall0 = time.perf_counter()
    v = rng.uniform(-3.0, 3.0, neurons)
    activation = 0.0
    steps = int(round(duration / dt))
    times, who = [], []
    for k in range(steps):
        v = v + dt * (v * v + eta + coupling * tau * activation) / tau
        activation -= dt * activation / tau_s
        fired = np.flatnonzero(v >= v_peak)
        if fired.size:
            v[fired] = -v_peak
            times.append(np.full(fired.size, (k + 1) * dt))
            who.append(fired)
            activation += fired.size / (neurons * tau_s)
    spike_times = np.concatenate(times) if times else np.zeros(0)
    spike_neurons = np.concatenate(who) if who else np.zeros(0, dtype=np.int64)
    return NetworkResult(spike_times, spike_neurons, steps * dt, neurons, time.perf_counter() - wall0)


BRUNEL_REGIMES = {  # (g, nu_ext / nu_thr) of Brunel (2000), figure 8
    "SR": (3.0, 2.0),  # synchronous regular
    "AI": (5.0, 2.0),  # asynchronous irregular
    "SI-fast": (6.0, 4.0),  # synchronous irregular, fast oscillation
    "SI-slow": (4.5, 0.9),  # synchronous irregular, slow oscillation
}


def fixed_indegree(sources: int, targets: int, indegree: int, weight: float, rng: np.random.Generator,
                   offset: int = 0, total: int | None = None) -> sparse.csr_matrix:
    """Every target receives exactly `indegree` connections from random sources (multapses allowed,
    as NEST's fixed_indegree); rows are sources, shifted by `offset` in a matrix of `total` rows."""
    total = total or sources
    src = rng.integers(0, sources, size=(targets, indegree)).ravel() + offset
    dst = np.repeat(np.arange(targets), indegree)
    return sparse.csr_matrix((np.full(src.size, weight), (src, dst)), shape=(total, targets))


def brunel_sizes(regime: str, excitatory: int, epsilon: float) -> tuple[int, int, int, int]:
    """(N_E, N_I, C_E, C_I) of Brunel's model A, or a one-line LapicqueError for a regime or size out of range."""
    if regime not in BRUNEL_REGIMES:
        raise LapicqueError(f"unknown regime {regime!r}; choose one of {', '.join(BRUNEL_REGIMES)}")
    if excitatory < 40:
        raise LapicqueError(f"excitatory = {excitatory} is too small; Brunel's network needs at least 40")
    if not (np.isfinite(epsilon) and 0 < epsilon <= 1):
        raise LapicqueError(f"epsilon = {epsilon} is out of range; allowed 0 < epsilon <= 1")
    n_e, n_i = excitatory, excitatory // 4
    return n_e, n_i, max(1, int(epsilon * n_e)), max(1, int(epsilon * n_i))


def brunel(regime: str = "AI", excitatory: int = 10_000, epsilon: float = 0.1, j: float = 0.1,
           seed: int = 1, connectivity: str = "random") -> LIFNetwork:
    """Brunel (2000) model A: delta synapses, N_I = N_E / 4, C = epsilon N per population, J = 0.1 mV,
    inhibition -g J, delay D = 1.5 ms, tau 20 ms, theta 20 mV, reset 10 mV, refractory 2 ms, and
    external Poisson input of rate C_E nu_ext with nu_ext = eta nu_thr, nu_thr = theta / (J C_E tau).

    connectivity: "random" (numpy's generator) or "procedural" (exactly the connections of
    `lapicque.golden.network_codes.brunel_spec`'s four fixed-in-degree projections, so that the float and the
    fixed network run the same synapses; the external input stays numpy's Poisson draw)."""
    n_e, n_i, c_e, c_i = brunel_sizes(regime, excitatory, epsilon)
    g, eta = BRUNEL_REGIMES[regime]
    rng = np.random.default_rng(seed)
    n = n_e + n_i
    tau, theta = 20.0, 20.0
    nu_thr = theta / (j * c_e * tau) * 1000.0  # Hz
    if checked_connectivity(connectivity) == "procedural":
        from .network_codes import brunel_spec

        exc, inh = procedural_synapses(brunel_spec(regime, excitatory, epsilon, j, seed)[0], j, -g * j)
    else:
        exc = fixed_indegree(n_e, n, c_e, j, rng, 0, n)
        inh = fixed_indegree(n_i, n, c_i, -g * j, rng, n_e, n)
    v0 = rng.uniform(0.0, theta, n)
    return LIFNetwork(n, exc, inh, tau_m=tau, e_l=0.0, v_th=theta, v_reset=10.0, t_ref=2.0, delay=1.5 - 0.1,
                      synapse="delta", external_rate_hz=c_e * eta * nu_thr, external_weight=j, seed=seed + 1,
                      v0=v0, name=f"brunel-{regime}", notes={"g": g, "eta": eta, "c_e": c_e, "c_i": c_i,
                                                             "connectivity": connectivity})


def synchrony(result: NetworkResult, bin_ms: float = 1.0, skip_ms: float = 100.0) -> float:
    """Golomb's synchrony measure from the population rate: its variance over time divided by the
    mean variance of single neurons' binned counts (about 1/N for asynchronous, up to 1 for lockstep)."""
    edges = np.arange(skip_ms, result.duration + bin_ms, bin_ms)
    counts = np.zeros((result.neurons, len(edges) - 1))
    keep = result.spike_times >= skip_ms
    bins = np.clip(np.searchsorted(edges, result.spike_times[keep], side="right") - 1, 0, len(edges) - 2)
    np.add.at(counts, (result.spike_neurons[keep], bins), 1.0)
    population = counts.mean(axis=0)
    single = counts.var(axis=1).mean()
    return float(population.var() / single) if single > 0 else 0.0


@dataclass
class NetworkResult:
    spike_times: np.ndarray  # ms
    spike_neurons: np.ndarray
    duration: float  # ms
    neurons: int
    wall_s: float  # the whole run: setup_s + run_s + gathering the spikes
    v_trace: np.ndarray | None = None  # [steps, recorded neurons], mV after each step
    setup_s: float = 0.0  # loading the compiled loop (numba's cache) and its first dispatch, once per process
    run_s: float = 0.0  # the simulation loop alone: what scales with the duration

    def rates_hz(self) -> np.ndarray:
        return np.bincount(self.spike_neurons, minlength=self.neurons) / self.duration * 1000.0

    def cvs(self) -> np.ndarray:
        """CV of the interspike intervals of every neuron with at least 3 spikes."""
        order = np.lexsort((self.spike_times, self.spike_neurons))
        t, n = self.spike_times[order], self.spike_neurons[order]
        isi = np.diff(t)
        same = n[1:] == n[:-1]
        isi, owner = isi[same], n[1:][same]
        counts = np.bincount(owner, minlength=self.neurons)
        ok = counts >= 2
        mean = np.bincount(owner, isi, minlength=self.neurons)[ok] / counts[ok]
        sq = np.bincount(owner, isi * isi, minlength=self.neurons)[ok] / counts[ok]
        return np.sqrt(np.maximum(sq - mean * mean, 0.0)) / mean

    def population_rate(self, bin_ms: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        edges = np.arange(0.0, self.duration + bin_ms, bin_ms)
        counts, _ = np.histogram(self.spike_times, edges)
        return edges[:-1], counts / self.neurons / bin_ms * 1000.0


def _csr(matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = sparse.csr_matrix(matrix)
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data.astype(np.float64)


@numba.njit(cache=True)
def _seed(seed):
    np.random.seed(seed)  # numba's own generator, used for the external Poisson input


@numba.njit(cache=True)
def _steps(k0, k1, u, g_e, g_i, jump, ref_left, ring_e, ring_i, h_e, h_i, exc, inh, gap, gap_degree, gap_rate,
           decay_m, decay_e, decay_i, to_v_e, to_v_i, u_th, u_reset, ref_steps, delay_steps, delta, external,
           external_weight, e_l, alpha, h_to_v_e, h_to_v_i, kick_e, kick_i, dt, conductance, rel_e, rel_i, tau_m,
           record, v_trace, buf_t, buf_n):
    """Steps k0..k1-1 of `run` (compiled): returns the spikes written to buf_t (step + 1) / buf_n."""
    n = u.shape[0]
    count = 0
    coupled = np.empty(n)
    for k in range(k0, k1):
        for i in range(n):
            if conductance:
                # exponential Euler (first order): the conductances held over the step, v relaxing
                # exactly towards the mixture of reversal potentials with the total conductance
                total = 1.0 + g_e[i] + g_i[i]
                target = (g_e[i] * rel_e + g_i[i] * rel_i) / total
                u[i] = target + (u[i] - target) * np.exp(-dt * total / tau_m)
            else:
                u[i] = u[i] * decay_m + g_e[i] * to_v_e + g_i[i] * to_v_i
            if alpha:  # g(t) = (g + h t) e^{-t / tau}: h feeds g, both decay
                u[i] += h_e[i] * h_to_v_e + h_i[i] * h_to_v_i
                g_e[i] += h_e[i] * dt
                g_i[i] += h_i[i] * dt
                h_e[i] *= decay_e
                h_i[i] *= decay_i
            g_e[i] *= decay_e
            g_i[i] *= decay_i
            if delta:
                u[i] += jump[i]
                jump[i] = 0.0
        if external > 0.0:
            for i in range(n):
                if delta:
                    u[i] += external_weight * np.random.poisson(external)
                else:
                    g_e[i] += external_weight * np.random.poisson(external)
        if gap[1].shape[0] > 0:
            # gap junctions, tau_m dv_i/dt += sum_j k_ij (v_j - v_i): an explicit (first-order) step
            # after the exact one; the coupling's own exponential would need a matrix exponential
            for i in range(n):
                acc = 0.0
                for e in range(gap[0][i], gap[0][i + 1]):
                    acc += gap[2][e] * u[gap[1][e]]
                coupled[i] = gap_rate * (acc - gap_degree[i] * u[i])
            for i in range(n):
                u[i] += coupled[i]
        slot = k % (delay_steps + 1)
        fired_any = False
        for i in range(n):
            if ref_left[i] > 0:  # refractory: held at the reset, below threshold, cannot fire
                u[i] = u_reset
                ref_left[i] -= 1
            elif u[i] > u_th:
                fired_any = True
                u[i] = u_reset
                ref_left[i] = ref_steps
                buf_t[count] = k + 1
                buf_n[count] = i
                count += 1
                for e in range(exc[0][i], exc[0][i + 1]):
                    ring_e[slot, exc[1][e]] += exc[2][e]
                for e in range(inh[0][i], inh[0][i + 1]):
                    ring_i[slot, inh[1][e]] += inh[2][e]
        # the weights arriving now: this step's spikes (no extra delay) or those of delay steps ago
        arrive = (k + 1) % (delay_steps + 1) if delay_steps else slot
        if delay_steps or fired_any:
            for i in range(n):
                if delta:
                    jump[i] += ring_e[arrive, i] + ring_i[arrive, i]
                else:
                    if alpha:
                        h_e[i] += ring_e[arrive, i] * kick_e
                        h_i[i] += ring_i[arrive, i] * kick_i
                    else:
                        g_e[i] += ring_e[arrive, i]
                        g_i[i] += ring_i[arrive, i]
                ring_e[arrive, i] = 0.0
                ring_i[arrive, i] = 0.0
        for r in range(record.shape[0]):
            v_trace[k, r] = u[record[r]] + e_l
    return count


def run(net: LIFNetwork, duration: float, dt: float = 0.1, progress=None, record: list[int] | None = None
        ) -> NetworkResult:
    """Simulate `net` for `duration` ms; `progress(step, steps)` is called every 1000 steps; the
    membrane of the `record` neurons after every step goes to `NetworkResult.v_trace`."""
    if not (np.isfinite(duration) and duration > 0):
        raise LapicqueError(f"duration = {duration} ms must be a positive number")
    if not (np.isfinite(dt) and dt > 0):
        raise LapicqueError(f"dt = {dt} ms must be a positive number")
    wall0 = time.perf_counter()
    n = net.neurons
    steps = int(round(duration / dt))
    u = (np.full(n, net.v_reset) if net.v0 is None else np.array(net.v0, dtype=np.float64)) - net.e_l
    if net.synapse not in ("exponential", "delta", "alpha", "conductance"):
        raise LapicqueError(f"synapse {net.synapse!r} must be 'exponential', 'delta', 'alpha' or 'conductance'")
    gap = sparse.csr_matrix((n, n)) if net.gap is None else sparse.csr_matrix(net.gap)
    if gap.nnz and (gap.shape != (n, n) or abs(gap - gap.T).max() > 1e-12 or gap.min() < 0):
        raise LapicqueError("gap must be a symmetric, non-negative [neurons, neurons] matrix")
    delay_steps = int(round(net.delay / dt))
    record = np.asarray(list(record or []), dtype=np.int64)
    state = {
        "u": u, "g_e": np.zeros(n) if net.g0 is None else np.array(net.g0[0], dtype=np.float64),
        "g_i": np.zeros(n) if net.g0 is None else np.array(net.g0[1], dtype=np.float64), "jump": np.zeros(n),
        "ref_left": np.zeros(n, np.int64),
        "ring_e": np.zeros((delay_steps + 1, n)), "ring_i": np.zeros((delay_steps + 1, n)),
        "h_e": np.zeros(n), "h_i": np.zeros(n),
    }
    constants = (
        _csr(net.excitatory), _csr(net.inhibitory), _csr(gap), np.asarray(gap.sum(axis=1)).ravel(),
        dt / net.tau_m, np.exp(-dt / net.tau_m), np.exp(-dt / net.tau_e), np.exp(-dt / net.tau_i),
        propagator(dt, net.tau_m, net.tau_e), propagator(dt, net.tau_m, net.tau_i),
        net.v_th - net.e_l, net.v_reset - net.e_l, int(round(net.t_ref / dt)), delay_steps,
        net.synapse == "delta", net.external_rate_hz * dt / 1000.0, net.external_weight, net.e_l,
        net.synapse == "alpha", alpha_propagator(dt, net.tau_m, net.tau_e), alpha_propagator(dt, net.tau_m, net.tau_i),
        np.e / net.tau_e, np.e / net.tau_i, dt,
        net.synapse == "conductance", net.e_e - net.e_l, net.e_i - net.e_l, net.tau_m,
    )
    v_trace = np.empty((steps, len(record)))
    times, who = [], []
    chunk = 100
    buf_t, buf_n = np.empty(n * chunk, np.int64), np.empty(n * chunk, np.int64)
    setup0 = time.perf_counter()
    # no steps: loads the compiled loop (and numba's dispatch) now, so that run_s times the loop alone
    _steps(0, 0, state["u"], state["g_e"], state["g_i"], state["jump"], state["ref_left"], state["ring_e"],
           state["ring_i"], state["h_e"], state["h_i"], *constants, record, v_trace, buf_t, buf_n)
    run0 = time.perf_counter()
    _seed(net.seed)
    for k0 in range(0, steps, chunk):
        k1 = min(steps, k0 + chunk)
        count = _steps(k0, k1, state["u"], state["g_e"], state["g_i"], state["jump"], state["ref_left"],
                       state["ring_e"], state["ring_i"], state["h_e"], state["h_i"], *constants, record, v_trace,
                       buf_t, buf_n)
        if count:
            times.append(buf_t[:count] * dt)
            who.append(buf_n[:count].copy())
        if progress is not None and k1 % 1000 < chunk:
            progress(k1, steps)
    run_s = time.perf_counter() - run0
    spike_times = np.concatenate(times).astype(np.float64) if times else np.zeros(0)
    spike_neurons = np.concatenate(who) if who else np.zeros(0, dtype=np.int64)
    return NetworkResult(spike_times, spike_neurons, steps * dt, n, time.perf_counter() - wall0, v_trace,
                         setup_s=run0 - setup0, run_s=run_s)
