"""LASSO problems with known answers, and the reference solver they are scored against.

The problem is always

    min_a  0.5 * ||y - Phi a||^2 + lam * ||a||_1          (signed)
    min_a  0.5 * ||y - Phi a||^2 + lam * sum(a),  a >= 0  (nonnegative)

with the dictionary `Phi` (dim x atoms) of unit-norm columns. `fista` solves it to a certified
duality gap, so `objective_opt` is the optimum to about 1e-12 relative, not an estimate.

Scikit-learn scales the same problem differently: `Lasso` minimises
(1 / (2 * n_samples)) ||y - X w||^2 + alpha ||w||_1, so alpha = lam / dim; `sparse_encode` with
`algorithm="lasso_cd"` divides its `alpha` by n_features (the signal length) itself, so there
alpha = lam. The tests cross-check both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lapicque.errors import LapicqueError

PROBLEMS = ("identity", "zero", "competition", "excitation", "bars", "random", "patches")
UNIT_NORM_TOLERANCE = 1e-6


@dataclass
class Problem:
    """A LASSO instance. `planted` is the code the signal was made from (if any), `closed_form` the
    exact optimum where one is known analytically (used to check the solvers)."""

    name: str
    dictionary: np.ndarray
    signal: np.ndarray
    lam: float
    nonnegative: bool = False
    planted: np.ndarray | None = None
    closed_form: np.ndarray | None = None
    patch_shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        check_problem(self.dictionary, self.signal, self.lam)
        self.dictionary = np.asarray(self.dictionary, dtype=np.float64)
        self.signal = np.asarray(self.signal, dtype=np.float64)
        self.lam = float(self.lam)

    @property
    def dim(self) -> int:
        return self.dictionary.shape[0]

    @property
    def atoms(self) -> int:
        return self.dictionary.shape[1]

    def objective(self, a: np.ndarray) -> np.ndarray:
        """The LASSO objective of a code, or of each row of a stack of codes [..., atoms]."""
        a = np.asarray(a, dtype=np.float64)
        residual = self.signal - a @ self.dictionary.T
        return 0.5 * np.sum(residual**2, axis=-1) + self.lam * np.sum(np.abs(a), axis=-1)


def check_problem(dictionary, signal, lam) -> None:
    """Raise a one-line LapicqueError naming what is wrong with a user's problem and how to fix it."""
    d = np.asarray(dictionary)
    y = np.asarray(signal)
    if d.ndim != 2:
        raise LapicqueError(f"the dictionary must be a 2-D array (dim x atoms); it has shape {d.shape}")
    if y.ndim != 1:
        raise LapicqueError(f"the signal must be a 1-D array; it has shape {y.shape}")
    if d.shape[0] != y.shape[0]:
        raise LapicqueError(f"dictionary has {d.shape[0]} rows but the signal has {y.shape[0]} samples; "
                            "they must match (dictionary is dim x atoms)")
    if d.shape[1] < 1 or d.shape[0] < 1:
        raise LapicqueError(f"the dictionary has shape {d.shape}; it needs at least one row and one atom")
    for name, x in (("dictionary", d), ("signal", y)):
        if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x) or not np.all(np.isfinite(x)):
            raise LapicqueError(f"the {name} holds non-finite or non-numeric values; clean it first")
    if not np.isfinite(lam) or lam < 0:
        raise LapicqueError(f"lam = {lam} must be a finite number >= 0")
    norms = np.linalg.norm(d, axis=0)
    bad = np.flatnonzero(np.abs(norms - 1.0) > UNIT_NORM_TOLERANCE)
    if bad.size:
        k = int(bad[0])
        raise LapicqueError(f"dictionary column {k} has norm {norms[k]:.6g}, not 1; "
                            "normalise the atoms first: D / np.linalg.norm(D, axis=0)")


def soft_threshold(x, t, nonnegative: bool = False):
    if nonnegative:
        return np.maximum(x - t, 0.0)
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def duality_gap(problem: Problem, a: np.ndarray) -> float:
    """Primal minus dual objective at a dual point scaled from the residual (>= 0, 0 at the optimum)."""
    phi, y, lam = problem.dictionary, problem.signal, problem.lam
    r = y - phi @ a
    corr = phi.T @ r
    worst = np.max(corr) if problem.nonnegative else np.max(np.abs(corr))
    scale = 1.0 if worst <= lam else lam / worst
    nu = scale * r
    dual = 0.5 * y @ y - 0.5 * np.sum((y - nu) ** 2)
    return float(problem.objective(a) - dual)


@dataclass
class Reference:
    code: np.ndarray
    objective: float
    iterations: int
    duality_gap: float
    wall_s: float
    solver: str = "fista"


