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
from lapicque.spec import DECAY_ONE, MAX_WEIGHT_EXPONENT, WIDTH_LIMITS, ArraySpec, Widths

from .lasso import Problem, Reference, fista, soft_threshold
from .neuron import ArrayModel, zero_state

DEFAULT_RATE = 0.25
DEFAULT_TARGET_GAP = 0.01  # the rounding may cost at most a 1 % relative objective gap
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
                    signed: bool | None = None, *, weight_exponent: int | None = None,
                    target_gap: float | None = DEFAULT_TARGET_GAP, reference: Reference | None = None) -> CompiledLCA:
    """Compile (Phi, y, lam) into an `ArraySpec` for the spiking LCA (see the module docstring).

    `signed` defaults to not `problem.nonnegative` (neuron pairs for a signed problem). The weight
    exponent is chosen (`choose_exponent`) unless given; `target_gap` is the relative objective gap the
    rounding may cost at most (predicted before anything runs), None for no limit: a compilation that
    cannot meet it is refused with the weight bits it needs. `reference` is the problem's optimum
    (FISTA's, computed when not given).
    """
    lo, hi, _ = WIDTH_LIMITS["w"]
    if not lo <= weight_bits <= hi:
        raise LapicqueError(f"--weight-bits = {weight_bits} is out of range; allowed {lo}..{hi}")
    if not 0.0 < rate <= 0.5:
        raise LapicqueError(f"--rate = {rate} is out of range; allowed 0 < rate <= 0.5 spikes per step")
    if target_gap is not None and not (np.isfinite(target_gap) and target_gap > 0):
        raise LapicqueError(f"--target-gap = {target_gap} must be a number above 0 (a relative gap; 0.01 is 1 %)")
    if weight_exponent is not None and not 0 <= weight_exponent <= MAX_WEIGHT_EXPONENT:
        raise LapicqueError(f"--weight-exponent = {weight_exponent} is out of range; allowed 0..{MAX_WEIGHT_EXPONENT}")
    signed = (not problem.nonnegative) if signed is None else signed
    n = problem.atoms * (2 if signed else 1)
    if n > 65536 or n % lanes:
        raise LapicqueError(f"{n} neurons do not fit {lanes} lanes; choose lanes that divide {n}")
    reference = reference if reference is not None else fista(problem)
    gram = _drive_and_gram(problem, signed)  # one n x n product for every exponent and width tried
    if weight_exponent is not None:
        compiled = _compile_at(problem, gram, weight_bits, weight_exponent, rate, lanes, signed)
        if compiled is None:
            raise LapicqueError(f"--weight-exponent = {weight_exponent} needs a state wider than the array's 32 bits; "
                                "use a smaller exponent or fewer weight bits")
        _predict(compiled, reference)
        by_exponent = {weight_exponent: compiled.quantisation["predicted_gap"]}
    else:
        compiled, by_exponent = choose_exponent(problem, gram, weight_bits, rate, lanes, signed, reference, target_gap)
    compiled.quantisation["predicted_gap_by_exponent"] = {str(e): g for e, g in by_exponent.items()}
    compiled.quantisation["target_gap"] = target_gap
    predicted = compiled.quantisation["predicted_gap"]
    if target_gap is not None and not predicted <= target_gap:
        needed = _bits_needed(problem, gram, weight_bits, rate, lanes, signed, reference, target_gap)
        cost = (f"a predicted gap of {predicted:.3g} from rounding" if np.isfinite(predicted) else
                "a rounded Gram matrix with no finite optimum (not positive semidefinite)")
        raise LapicqueError(
            f"--weight-bits = {weight_bits} leaves {cost}, above --target-gap = {target_gap:g}; "
            + (f"use --weight-bits {needed}" if needed else
                                                  f"no weight width up to {WIDTH_LIMITS['w'][1]} bits meets it; "
                                                  "raise --target-gap"))
    return compiled


