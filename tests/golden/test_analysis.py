"""The Siegert rate against its limits and against simulated noisy LIFs."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden.analysis import cv, noisy_lif, siegert_rate
from lapicque.golden.models import lif_rate


def test_siegert_tends_to_the_deterministic_rate_as_noise_vanishes():
    # mu = 25 mV above theta = 20: 1 / (t_ref + tau ln((mu - v_reset) / (mu - theta))) = 1 / (2 + 10 ln 3) ms
    assert siegert_rate(25.0, 1e-3) == pytest.approx(1000.0 / (2.0 + 10.0 * np.log(3.0)), rel=1e-6)
    # the same as the model zoo's LIF rate with matching parameters (E_L = 0, R I = mu)
    expected = lif_rate(25.0 * 250.0 / 10.0, c_m=250.0, tau_m=10.0, e_l=0.0, v_th=20.0, v_reset=10.0, t_ref=2.0)
    assert siegert_rate(25.0, 1e-3) == pytest.approx(float(expected), rel=1e-6)


def test_siegert_is_stable_far_from_threshold():
    assert siegert_rate(-200.0, 1.0) == 0.0  # the integrand would overflow: the rate is 0 to every digit
    deep = siegert_rate(np.array([-5.0, 0.0, 5.0]), 2.0)
    assert np.all(np.isfinite(deep)) and np.all(np.diff(deep) > 0) and deep[0] > 0
    # strongly suprathreshold: the lower bound is very negative, erfcx keeps it finite and exact
    assert siegert_rate(1000.0, 1.0) == pytest.approx(1000.0 / (2.0 + 10.0 * np.log(990.0 / 980.0)), rel=1e-4)


def test_siegert_matches_simulated_noisy_lifs_within_statistical_error():
    """A threshold checked on a grid misses crossings between samples: the simulated rate is low by a
    term proportional to sqrt(dt) (Brunel and Hakim 1999). Two step sizes extrapolate it away; the
    extrapolated rate must agree with Siegert within three standard errors."""
    mu, sigma, seconds, neurons = 15.0, 5.0, 2.0, 1000
    rates, errors = [], []
    for dt in (0.1, 0.025):
        counts, intervals = noisy_lif(mu, sigma, dt=dt, duration=seconds * 1000, neurons=neurons, seed=2)
        rates.append(counts.mean() / seconds)
        errors.append(counts.std() / np.sqrt(neurons) / seconds)
    h1, h2 = np.sqrt(0.1), np.sqrt(0.025)
    extrapolated = (rates[1] * h1 - rates[0] * h2) / (h1 - h2)
    error = np.hypot(errors[1] * h1 / (h1 - h2), errors[0] * h2 / (h1 - h2))
    expected = siegert_rate(mu, sigma)
    assert abs(extrapolated - expected) < 3 * error
    assert expected - rates[1] > 3 * errors[1]  # the grid bias is real: the raw rate alone would fail
    assert 0.7 < cv(intervals) < 0.9  # noise-driven, close to Poisson but with a refractory period


def test_bad_sigma():
    with pytest.raises(LapicqueError, match="sigma must be positive"):
        siegert_rate(10.0, 0.0)


def test_linear_response_tends_to_the_slope_of_the_siegert_rate():
    from lapicque.golden.analysis import lif_linear_response

    h = 1e-3
    slope = (siegert_rate(15.0 + h, 5.0) - siegert_rate(15.0 - h, 5.0)) / (2 * h)
    assert lif_linear_response(1e-5, 15.0, 5.0) == pytest.approx(slope, rel=1e-6)
    fast = lif_linear_response(100.0, 15.0, 5.0)
    assert abs(fast) < abs(lif_linear_response(10.0, 15.0, 5.0)) < slope and np.angle(fast) < 0  # low-pass, lagging


def test_linear_response_matches_a_modulated_population_within_statistical_error():
    """8000 noisy LIFs, mean input 15 + cos(2 pi 10 Hz t) mV: the rate's component at 10 Hz against chi.
    Two step sizes extrapolate the sqrt(dt) grid bias away (as for the Siegert rate). Each component
    of a projection of Poisson-like counts has standard deviation sqrt(2 r0 / (N T)) / eps; the
    extrapolation multiplies it by sqrt(2^2 + 1^2); the test allows three of those per component."""
    from lapicque.golden.analysis import lif_linear_response, rate_modulation

    f, neurons, seconds = 10.0, 8000, 0.8
    (r_coarse, z_coarse), (r_fine, z_fine) = (rate_modulation(f, 15.0, 5.0, dt=dt, neurons=neurons, seed=1)
                                              for dt in (0.08, 0.02))
    h1, h2 = np.sqrt(0.08), np.sqrt(0.02)
    z = (z_fine * h1 - z_coarse * h2) / (h1 - h2)
    sigma = np.sqrt(2 * r_fine / (neurons * seconds)) * np.hypot(h1, h2) / (h1 - h2)
    chi = lif_linear_response(f, 15.0, 5.0)
    assert abs(z.real - chi.real) < 3 * sigma and abs(z.imag - chi.imag) < 3 * sigma
    assert 3 * sigma < 0.1 * abs(chi)  # the check is tighter than the effect it measures
