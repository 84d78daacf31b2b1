"""GIF fitting: recovery of known parameters within the data's own standard errors, and its parts."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_score

from lapicque.errors import LapicqueError
from lapicque.golden import gif
from lapicque.golden.inputs import ornstein_uhlenbeck
from lapicque.units import to_codes

DT = 0.1


def drive(seconds, seed):
    return 250.0 + ornstein_uhlenbeck(0.0, 150.0, 3.0, seconds * 1000.0, DT, seed=seed)[:, 0]


def binned_truth(eta=(30, 25, 20, 15, 6, 1.0), gamma=(5, 4, 3, 2, 0.5, 0.1)):
    edges = gif.bins_ms(6, 300.0, 4.0)
    return gif.BinnedTruth(100.0, 5.0, -70.0, -55.0, 4.0, -50.0, 1.0, (), (), edges, np.array(eta, float), edges,
                           np.array(gamma, float))


def fitted(truth, seconds=40, noise=0.0, seed=0, bins=6):
    current = drive(seconds, seed + 10)
    voltage, spikes = gif.simulate(truth, current, DT, seed=seed, noise_pa=noise)
    model = gif.GIF(dt=DT, eta_bins=bins, eta_ms=300.0, gamma_bins=bins, gamma_ms=300.0).fit(current, voltage)
    return model, spikes


def test_regression_matches_a_direct_least_squares_solve():
    rng = np.random.default_rng(0)
    design = np.column_stack([rng.normal(-60, 5, 5000), rng.normal(200, 100, 5000), np.ones(5000),
                              rng.poisson(0.3, (5000, 4))])
    target = design @ np.array([-0.05, 0.01, -3.5, 0.2, -0.1, 0.05, 0.3]) + rng.normal(0, 0.5, 5000)
    assert gif.regression(design, target) == pytest.approx(np.linalg.lstsq(design, target, rcond=None)[0],
                                                           rel=1e-9, abs=1e-12)


def test_noise_free_data_gives_the_parameters_back_exactly():
    """Forward-Euler data in the fit's own kernel basis: the regression is exact."""
    truth = binned_truth()
    model, _ = fitted(truth, seconds=20)
    assert model.C_ == pytest.approx(truth.C, rel=1e-8)
    assert model.g_L_ == pytest.approx(truth.g_L, rel=1e-8)
    assert model.E_L_ == pytest.approx(truth.E_L, rel=1e-8)
    assert model.V_reset_ == pytest.approx(truth.V_reset, abs=1e-12)
    assert model.eta_ == pytest.approx(truth.eta_values, rel=1e-6)
    assert model.dvdt_variance_explained_ == pytest.approx(1.0, abs=1e-9)


def test_noisy_data_recovers_every_parameter_within_four_standard_errors():
    truth = binned_truth()
    model, spikes = fitted(truth, seconds=25, noise=50.0, seed=1)
    assert len(spikes) > 900
    se = model.stderr_
    for name, true in (("C", truth.C), ("g_L", truth.g_L), ("E_L", truth.E_L), ("V_T", truth.V_T),
                       ("Delta_V", truth.Delta_V)):
        assert abs(getattr(model, f"{name}_") - true) < 4 * se[name], name
    assert np.all(np.abs(model.eta_ - truth.eta_values) < 4 * se["eta"])
    assert np.all(np.abs(model.gamma_ - truth.gamma_values) < 4 * se["gamma"])
    # the errors are the data's: twice the recording, about 1/sqrt(2) of the error
    longer, _ = fitted(truth, seconds=50, noise=50.0, seed=1)
    assert longer.stderr_["g_L"] == pytest.approx(se["g_L"] / np.sqrt(2), rel=0.25)


def test_fitting_a_lif_to_a_lif_gives_the_lif_back():
    lif = gif.Truth(eta=(), gamma=())
    model, _ = fitted(lif, seconds=30, noise=50.0, seed=2)
    se = model.stderr_
    assert np.all(np.abs(model.eta_) < 4 * se["eta"])  # no spike-triggered current where there is none
    assert np.all(np.abs(model.gamma_) < 4 * se["gamma"])
    plain, _ = fitted(lif, seconds=30, noise=50.0, seed=2, bins=0)
    for name, true in (("C", lif.C), ("g_L", lif.g_L), ("E_L", lif.E_L), ("V_T", lif.V_T),
                       ("Delta_V", lif.Delta_V)):
        assert abs(getattr(plain, f"{name}_") - true) < 4 * plain.stderr_[name], name
    assert len(plain.eta_) == 0 and len(plain.gamma_) == 0


