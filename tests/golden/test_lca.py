"""The LCA: analog and spiking, float and fixed, against closed forms and the certified optimum."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden import lasso
from lapicque.golden.lca import (
    analog_lca,
    check_rates,
    codes_over_time,
    compile_problem,
    relative_gaps,
    score,
    spiking_lca,
    steps_to_gap,
)
from lapicque.golden.neuron import quantisation_bound
from lapicque.spec import DECAY_ONE

STEPS = 2000


def final_code(compiled, steps=STEPS, fixed=True):
    return codes_over_time(compiled, spiking_lca(compiled, steps, fixed=fixed))[-1]


def test_analog_lca_converges_to_the_optimum():
    problem = lasso.random_problem(32, 64, 4, lam=0.1, seed=1)
    ref = lasso.fista(problem)
    codes = analog_lca(problem, 3000, dt=0.1)
    assert np.max(np.abs(codes[-1] - ref.code)) < 1e-8
    gaps = relative_gaps(problem, ref.objective, codes)
    assert gaps[10] > 1e-2 and gaps[-1] < 1e-12  # it starts far and gets there


def test_compiled_spec_is_the_lca():
    problem = lasso.random_problem(16, 24, 3, lam=0.1, seed=2, nonnegative=True)
    c = compile_problem(problem, weight_bits=10, weight_exponent=0)
    spec, theta = c.spec, c.theta
    g = problem.dictionary.T @ problem.dictionary - np.eye(24)
    assert c.neurons == 24 and not c.signed
    assert theta == np.floor(511 / np.max(np.abs(g)))  # the largest threshold whose weights fit 10 bits
    assert np.array_equal(spec.weights, np.round(-theta * g.T).astype(np.int64))
    assert np.abs(spec.weights).max() <= 511 and np.all(np.diag(spec.weights) == 0)
    b = problem.dictionary.T @ problem.signal
    assert np.array_equal(spec.params["bias"], np.round(theta / c.scale * (b - 0.1)).astype(np.int64))
    assert c.scale * 0.25 == pytest.approx(np.max(b - 0.1))  # the strongest drive fires at the rate 0.25
    assert np.all(spec.params["decay"] == DECAY_ONE) and np.all(spec.params["leak"] == 0)
    assert np.all(spec.params["reset_mode"] == 1)  # subtractive reset keeps the residual: rates stay exact
    # full decay and no leak are exact in fixed point: the scoreboard's one-step bound is zero
    assert all(np.all(b == 0) for b in quantisation_bound(spec).values())


def test_signed_problems_run_as_neuron_pairs():
    problem = lasso.random_problem(16, 24, 3, lam=0.1, seed=2)
    c = compile_problem(problem, weight_exponent=0)
    assert c.signed and c.neurons == 48
    # a partner pair has G = -1: the weight between them is +theta, the full weight range
    assert c.spec.weights[0, 24] == c.theta == 127
    rates = np.zeros(48)
    rates[3], rates[24 + 5] = 0.2, 0.1
    code = c.code_from_rates(rates)
    assert code[3] == pytest.approx(0.2 * c.scale) and code[5] == pytest.approx(-0.1 * c.scale)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("fixed", [False, True])
def test_orthonormal_within_the_readout_bound(fixed, nonnegative):
    # No interactions: each active neuron integrates a constant bias, so count(T) = floor(T bias / theta)
    # and the rate is within 1/T of bias / theta; the partner of a signed pair receives -2 kappa lam on
    # average and never fires. So |a - a*| <= scale / T, plus the bias rounding in the fixed model.
    problem = lasso.orthonormal_problem(16, lam=0.1, seed=4, nonnegative=nonnegative)
    c = compile_problem(problem, weight_bits=8)
    code = final_code(c, fixed=fixed)
    bound = c.scale / STEPS + (c.quantisation["max_bias_error_in_coefficient"] if fixed else 0.0)
    err = np.max(np.abs(code - problem.closed_form))
    # the bound is reached exactly (a rate off by one spike in T); err is a difference of coefficients of
    # size |a*|, so it carries their rounding, a few ulps of |a*|, not of the bound
    rounding = 8 * np.finfo(np.float64).eps * np.max(np.abs(problem.closed_form))
    assert err <= bound + rounding
    assert err > 0 or fixed  # the float readout is not exact by accident


@pytest.mark.parametrize("fixed", [False, True])
def test_zero_solution_never_fires(fixed):
    problem = lasso.zero_problem(16, 32, seed=3)
    c = compile_problem(problem)
    spikes = spiking_lca(c, 500, fixed=fixed)
    assert not spikes.any()
    assert np.array_equal(codes_over_time(c, spikes)[-1], np.zeros(32))


@pytest.mark.parametrize("make", [lasso.competition_problem, lasso.excitation_problem])
@pytest.mark.parametrize("fixed", [False, True])
def test_two_atoms_match_the_closed_form(make, fixed):
    # At steady state theta * count_i(T) = T bias_i + sum_j W[j, i] count_j - v_i(T); an active neuron's
    # membrane stays within [-theta |G|, theta), so its count is off by less than 2 spikes from the
    # linear equations (I + G) a = b - lam on the support, and the error passes through (I + G_SS)^-1.
    # The fixed model adds its rounding of bias and weights, through the same inverse.
    problem = make(0.1)
    c = compile_problem(problem, weight_bits=8)
    code = final_code(c, fixed=fixed)
    support = problem.closed_form > 0
    gain = np.max(np.sum(np.abs(np.linalg.inv((problem.dictionary.T @ problem.dictionary)[np.ix_(support, support)])),
                         axis=1))
    q = c.quantisation
    rounding = q["max_bias_error_in_coefficient"] + q["max_weight_error_in_gram"] * np.sum(problem.closed_form)
    bound = gain * (2 * c.scale / STEPS + (rounding if fixed else 0.0))
    assert np.max(np.abs(code - problem.closed_form)) <= bound
    assert np.array_equal(code > 0, support)  # the loser of the competition never fires; excitation wakes both


@pytest.mark.parametrize(("kind", "lam"), [("random", 0.1), ("random", 0.05), ("patches", 0.05)])
def test_fixed_within_half_a_percent_and_float_a_tenth_over_20_seeds(kind, lam):
    """Issue 17's targets at 8-bit weights and 2000 steps: the fixed model's median gap at most 0.5 % on
    random 64 x 128 (k = 8) problems and on the overcomplete DCT `patches`, whose coherent atoms left the
    compiler without the weight exponent at 0.3-0.6 % medians and 1.5 % at worst; the float model's at most
    0.1 % (issue 4's target, unchanged)."""
    gaps = {True: [], False: []}
    for seed in range(20):
        problem = (lasso.random_problem(64, 128, 8, lam=lam, seed=seed) if kind == "random"
                   else lasso.patches_problem(128, lam=lam, seed=seed))
        ref = lasso.fista(problem)
        c = compile_problem(problem, weight_bits=8, reference=ref)
        for fixed in (True, False):
            gaps[fixed].append(score(problem, ref, final_code(c, fixed=fixed))["rel_gap"])
    assert np.median(gaps[True]) <= 0.005
    assert np.median(gaps[False]) <= 0.001
    assert min(gaps[True]) >= -1e-12 and min(gaps[False]) >= -1e-12  # nothing beats the certified optimum


def test_weight_exponent_refines_the_bias_not_the_weights():
    """An exponent e keeps the weight codes and multiplies theta and the bias's resolution by 2**e."""
    problem = lasso.random_problem(32, 64, 4, lam=0.05, seed=3)
    plain, fine = (compile_problem(problem, weight_exponent=e, target_gap=None) for e in (0, 3))
    assert np.array_equal(plain.spec.weights, fine.spec.weights)
    assert fine.theta == 8 * plain.theta and fine.spec.weight_exponent == 3
    assert fine.quantisation["bias_lsb_in_coefficient"] == pytest.approx(plain.quantisation["bias_lsb_in_coefficient"]
                                                                        / 8)
    assert fine.quantisation["max_bias_error_in_coefficient"] < plain.quantisation["max_bias_error_in_coefficient"] / 4
    # the float model runs the same equations: its spikes do not depend on the exponent (up to float rounding)
    assert np.mean(spiking_lca(plain, 300, fixed=False) == spiking_lca(fine, 300, fixed=False)) > 0.999


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_the_predicted_gap_is_the_fixed_models_limit(seed):
    """The prediction is the LASSO with the rounded Gram matrix and drive; the fixed model's readout converges
    to it as 1/t: at 8000 steps the measured gap is within 25 % of the prediction, with and without the
    exponent (measured 1-12 % apart on these seeds)."""
    problem = lasso.random_problem(64, 128, 8, lam=0.05, seed=seed)
    ref = lasso.fista(problem)
    for exponent in (0, 3):
        c = compile_problem(problem, weight_exponent=exponent, target_gap=None, reference=ref)
        measured = score(problem, ref, final_code(c, steps=8000))["rel_gap"]
        predicted = c.quantisation["predicted_gap"]
        assert measured == pytest.approx(predicted, rel=0.25), exponent


def test_the_chosen_exponent_is_the_smallest_meeting_a_tenth_of_the_target():
    problem = lasso.random_problem(64, 128, 8, lam=0.05, seed=1)
    c = compile_problem(problem, target_gap=0.01)
    tried = {int(e): g for e, g in c.quantisation["predicted_gap_by_exponent"].items()}
    chosen = c.spec.weight_exponent
    assert tried[chosen] <= 0.001 and all(g > 0.001 for e, g in tried.items() if e < chosen)
    assert max(tried) == chosen  # the search stops there
    assert c.quantisation["predicted_gap"] == tried[chosen]


def test_a_target_the_weights_cannot_meet_is_refused_naming_the_bits():
    problem = lasso.random_problem(64, 128, 8, lam=0.05, seed=1)
    with pytest.raises(LapicqueError, match=r"--weight-bits = 4 leaves .* above --target-gap = "
                                            r"0.001; use --weight-bits (\d+)") as info:
        compile_problem(problem, weight_bits=4, target_gap=0.001)
    needed = int(str(info.value).rsplit(" ", 1)[1])
    assert compile_problem(problem, weight_bits=needed, target_gap=0.001).quantisation["predicted_gap"] <= 0.001
    with pytest.raises(LapicqueError):
        compile_problem(problem, weight_bits=needed - 1, target_gap=0.001)


def test_support_has_one_definition_for_both_sides():
    """The analog LCA run to within 1e-12 of the optimum has the optimum's support exactly."""
    problem = lasso.random_problem(32, 64, 4, lam=0.1, seed=1)
    ref = lasso.fista(problem)
    s = score(problem, ref, analog_lca(problem, 3000)[-1])
    assert s["support_recall"] == 1.0 and s["support_precision"] == 1.0
    assert s["support_size"] == s["support_size_opt"] > 0


def test_quantisation_cost_falls_with_weight_bits():
    problem = lasso.random_problem(32, 64, 4, lam=0.1, seed=5)
    ref = lasso.fista(problem)
    costs = []
    for bits in (6, 8, 12):
        c = compile_problem(problem, weight_bits=bits, weight_exponent=0, target_gap=None)
        fixed = score(problem, ref, final_code(c, fixed=True))["rel_gap"]
        flt = score(problem, ref, final_code(c, fixed=False))["rel_gap"]
        costs.append(abs(fixed - flt))
    assert costs[0] > costs[1] > costs[2]


def test_steps_to_gap_is_where_the_gap_stays_below():
    assert steps_to_gap(np.array([0.5, 0.005, 0.02, 0.009, 0.001]), 0.01) == 4
    assert steps_to_gap(np.array([0.001, 0.002]), 0.01) == 1
    assert steps_to_gap(np.array([0.5, 0.005, 0.02]), 0.01) is None


def test_score_by_hand():
    problem = lasso.Problem("p", np.eye(2), np.array([1.0, 0.0]), 0.5)
    ref = lasso.fista(problem)  # a* = (0.5, 0), objective 0.5 * 0.25 + 0.25 = 0.375
    assert ref.objective == pytest.approx(0.375)
    s = score(problem, ref, np.array([0.4, 0.1]))
    # 0.5 * (0.36 + 0.01) + 0.5 * 0.5 = 0.435
    assert s["objective"] == pytest.approx(0.435)
    assert s["rel_gap"] == pytest.approx(0.06 / 0.375)
    assert s["rel_recon_error"] == pytest.approx(np.sqrt(0.37))
    assert s["support_precision"] == 0.5 and s["support_recall"] == 1.0


def test_rate_ceiling_is_reported():
    problem = lasso.orthonormal_problem(8, lam=0.0, seed=1, nonnegative=True)
    c = compile_problem(problem, rate=0.5)
    assert check_rates(c, spiking_lca(c, 200)) is None
    c.spec.params["bias"] = c.spec.params["bias"] * 4  # drive past one spike per step
    assert "fired on every step" in check_rates(c, spiking_lca(c, 200))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"weight_bits": 1}, "--weight-bits = 1 is out of range; allowed 2..16"),
    ({"weight_bits": 17}, "--weight-bits = 17 is out of range; allowed 2..16"),
    ({"rate": 0.9}, "--rate = 0.9 is out of range"),
    ({"weight_bits": 3}, "--weight-bits = 3 leaves a threshold of 3 codes; use more weight bits"),
    ({"lanes": 5}, "48 neurons do not fit 5 lanes"),
    ({"target_gap": 0.0}, "--target-gap = 0.0 must be a number above 0"),
    ({"weight_exponent": 17}, "--weight-exponent = 17 is out of range; allowed 0..16"),
])
def test_compile_errors(kwargs, message):
    problem = lasso.random_problem(16, 24, 3, lam=0.1, seed=2)
    with pytest.raises(LapicqueError, match=message.replace("(", r"\(")):
        compile_problem(problem, **kwargs)