def choose_exponent(problem: Problem, gram: tuple[np.ndarray, np.ndarray], weight_bits: int, rate: float, lanes: int,
                    signed: bool, reference: Reference,
                    target_gap: float | None) -> tuple[CompiledLCA, dict[int, float]]:
    """The smallest weight exponent whose predicted gap is at most a tenth of `target_gap` (so the readout's
    1/t convergence, not the rounding, sets the time to the target); when none is, the exponent with the
    smallest predicted gap. The search stops where the state would pass 32 bits, or where three more
    exponents have not cut the prediction by a tenth (the weights' own rounding is then the floor).
    `gram` is `_drive_and_gram`'s. Returns the compilation and the predicted gap of every exponent tried."""
    goal = target_gap / 10 if target_gap is not None else 0.0
    tried: dict[int, float] = {}
    best = None
    for e in range(MAX_WEIGHT_EXPONENT + 1):
        compiled = _compile_at(problem, gram, weight_bits, e, rate, lanes, signed)
        if compiled is None:
            break
        gap = _predict(compiled, reference)
        tried[e] = gap
        if gap <= goal:
            return compiled, tried
        if best is None or gap < 0.9 * best.quantisation["predicted_gap"]:
            best = compiled
        if e - best.spec.weight_exponent >= 3:
            break
    if best is None:
        raise LapicqueError(f"the problem needs a state wider than the array's 32 bits even without a weight "
                            f"exponent; use fewer weight bits than {weight_bits} or fewer atoms")
    return best, tried


def _bits_needed(problem, gram, weight_bits, rate, lanes, signed, reference, target_gap) -> int | None:
    """The fewest weight bits above `weight_bits` whose best exponent meets `target_gap`, or None."""
    for bits in range(weight_bits + 1, WIDTH_LIMITS["w"][1] + 1):
        compiled, _ = choose_exponent(problem, gram, bits, rate, lanes, signed, reference, target_gap)
        if compiled.quantisation["predicted_gap"] <= target_gap:
            return bits
    return None


def _drive_and_gram(problem: Problem, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """b = Phi^T y and G = Phi^T Phi - I of the neurons' dictionary ([Phi, -Phi] for signed pairs)."""
    phi = problem.dictionary
    if signed:
        phi = np.hstack([phi, -phi])
    return phi.T @ problem.signal, phi.T @ phi - np.eye(phi.shape[1])


def _compile_at(problem: Problem, gram: tuple[np.ndarray, np.ndarray], weight_bits: int, exponent: int, rate: float,
                lanes: int, signed: bool) -> CompiledLCA | None:
    """The compilation at one weight exponent, or None where the state would not fit 32 bits."""
    b, g = gram
    n = len(b)
    w_max = (1 << (weight_bits - 1)) - 1
    g_max = float(np.max(np.abs(g))) if n > 1 else 0.0
    theta_limit = 1 << (weight_bits + 8)  # orthogonal atoms have no weights to bound theta: keep widths sane
    # (1 + 1e-9): unit-norm atoms make |G| = 1 between pair partners only up to rounding
    weight_theta = float(min(theta_limit, np.floor(w_max / g_max * (1 + 1e-9)) if g_max > 0 else theta_limit))
    if weight_theta < 4:
        raise LapicqueError(f"--weight-bits = {weight_bits} leaves a threshold of {weight_theta:.0f} codes; "
                            "use more weight bits")
    step = 1 << exponent  # a weight code is worth 2**exponent membrane codes
    theta = weight_theta * step
    drive = b - problem.lam
    top = float(np.max(drive))
    scale = top / rate if top > 0 else 1.0  # no drive above lam: the optimum is 0 and nothing fires
    kappa = theta / scale
    bias_float = kappa * drive
    weights_float = -theta * g.T  # weights[src j, dst i] = -theta * G[i, j], in membrane codes
    np.fill_diagonal(weights_float, 0.0)
    bias = np.round(bias_float).astype(np.int64)
    weights = np.round(weights_float / step).astype(np.int64)

    v_bits = int(theta).bit_length() + 1 + FLOOR_THRESHOLDS.bit_length()
    bias_bits = max(int(np.max(np.abs(bias), initial=1)).bit_length() + 1, v_bits)
    i_bits = weight_bits + exponent + max(1, (n - 1).bit_length()) + 1  # the sum of every weight: never saturates
    if max(v_bits, i_bits, bias_bits) > 32:
        return None
    widths = Widths(v=v_bits, i=i_bits, w=weight_bits, bias=bias_bits, ext=1, refractory=1)
    params = {
        "bias": bias, "leak": 0, "decay": DECAY_ONE, "theta_hi": int(theta), "theta_lo": 0, "refractory": 0,
        "v_reset": 0, "reset_current": 0, "leak_mode": "exponential", "reset_mode": "subtract", "hysteresis": 0,
    }
    spec = ArraySpec(n, lanes, widths, params, weights, weight_exponent=exponent)
    float_params = {k: v.astype(np.float64) for k, v in spec.params.items()}
    float_params["bias"] = bias_float
    float_params["theta_hi"] = np.full(n, theta)
    quantisation = {
        "weight_bits": weight_bits,
        "weight_exponent": exponent,
        "theta": theta,
        "scale": scale,
        "weight_lsb_in_gram": step / theta,
        "max_weight_error_in_gram": float(np.max(np.abs(weights * step - weights_float)) / theta),
        "bias_lsb_in_coefficient": 1.0 / kappa,
        "max_bias_error_in_coefficient": float(np.max(np.abs(bias - bias_float)) / kappa),
        "widths": {"v": v_bits, "i": i_bits, "w": weight_bits, "bias": bias_bits},
    }
    # the float model multiplies its input by 2**exponent as the contract does: its weights are in weight codes
    return CompiledLCA(problem, spec, signed, theta, scale, float_params, weights_float / step, quantisation)


def rounded_limit(compiled: CompiledLCA, tol: float = 1e-12, max_iter: int = 50_000) -> np.ndarray:
    """The code the fixed model's rates converge to: the LCA fixed point of the rounded bias and weights.

    A spiking neuron's rate r obeys theta r_i = bias_i + sum_j W[j, i] r_j (W with the exponent applied)
    and a silent one's drive is not positive, which are the optimality conditions of
    min 0.5 a^T (I + G') a - c^T a over a >= 0, with a = scale r, G'[i, j] = -W[j, i] / theta and
    c = bias / kappa: the LASSO with the rounded Gram matrix and drive. Solved by projected accelerated
    gradient (with restart) to `tol` relative change; returns the code in the problem's coefficients.
    """
    spec = compiled.spec
    kappa = compiled.theta / compiled.scale
    c = spec.params["bias"] / kappa
    q = np.eye(spec.neurons) - (spec.weights.T * float(1 << spec.weight_exponent)) / compiled.theta
    # the largest eigenvalue, by power iteration from a seeded random start (an eigendecomposition is cubic
    # in the neurons; a constant start can sit in Q's null space); never above the Gershgorin bound
    gershgorin = float(np.max(np.sum(np.abs(q), axis=1)))
    x = np.random.default_rng(0).standard_normal(spec.neurons)
    for _ in range(100):
        y = q @ x
        norm = np.linalg.norm(y)
        if norm == 0:
            break
        x = y / norm
    lipschitz = max(min(1.1 * float(np.linalg.norm(q @ x)), gershgorin), 1e-12)
    while True:
        a = _projected_gradient(q, c, lipschitz, tol, max_iter)
        if np.all(np.isfinite(a)) or lipschitz >= gershgorin:
            break
        lipschitz = min(2 * lipschitz, gershgorin)  # the estimate was short of the eigenvalue: diverged
    return compiled.code_from_rates(a / compiled.scale)


def _projected_gradient(q: np.ndarray, c: np.ndarray, lipschitz: float, tol: float, max_iter: int) -> np.ndarray:
    """min 0.5 a^T q a - c^T a over a >= 0 by accelerated projected gradient with restart."""
    a = np.zeros(len(c))
    z, t = a.copy(), 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter):
            a_next = np.maximum(z - (q @ z - c) / lipschitz, 0.0)
            t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
            if (z - a_next) @ (a_next - a) > 0:  # momentum points uphill: restart
                t_next = 1.0
            z = a_next + ((t - 1) / t_next) * (a_next - a)
            change = np.max(np.abs(a_next - a))
            a, t = a_next, t_next
            if not np.isfinite(change) or change <= tol * max(float(np.max(a)), 1e-300):
                break
    return a