def fista(problem: Problem, tol: float = 1e-12, max_iter: int = 200_000) -> Reference:
    """FISTA (Beck and Teboulle 2009) with gradient restart (O'Donoghue and Candes 2015).

    Stops when the duality gap is below `tol` times the objective (or 1e-300 when it is zero).
    """
    t0 = time.perf_counter()
    phi, y, lam = problem.dictionary, problem.signal, problem.lam
    lipschitz = max(np.linalg.norm(phi, 2) ** 2, 1e-300)
    gram, corr = phi.T @ phi, phi.T @ y
    a = np.zeros(problem.atoms)
    z, t = a.copy(), 1.0
    gap = np.inf
    for it in range(1, max_iter + 1):
        a_next = soft_threshold(z - (gram @ z - corr) / lipschitz, lam / lipschitz, problem.nonnegative)
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        if (z - a_next) @ (a_next - a) > 0:  # momentum points uphill: restart
            t_next = 1.0
        z = a_next + ((t - 1) / t_next) * (a_next - a)
        a, t = a_next, t_next
        if it % 10 == 0 or it == 1:
            gap = duality_gap(problem, a)
            if gap <= tol * max(problem.objective(a), 1e-300):
                break
    gap = duality_gap(problem, a)
    return Reference(a, float(problem.objective(a)), it, gap, time.perf_counter() - t0)


# -- problems with known answers ---------------------------------------------------------------------


def identity_problem(atoms: int = 16, lam: float = 0.1, seed: int = 0, nonnegative: bool = False) -> Problem:
    """Phi = I: the optimum is the soft threshold of y, a* = soft(y, lam) (one-sided when nonnegative)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, 0.5, atoms)
    return Problem("identity", np.eye(atoms), y, lam, nonnegative, closed_form=soft_threshold(y, lam, nonnegative))


def orthonormal_problem(dim: int = 16, lam: float = 0.1, seed: int = 0, nonnegative: bool = False) -> Problem:
    """A random orthonormal Phi: a* = soft(Phi^T y, lam)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    y = rng.normal(0.0, 0.5, dim)
    return Problem("orthonormal", q, y, lam, nonnegative, closed_form=soft_threshold(q.T @ y, lam, nonnegative))


def zero_problem(dim: int = 16, atoms: int = 32, seed: int = 0, nonnegative: bool = False,
                 margin: float = 1.05) -> Problem:
    """lam >= ||Phi^T y||_inf (here `margin` times it): the optimum is a* = 0."""
    phi = random_dictionary(dim, atoms, seed)
    rng = np.random.default_rng(seed + 1)
    y = rng.normal(size=dim)
    corr = phi.T @ y
    lam = margin * (np.max(corr) if nonnegative else np.max(np.abs(corr)))
    return Problem("zero", phi, y, max(lam, 0.0), nonnegative, closed_form=np.zeros(atoms))


def two_atom_optimum(phi: np.ndarray, y: np.ndarray, lam: float, nonnegative: bool) -> np.ndarray:
    """The exact optimum of a two-atom LASSO: the one support and sign pattern whose KKT conditions hold."""
    gram, corr = phi.T @ phi, phi.T @ y
    signs = (1.0,) if nonnegative else (1.0, -1.0)
    candidates = [np.zeros(2)]
    for k in range(2):
        for s in signs:
            a = np.zeros(2)
            a[k] = corr[k] - lam * s
            candidates.append(a)
    for s0 in signs:
        for s1 in signs:
            s = np.array([s0, s1])
            candidates.append(np.linalg.solve(gram, corr - lam * s))
    for a in candidates:
        if nonnegative and np.any(a < -1e-12):
            continue
        grad = corr - gram @ a  # = Phi^T r: lam * sign on the support, within [-lam, lam] (or <= lam) off it
        on = np.abs(a) > 1e-12
        ok_on = np.allclose(grad[on], lam * np.sign(a[on]), atol=1e-9)
        ok_off = np.all(grad[~on] <= lam + 1e-9) if nonnegative else np.all(np.abs(grad[~on]) <= lam + 1e-9)
        if ok_on and ok_off:
            return a
    raise AssertionError("no two-atom KKT point found")  # impossible for a strictly convex problem


def _two_atoms(cosine: float) -> np.ndarray:
    angle = np.arccos(cosine)
    return np.array([[1.0, np.cos(angle)], [0.0, np.sin(angle)]])


def competition_problem(lam: float = 0.1, cosine: float = 0.6, nonnegative: bool = True) -> Problem:
    """Two overlapping atoms (cosine 0.6) and a signal close to the first: the atoms inhibit each other.

    With b = Phi^T y both above lam, the first atom wins and suppresses the second: the closed form
    (two_atom_optimum) has one active atom, a* = (b_0 - lam, 0), although b_1 > lam on its own.
    """
    phi = _two_atoms(cosine)
    y = 1.0 * phi[:, 0] + 0.02 * np.array([0.0, 1.0])
    return Problem("competition", phi, y, lam, nonnegative, closed_form=two_atom_optimum(phi, y, lam, nonnegative))


def excitation_problem(lam: float = 0.1, cosine: float = -0.5, nonnegative: bool = True) -> Problem:
    """Two atoms at an obtuse angle (cosine -0.5): an active atom excites the other.

    The second atom's correlation b_1 is below lam alone, but once the first is active its drive
    b_1 - cosine * a_0 crosses lam: both end up active, a* = (G^-1)(b - lam) with G = Phi^T Phi.
    """
    phi = _two_atoms(cosine)
    a_true = np.array([1.0, 0.5])
    y = phi @ a_true
    problem = Problem("excitation", phi, y, lam, nonnegative, closed_form=two_atom_optimum(phi, y, lam, nonnegative))
    assert (phi.T @ y)[1] < lam < problem.closed_form[1] + lam  # alone below lam, active together
    return problem


