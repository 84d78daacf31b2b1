"""Inputs against their definitions: shapes, OU moments and correlation, Poisson counts, spectra."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden import inputs


def test_step_ramp_sinusoid_by_hand():
    s = inputs.step(100.0, 10.0, 1.0, onset=2.0, offset=5.0, neurons=2)
    assert s.shape == (10, 2) and s[:, 0].tolist() == [0, 0, 100, 100, 100, 0, 0, 0, 0, 0]
    r = inputs.ramp(0.0, 9.0, 10.0, 1.0)
    assert r[:, 0].tolist() == list(range(10))
    w = inputs.sinusoid(1.0, 2.0, 250.0, 4.0, 1.0)  # a quarter period per ms: 1, 3, 1, -1
    assert np.allclose(w[:, 0], [1.0, 3.0, 1.0, -1.0])


def test_ornstein_uhlenbeck_has_its_stationary_moments_and_correlation():
    mean, sigma, tau, dt = 5.0, 2.0, 10.0, 0.5
    x = inputs.ornstein_uhlenbeck(mean, sigma, tau, 20_000.0, dt, neurons=20, seed=1)
    # 40,000 samples per neuron, about 2 tau / dt = 40 correlated: ~1000 independent each, 20,000 in all
    assert x.mean() == pytest.approx(mean, abs=4 * sigma / np.sqrt(20_000))
    assert x.std() == pytest.approx(sigma, rel=0.03)
    lag = int(tau / dt)
    c = np.mean((x[:-lag] - mean) * (x[lag:] - mean)) / x.var()
    assert c == pytest.approx(np.exp(-1.0), abs=0.03)  # autocorrelation e^{-|t|/tau} at t = tau


def test_poisson_counts_have_mean_and_variance_equal():
    counts = inputs.poisson_spikes([10.0, 50.0], 100_000.0, 1.0, neurons=2, seed=3)
    for k, rate in enumerate((10.0, 50.0)):
        expected = rate * 100.0  # spikes in 100 s
        assert counts[:, k].sum() == pytest.approx(expected, abs=4 * np.sqrt(expected))
    per_step = counts[:, 1]
    assert per_step.var() == pytest.approx(per_step.mean(), rel=0.03)


def test_poisson_spectrum_is_flat_at_the_rate():
    counts = inputs.poisson_spikes(40.0, 200_000.0, 1.0, seed=5)[:, 0]
    times = np.repeat(np.arange(len(counts)) + 0.5, counts)
    freqs, power = inputs.spike_train_spectrum(times, 200_000.0, 1.0)
    assert np.mean(power[freqs > 5]) == pytest.approx(40.0, rel=0.03)


def test_white_noise_integrates_to_sigma_sqrt_dt():
    x = inputs.white_noise(0.0, 3.0, 10_000.0, 0.1, neurons=10, seed=2)
    assert (x * 0.1).std() == pytest.approx(3.0 * np.sqrt(0.1), rel=0.02)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: inputs.step(1.0, -1.0, 0.1), "must be positive numbers"),
    (lambda: inputs.ornstein_uhlenbeck(0, 1, 0.0, 10.0, 0.1), "tau = 0.0 ms must be positive"),
    (lambda: inputs.poisson_spikes(-1.0, 10.0, 0.1), "rates must be non-negative"),
])
def test_bad_input(call, message):
    with pytest.raises(LapicqueError, match=message):
        call()