def _predict(compiled: CompiledLCA, reference: Reference) -> float:
    """Record (and return) the relative objective gap of `rounded_limit` against the optimum."""
    problem = compiled.problem
    code = rounded_limit(compiled)
    gap = float((problem.objective(code) - reference.objective) / max(abs(reference.objective), 1e-300))
    # below 0 is the solvers' tolerance, not a better code; no finite limit (an indefinite rounded Gram matrix)
    # is an infinite gap, which no target accepts
    compiled.quantisation["predicted_gap"] = max(gap, 0.0) if np.isfinite(gap) else float("inf")
    return compiled.quantisation["predicted_gap"]


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


def support(code: np.ndarray, top: float) -> np.ndarray:
    """Where |a_i| >= SUPPORT_FRACTION * top: the one definition of support for a code and for the optimum
    (top is max |a*|), so a stray spike in a long run is below it and a code equal to the optimum up to
    rounding has the optimum's support."""
    return np.abs(code) >= SUPPORT_FRACTION * top if top > 0 else np.abs(code) > 0


def score(problem: Problem, reference: Reference, code: np.ndarray) -> dict:
    """How good a code is against the optimum: objective, gap, reconstruction, support (`support`, the same
    threshold on both sides)."""
    opt = reference.code
    top = float(np.max(np.abs(opt))) if opt.size else 0.0
    true_support = support(opt, top)
    found = support(code, top)
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