def bars_problem(size: int = 8, bars: int = 3, lam: float = 0.1, seed: int = 0, noise: float = 0.0) -> Problem:
    """The bars problem: horizontal and vertical bars on a size x size grid (2 * size atoms, unit norm),
    the signal a sum of a few bars with unit coefficients (nonnegative)."""
    rng = np.random.default_rng(seed)
    atoms = []
    for k in range(size):
        h = np.zeros((size, size))
        h[k, :] = 1
        atoms.append(h.ravel())
    for k in range(size):
        v = np.zeros((size, size))
        v[:, k] = 1
        atoms.append(v.ravel())
    phi = np.array(atoms).T / np.sqrt(size)
    planted = np.zeros(2 * size)
    planted[rng.choice(2 * size, bars, replace=False)] = 1.0
    y = phi @ planted + noise * rng.normal(size=size * size)
    return Problem("bars", phi, y, lam, True, planted=planted, patch_shape=(size, size))


def random_dictionary(dim: int, atoms: int, seed: int) -> np.ndarray:
    """Gaussian atoms normalised to unit norm."""
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(dim, atoms))
    return phi / np.linalg.norm(phi, axis=0)


def random_problem(dim: int = 64, atoms: int = 128, sparsity: int = 8, lam: float = 0.1, seed: int = 0,
                   nonnegative: bool = False, noise: float = 0.01) -> Problem:
    """A unit-norm Gaussian dictionary and a planted k-sparse code with magnitudes in [0.5, 1.5]
    (random signs unless nonnegative), y = Phi a + noise."""
    if not 1 <= sparsity <= atoms:
        raise LapicqueError(f"--sparsity = {sparsity} is out of range; allowed 1..{atoms} (the number of atoms)")
    phi = random_dictionary(dim, atoms, seed)
    rng = np.random.default_rng(seed + 1)
    planted = np.zeros(atoms)
    support = rng.choice(atoms, sparsity, replace=False)
    signs = 1.0 if nonnegative else rng.choice([-1.0, 1.0], sparsity)
    planted[support] = signs * rng.uniform(0.5, 1.5, sparsity)
    y = phi @ planted + noise * rng.normal(size=dim)
    return Problem("random", phi, y, lam, nonnegative, planted=planted)


def dct_dictionary(patch: int = 8, atoms: int = 128) -> np.ndarray:
    """An overcomplete 2-D DCT dictionary for patch x patch patches: the `atoms` lowest-frequency
    separable cosines of a k x k frequency grid (k = ceil(sqrt(atoms))), mean removed from all but
    the constant atom, unit norm."""
    k = int(np.ceil(np.sqrt(atoms)))
    t = np.arange(patch)
    basis = np.array([np.cos(np.pi * f * (2 * t + 1) / (2 * k)) for f in range(k)]).T  # patch x k
    freqs = sorted(((fy, fx) for fy in range(k) for fx in range(k)), key=lambda f: (f[0] + f[1], f))
    cols = []
    for fy, fx in freqs[:atoms]:
        atom = np.outer(basis[:, fy], basis[:, fx]).ravel()
        if (fy, fx) != (0, 0):
            atom = atom - atom.mean()
        cols.append(atom / np.linalg.norm(atom))
    return np.array(cols).T


def natural_patch(patch: int = 8, seed: int = 0) -> np.ndarray:
    """A patch x patch patch of scikit-learn's sample image (china.jpg, grey), mean removed, unit norm;
    the seed picks a patch with contrast (standard deviation above the image's median)."""
    try:
        from sklearn.datasets import load_sample_image
    except ImportError:  # pragma: no cover - a dependency of the package
        raise LapicqueError("the patches problem needs scikit-learn; run: pip install scikit-learn") from None
    image = load_sample_image("china.jpg").astype(np.float64).mean(axis=2) / 255.0
    rng = np.random.default_rng(seed)
    rows, cols = image.shape[0] - patch, image.shape[1] - patch
    spread = np.median([image[r:r + patch, c:c + patch].std()
                        for r, c in zip(rng.integers(0, rows, 64), rng.integers(0, cols, 64), strict=True)])
    while True:
        r, c = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        x = image[r:r + patch, c:c + patch]
        if x.std() > spread:
            x = x.ravel() - x.mean()
            return x / np.linalg.norm(x)


def patches_problem(atoms: int = 128, lam: float = 0.1, seed: int = 0, nonnegative: bool = False,
                    patch: int = 8) -> Problem:
    """An 8x8 natural-image patch coded on an overcomplete DCT dictionary."""
    if atoms < 1:
        raise LapicqueError(f"--atoms = {atoms} must be at least 1")
    return Problem("patches", dct_dictionary(patch, atoms), natural_patch(patch, seed), lam, nonnegative,
                   patch_shape=(patch, patch))