def test_escape_glm_recovers_a_constant_hazard():
    rng = np.random.default_rng(5)
    v = rng.uniform(-60, -45, 200000)
    rate = np.exp((v + 50.0) / 2.0)  # Delta_V 2 mV, V_T -50 mV, lambda_0 1 / ms
    spikes = (rng.random(len(v)) < -np.expm1(-rate * DT)).astype(float)
    b, hessian = gif.escape_glm(np.column_stack([np.ones(len(v)), v]), spikes, DT)
    se = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    assert abs(b[1] - 0.5) < 4 * se[1] and abs(b[0] - 25.0) < 4 * se[0]


def test_coincidence_factor_limits():
    rng = np.random.default_rng(0)
    train = np.sort(rng.uniform(0, 10000, 200))
    assert gif.coincidence_factor(train, train, 10000) == pytest.approx(1.0, rel=1e-12)
    chance = [gif.coincidence_factor(train, np.sort(rng.uniform(0, 10000, 200)), 10000) for _ in range(200)]
    assert abs(np.mean(chance)) < 0.05
    assert gif.coincidence_factor(train, train + 3.0, 10000) > 0.99  # within the 4 ms window
    assert gif.coincidence_factor(train, train + 3.0, 10000, window_ms=2.0) < 0.05  # outside +-2 ms


def test_score_takes_the_coincidence_window():
    model, _ = fitted(binned_truth(), seconds=20)
    current = drive(5, 7)
    voltage, _ = gif.simulate(binned_truth(), current, DT, seed=7)
    data = gif.detect_spikes(voltage) * DT
    by_hand = np.mean([gif.coincidence_factor(data, model.predict(current, seed=model.seed + k)[1], 5000.0, 2.0)
                       for k in range(model.repeats)])
    assert model.score(current, voltage, window_ms=2.0) == pytest.approx(by_hand, rel=1e-12)
    assert model.score(current, voltage, window_ms=2.0) < model.score(current, voltage)  # fewer coincidences


def test_scikit_learn_conventions_and_model_selection():
    model = gif.GIF(eta_bins=3, gamma_bins=3, repeats=2)
    assert model.get_params()["eta_bins"] == 3
    assert clone(model.set_params(eta_bins=4)).get_params()["eta_bins"] == 4
    truth = binned_truth()
    current = drive(30, 3)
    voltage, _ = gif.simulate(truth, current, DT, seed=3, noise_pa=50.0)
    scores = cross_val_score(gif.GIF(eta_bins=6, eta_ms=300.0, gamma_bins=6, gamma_ms=300.0, repeats=2),
                             current, voltage, cv=KFold(3))
    assert len(scores) == 3 and np.all((scores > 0.4) & (scores < 1.0))


def test_predict_and_score_check_their_input():
    truth = binned_truth()
    model, _ = fitted(truth, seconds=10)
    with pytest.raises(LapicqueError, match="dt = 0.2 ms does not match the model's dt = 0.1 ms"):
        model.predict(drive(1, 0), dt=0.2)
    with pytest.raises(LapicqueError, match="current and voltage differ in shape"):
        gif.GIF().fit(np.zeros(100), np.zeros(99))
    with pytest.raises(LapicqueError, match="the voltage contains NaN"):
        gif.GIF().fit(np.zeros(3), np.array([0.0, np.nan, 1.0]))
    with pytest.raises(LapicqueError, match="the model is not fitted yet"):
        gif.GIF().predict(np.zeros(10))
    v, spikes_ms = model.predict(drive(2, 4))
    assert len(v) == 20000 and len(spikes_ms) > 20 and np.all(np.diff(spikes_ms) >= 4.0)


def test_export_to_the_array_shows_its_quantisation_error():
    model, _ = fitted(binned_truth(), seconds=10)
    neuron = model.to_physical_lif()
    assert neuron.tau_m_ms == pytest.approx(20.0, rel=1e-6) and neuron.v_th_mv == pytest.approx(model.V_T_)
    from lapicque.spec import Widths

    mapping = to_codes(neuron, widths=Widths(refractory=6))
    assert mapping.codes["refractory"] == 40
    assert abs(mapping.errors["tau_m_ms"]) < 0.05 and abs(mapping.errors["v_th_mv"]) < 1e-3
