"""LASSO problems and the FISTA reference: closed forms, hand-computed cases, scikit-learn."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden import lasso


def code_error_bound(problem, reference):
    """|a - a*| from a duality gap: the objective is mu-strongly convex with mu = lambda_min(Phi^T Phi),
    so 0.5 mu ||a - a*||^2 <= objective(a) - objective(a*) <= gap. The gap is a difference of two
    objectives of size ||y||^2, known to a few machine epsilons of that."""
    mu = np.linalg.eigvalsh(problem.dictionary.T @ problem.dictionary)[0]
    rounding = 8 * np.finfo(float).eps * (problem.signal @ problem.signal)
    return np.sqrt(2 * max(reference.duality_gap, rounding) / mu)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("make", [lasso.identity_problem, lasso.orthonormal_problem])
def test_orthonormal_dictionary_gives_the_soft_threshold(make, nonnegative):
    problem = make(16, lam=0.2, seed=5, nonnegative=nonnegative)
    corr = problem.dictionary.T @ problem.signal
    expected = np.sign(corr) * np.maximum(np.abs(corr) - 0.2, 0)
    if nonnegative:
        expected = np.maximum(corr - 0.2, 0)
    assert np.array_equal(problem.closed_form, expected)
    assert np.count_nonzero(expected) not in (0, 16)  # the threshold is active somewhere, not everywhere
    ref = lasso.fista(problem)
    assert np.max(np.abs(ref.code - expected)) <= code_error_bound(problem, ref)


@pytest.mark.parametrize("nonnegative", [False, True])
def test_lambda_above_the_largest_correlation_gives_zero(nonnegative):
    problem = lasso.zero_problem(16, 32, seed=2, nonnegative=nonnegative)
    ref = lasso.fista(problem)
    assert np.array_equal(ref.code, np.zeros(32))
    assert ref.objective == pytest.approx(0.5 * problem.signal @ problem.signal, rel=1e-15)
    # just below the bound, the optimum is no longer zero
    below = lasso.Problem("z", problem.dictionary, problem.signal, problem.lam / 1.05 * 0.99, nonnegative)
    assert np.count_nonzero(lasso.fista(below).code) >= 1


def test_competition_by_hand():
    # atoms at cosine 0.6, y = phi_0 + 0.02 e_1: b = (1, 0.6 + 0.02 * 0.8) = (1, 0.616), both above lam = 0.1.
    # With a_0 = b_0 - lam = 0.9 the second atom's correlation is 0.616 - 0.6 * 0.9 = 0.076 < lam: it loses.
    problem = lasso.competition_problem(0.1)
    assert np.allclose(problem.dictionary.T @ problem.signal, [1.0, 0.616])
    assert np.allclose(problem.closed_form, [0.9, 0.0], atol=1e-15)
    ref = lasso.fista(problem)
    assert np.max(np.abs(ref.code - [0.9, 0.0])) <= code_error_bound(problem, ref)


def test_excitation_by_hand():
    # atoms at cosine -0.5, y = Phi (1, 0.5): b = (0.75, 0) so atom 1 alone stays off (b_1 < lam), but
    # with both active a = G^-1 (b - lam) = (1, 0.5) - 0.1 * G^-1 (1, 1) = (1, 0.5) - 0.1 * (2, 2) = (0.8, 0.3).
    problem = lasso.excitation_problem(0.1)
    assert np.allclose(problem.dictionary.T @ problem.signal, [0.75, 0.0])
    assert np.allclose(problem.closed_form, [0.8, 0.3])
    ref = lasso.fista(problem)
    assert np.max(np.abs(ref.code - [0.8, 0.3])) <= code_error_bound(problem, ref)


def test_two_atom_optimum_signed_picks_the_negative_sign():
    phi = lasso._two_atoms(0.3)
    y = -phi[:, 1]
    a = lasso.two_atom_optimum(phi, y, 0.1, nonnegative=False)
    assert a[1] == pytest.approx(-0.9) and a[0] == pytest.approx(0.0, abs=1e-12)  # b_0 = -0.3: |-0.3 + 0.27| < lam
    assert np.allclose(lasso.two_atom_optimum(phi, y, 0.1, nonnegative=True), 0.0)  # no positive correlation


def test_bars_recovers_the_planted_bars():
    problem = lasso.bars_problem(size=6, bars=3, lam=0.1, seed=4)
    ref = lasso.fista(problem)
    assert np.array_equal(np.abs(ref.code) > 1e-6, problem.planted > 0)
    assert np.allclose(np.linalg.norm(problem.dictionary, axis=0), 1.0)


def test_random_problem_is_planted_and_fista_certified():
    problem = lasso.random_problem(64, 128, 8, lam=0.1, seed=3)
    assert np.count_nonzero(problem.planted) == 8
    assert np.all(np.abs(problem.planted[problem.planted != 0]) >= 0.5)
    ref = lasso.fista(problem)
    assert 0 <= ref.duality_gap <= 1e-12 * ref.objective
    assert lasso.duality_gap(problem, np.zeros(128)) > 1e-3  # the gap is a real certificate, not 0 everywhere


def test_fista_matches_scikit_learn_lasso_and_sparse_encode():
    from sklearn.decomposition import sparse_encode
    from sklearn.linear_model import Lasso

    problem = lasso.random_problem(32, 64, 5, lam=0.05, seed=11)
    ref = lasso.fista(problem)
    dim = problem.dim
    # Lasso minimises (1 / (2 n_samples)) ||y - X w||^2 + alpha ||w||_1: alpha = lam / n_samples
    fit = Lasso(alpha=problem.lam / dim, fit_intercept=False, tol=1e-12, max_iter=100_000)
    fit.fit(problem.dictionary, problem.signal)
    # sparse_encode divides alpha by n_features (the signal length) itself: alpha = lam
    code = sparse_encode(problem.signal[None, :], problem.dictionary.T, algorithm="lasso_cd", alpha=problem.lam,
                         max_iter=100_000)[0]
    for other in (fit.coef_, code):
        assert problem.objective(other) >= ref.objective - 1e-12
        assert problem.objective(other) == pytest.approx(ref.objective, rel=1e-6)
        assert np.max(np.abs(other - ref.code)) < 1e-3
    # the wrong scaling is a different problem: a visibly different objective
    wrong = Lasso(alpha=problem.lam, fit_intercept=False, tol=1e-12).fit(problem.dictionary, problem.signal)
    assert problem.objective(wrong.coef_) > 1.1 * ref.objective


def test_nonnegative_matches_scikit_learn_positive_lasso():
    from sklearn.linear_model import Lasso

    problem = lasso.random_problem(32, 64, 5, lam=0.05, seed=12, nonnegative=True)
    ref = lasso.fista(problem)
    assert np.all(ref.code >= 0)
    fit = Lasso(alpha=problem.lam / problem.dim, fit_intercept=False, positive=True, tol=1e-12, max_iter=100_000)
    fit.fit(problem.dictionary, problem.signal)
    assert problem.objective(fit.coef_) == pytest.approx(ref.objective, rel=1e-6)


def test_patches_are_unit_norm_zero_mean_on_a_unit_norm_dct():
    problem = lasso.patches_problem(atoms=128, seed=1)
    assert problem.dictionary.shape == (64, 128)
    assert np.allclose(np.linalg.norm(problem.dictionary, axis=0), 1.0)
    assert problem.signal.sum() == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(problem.signal) == pytest.approx(1.0)
    assert np.linalg.matrix_rank(problem.dictionary) == 64  # overcomplete and spanning
    assert not np.array_equal(problem.signal, lasso.patches_problem(atoms=128, seed=2).signal)


@pytest.mark.parametrize(("dictionary", "signal", "lam", "message"), [
    (np.eye(4), np.ones(3), 0.1, "dictionary has 4 rows but the signal has 3 samples"),
    (np.eye(4), np.ones((4, 1)), 0.1, "the signal must be a 1-D array"),
    (np.ones(4), np.ones(4), 0.1, "the dictionary must be a 2-D array"),
    (np.eye(4), np.ones(4), -0.1, "lam = -0.1 must be a finite number >= 0"),
    (np.eye(4), np.array([1.0, np.nan, 0, 0]), 0.1, "the signal holds non-finite"),
    (np.eye(4) * 2, np.ones(4), 0.1, "dictionary column 0 has norm 2, not 1"),
])
def test_bad_problems_name_the_fault(dictionary, signal, lam, message):
    with pytest.raises(LapicqueError, match=message.replace("(", r"\(")):
        lasso.Problem("user", dictionary, signal, lam)
