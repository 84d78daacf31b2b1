"""The Locally Competitive Algorithm: analog (Rozell et al. 2008) and spiking, compiled onto the array.

Analog LCA. Internal states u, code a = T(u) (soft threshold at lam, one-sided when nonnegative):

    du/dt = b - u - G a,     b = Phi^T y,   G = Phi^T Phi - I           (tau = 1, Euler steps of dt)

Its fixed point satisfies the LASSO optimality conditions Phi^T (y - Phi a) = lam sign(a) on the
support and |.| <= lam off it, because G's diagonal is zero for unit-norm atoms.

Spiking LCA (Shapero et al. 2014; Tang, Lin and Davies 2017) on the array's neuron contract.
Every neuron is a non-leaky integrate-and-fire neuron whose membrane takes a constant bias and the
weights of last step's spikes, resetting by subtraction:

    v_i <- v_i + bias_i + sum_j W[j, i] s_j(t - 1),  spike when v_i >= theta, then v_i <- v_i - theta

with bias_i = kappa (b_i - lam), W[j, i] = -theta G[i, j] and kappa = theta / scale. Averaged over
time the count of spikes per step r_i obeys theta r_i = bias_i - theta sum_j G[i, j] r_j for
spiking neurons, i.e. a = scale * r is the nonnegative LCA fixed point; the rates converge to the
LASSO optimum as 1/t (Tang et al. 2017). The code is read out as a(t) = scale * count(t) / t.

How the problem becomes codes (`compile_problem`), and what each choice costs:

- Weights set the resolution: theta is the largest value for which every theta * |G[i, j]| fits
  `weight_bits` (signed), so G is represented to 1 / (2 theta) and bias to 1 / (2 kappa). The gap
  against the float model (same equations, unrounded values) falls as weight bits rise; the
  benchmark measures it (benchmarks/bench_lca.py).
- `rate` is the spike rate the largest drive b_i - lam maps to (spikes per step, default 0.25):
  one spike per step is the hardware's ceiling, and rates near it alias; lower rates need more
  steps for the same resolution of the readout.
- The synaptic current decays fully every step (decay = 4096: i = sum of weights) and the membrane
  does not leak (exponential leak 0): both are exact in fixed point, so the bit-exact model differs
  from the float one only by the rounding of bias and weights, and the scoreboard's one-step bound
  is 0 (exact). The membrane's width leaves room for 8 thresholds below zero: inhibited neurons rest
  on the saturating floor rather than wrapping.
- Signed codes run as neuron pairs: the nonnegative problem on [Phi, -Phi] (2 x atoms neurons) is
  the signed LASSO, a = a_plus - a_minus; partners inhibit each other's opposite drive through
  G = -1 between them (so theta is at most the weight range).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.spec import DECAY_ONE, WIDTH_LIMITS, ArraySpec, Widths

from .lasso import Problem, Reference, soft_threshold
from .neuron import ArrayModel, zero_state

DEFAULT_RATE = 0.25
FLOOR_THRESHOLDS = 8  # the membrane range reaches this many thresholds below zero


def analog_lca(problem: Problem, steps: int, dt: float = 0.1) -> np.ndarray:
    """Codes of the analog LCA after each of `steps` Euler steps (tau = 1), shape [steps, atoms]."""
    phi = problem.dictionary
    b = phi.T @ problem.signal
    g = phi.T @ phi - np.eye(problem.atoms)
    u = np.zeros(problem.atoms)
    codes = np.empty((steps, problem.atoms))
    for t in range(steps):
        a = soft_threshold(u, problem.lam, problem.nonnegative)
        u = u + dt * (b - u - g @ a)
        codes[t] = soft_threshold(u, problem.lam, problem.nonnegative)
    return codes


@dataclass
class CompiledLCA:
    """A LASSO problem as an array spec, with the unrounded values the float model runs."""

    problem: Problem
    spec: ArraySpec
    signed: bool
    theta: float
    scale: float  # coefficient per (spike per step)
    float_params: dict
    float_weights: np.ndarray
    quantisation: dict = field(default_factory=dict)

    @property
    def neurons(self) -> int:
        return self.spec.neurons

    def code_from_rates(self, rates: np.ndarray) -> np.ndarray:
        """Coefficients from spike rates (spikes per step) [..., neurons]; pairs combine as a+ - a-."""
        a = self.scale * np.asarray(rates, dtype=np.float64)
        if self.signed:
            atoms = self.problem.atoms
            return a[..., :atoms] - a[..., atoms:]
        return a


def compile_problem(problem: Problem, weight_bits: int = 8, rate: float = DEFAULT_RATE, lanes: int = 1,
                    signed: bool | None = None) -> CompiledLCA:
    """Compile (Phi, y, lam) into an `ArraySpec` for the spiking LCA (see the module docstring).

    `signed` defaults to not `problem.nonnegative` (neuron pairs for a signed problem).
    """
    lo, hi, _ = WIDTH_LIMITS["w"]
    if not lo <= weight_bits <= hi:
        raise LapicqueError(f"--weight-bits = {weight_bits} is out of range; allowed {lo}..{hi}")
    if not 0.0 < rate <= 0.5:
        raise LapicqueError(f"--rate = {rate} is out of range; allowed 0 < rate <= 0.5 spikes per step")
    signed = (not problem.nonnegative) if signed is None else signed
    phi = problem.dictionary
    if signed:
        phi = np.hstack([phi, -phi])
    n = phi.shape[1]
    if n > 65536 or n % lanes:
        raise LapicqueError(f"{n} neurons do not fit {lanes} lanes; choose lanes that divide {n}")
    b = phi.T @ problem.signal
    g = phi.T @ phi - np.eye(n)
    w_max = (1 << (weight_bits - 1)) - 1
    g_max = float(np.max(np.abs(g))) if n > 1 else 0.0
    theta_limit = 1 << (weight_bits + 8)  # orthogonal atoms have no weights to bound theta: keep widths sane
    # (1 + 1e-9): unit-norm atoms make |G| = 1 between pair partners only up to rounding
    theta = float(min(theta_limit, np.floor(w_max / g_max * (1 + 1e-9)) if g_max > 0 else theta_limit))
    if theta < 4:
        raise LapicqueError(f"--weight-bits = {weight_bits} leaves a threshold of {theta:.0f} codes; "
                            "use more weight bits")
    drive = b - problem.lam
    top = float(np.max(drive))
    scale = top / rate if top > 0 else 1.0  # no drive above lam: the optimum is 0 and nothing fires
    kappa = theta / scale
    bias_float = kappa * drive
    weights_float = -theta * g.T  # weights[src j, dst i] = -theta * G[i, j]
    np.fill_diagonal(weights_float, 0.0)
    bias = np.round(bias_float).astype(np.int64)
    weights = np.round(weights_float).astype(np.int64)

    v_bits = int(theta).bit_length() + 1 + FLOOR_THRESHOLDS.bit_length()
    bias_bits = max(int(np.max(np.abs(bias), initial=1)).bit_length() + 1, v_bits)
    i_bits = weight_bits + max(1, (n - 1).bit_length()) + 1  # the sum of every weight: never saturates
    if v_bits > WIDTH_LIMITS["v"][1] or i_bits > WIDTH_LIMITS["i"][1] or bias_bits > WIDTH_LIMITS["bias"][1]:
        raise LapicqueError(f"the problem needs {max(v_bits, i_bits, bias_bits)}-bit state, more than the "
                            f"array's 32; use fewer weight bits or fewer atoms")
    widths = Widths(v=v_bits, i=i_bits, w=weight_bits, bias=bias_bits, ext=1, refractory=1)
    params = {
        "bias": bias, "leak": 0, "decay": DECAY_ONE, "theta_hi": int(theta), "theta_lo": 0, "refractory": 0,
        "v_reset": 0, "reset_current": 0, "leak_mode": "exponential", "reset_mode": "subtract", "hysteresis": 0,
    }
    spec = ArraySpec(n, lanes, widths, params, weights)
    float_params = {k: v.astype(np.float64) for k, v in spec.params.items()}
    float_params["bias"] = bias_float
    float_params["theta_hi"] = np.full(n, theta)
    quantisation = {
        "weight_bits": weight_bits,
        "theta": theta,
        "scale": scale,
        "weight_lsb_in_gram": 1.0 / theta,
        "max_weight_error_in_gram": float(np.max(np.abs(weights - weights_float)) / theta),
        "bias_lsb_in_coefficient": 1.0 / kappa,
        "max_bias_error_in_coefficient": float(np.max(np.abs(bias - bias_float)) / kappa),
        "widths": {"v": v_bits, "i": i_bits, "w": weight_bits, "bias": bias_bits},
    }
    return CompiledLCA(problem, spec, signed, theta, scale, float_params, weights_float, quantisation)


def spiking_lca(compiled: CompiledLCA, steps: int, fixed: bool = True, progress=None) -> np.ndarray:
    """Run the spiking LCA from rest for `steps` steps; returns the spikes [steps, neurons] (bool).

    `fixed=True` runs the bit-exact model of the compiled spec, `fixed=False` the float model of
    the same equations with the unrounded bias, threshold and weights. `progress(k)` is called as
    steps complete.
    """
    spec = compiled.spec
    if fixed:
        model = ArrayModel(spec, fixed=True, state=zero_state(spec.neurons))
    else:
        model = ArrayModel(spec, fixed=False, state=zero_state(spec.neurons), params=compiled.float_params,
                           weights=compiled.float_weights)
    ext = np.zeros(spec.neurons, dtype=np.int64)
    spikes = np.empty((steps, spec.neurons), dtype=bool)
    for t in range(steps):
        spikes[t] = model.step(ext).spike
        if progress is not None and (t + 1) % 100 == 0:
            progress(t + 1)
    return spikes


def codes_over_time(compiled: CompiledLCA, spikes: np.ndarray) -> np.ndarray:
    """The readout after every step: a(t) = scale * count(t) / t, shape [steps, atoms]."""
    counts = np.cumsum(spikes, axis=0, dtype=np.float64)
    t = np.arange(1, len(spikes) + 1, dtype=np.float64)[:, None]
    return compiled.code_from_rates(counts / t)


def relative_gaps(problem: Problem, objective_opt: float, codes: np.ndarray) -> np.ndarray:
    """(objective(a) - objective_opt) / objective_opt for each row of codes."""
    return (problem.objective(codes) - objective_opt) / max(abs(objective_opt), 1e-300)


def steps_to_gap(gaps: np.ndarray, target: float = 0.01) -> int | None:
    """The first step after which the gap stays at or below `target` to the end of the run (1-based)."""
    above = np.flatnonzero(np.asarray(gaps) > target)
    if above.size == 0:
        return 1
    last = int(above[-1])
    return None if last == len(gaps) - 1 else last + 2


SUPPORT_FRACTION = 0.01


def score(problem: Problem, reference: Reference, code: np.ndarray) -> dict:
    """How good a code is against the optimum: objective, gap, reconstruction, support.

    The support of a spiking code is where |a_i| >= 1 % of max |a*| (SUPPORT_FRACTION): a single
    stray spike in a long run is below it. The optimum's support is where |a*_i| > 1e-9 max |a*|.
    """
    opt = reference.code
    top = float(np.max(np.abs(opt))) if opt.size else 0.0
    true_support = np.abs(opt) > 1e-9 * top if top > 0 else np.zeros(opt.shape, bool)
    found = np.abs(code) >= SUPPORT_FRACTION * top if top > 0 else np.abs(code) > 0
    hits = int(np.sum(found & true_support))
    y = problem.signal
    objective = float(problem.objective(code))
    return {
        "objective": objective,
        "objective_opt": reference.objective,
        "rel_gap": float((objective - reference.objective) / max(abs(reference.objective), 1e-300)),
        "rel_recon_error": float(np.linalg.norm(y - problem.dictionary @ code) / max(np.linalg.norm(y), 1e-300)),
        "support_precision": hits / int(np.sum(found)) if np.any(found) else (1.0 if not np.any(true_support) else 0.0),
        "support_recall": hits / int(np.sum(true_support)) if np.any(true_support) else 1.0,
        "support_size": int(np.sum(found)),
        "support_size_opt": int(np.sum(true_support)),
    }


def check_rates(compiled: CompiledLCA, spikes: np.ndarray) -> str | None:
    """A warning when a neuron fired every step (its rate is clipped at the ceiling), else None."""
    full = np.flatnonzero(spikes[len(spikes) // 2:].all(axis=0))
    if full.size:
        return (f"neuron {int(full[0])} fired on every step of the second half: its rate is clipped at 1 spike "
                f"per step; lower --rate")
    return None

