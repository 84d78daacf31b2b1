"""The Fokker-Planck solver against Siegert's rate, its own conservation law and direct simulation."""

import math

import numpy as np
import pytest

from lapicque.golden import density as fp


def test_bernoulli_function_and_its_limit():
    x = np.array([-30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0])
    expected = [-30 / math.expm1(-30), -1 / math.expm1(-1), 1 + 5e-9, 1.0, 1 - 5e-9, 1 / math.expm1(1),
                30 / math.expm1(30)]
    assert fp.bernoulli(x) == pytest.approx(expected, rel=1e-12)
    # B(-x) = B(x) + x: the identity that makes the flux exact for constant drift
    assert fp.bernoulli(-x) == pytest.approx(fp.bernoulli(x) + x, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("mu", "sigma"), [(1.2, 0.5), (0.8, 0.3), (0.5, 0.5), (1.5, 0.1), (-0.5, 1.0)])
def test_stationary_rate_matches_siegert_and_converges_at_second_order(mu, sigma):
    pop = fp.Population(mu, sigma)
    errors = []
    for cells in (100, 200):
        _, rate = fp.stationary(pop, fp.make_grid(pop, cells))
        errors.append(abs(rate / pop.siegert_hz() - 1))
    assert errors[1] < 0.01 * 0.1  # well inside the 1 % asked
    assert 3.0 < errors[0] / errors[1] < 5.0  # halving h quarters the error


def test_mass_is_conserved_every_step_and_the_density_stays_non_negative():
    pop = fp.Population(1.2, 0.5, coupling=0.5)
    run = fp.evolve(pop, 50.0, 0.02)
    steps = np.abs(np.diff(np.concatenate([[1.0], run.mass])))
    assert steps.max() < 1e-10
    assert run.density.min() >= -1e-15
    assert all(p.min() >= -1e-15 for p in run.snapshots.values())


def test_transient_settles_on_the_self_consistent_stationary_rate():
    for coupling in (0.0, 0.5, -1.0):
        pop = fp.Population(1.2, 0.5, coupling)
        rate = fp.self_consistent_rate(pop)
        mu_eff = pop.mu + coupling * pop.tau_m * rate / 1000
        assert rate == pytest.approx(pop.siegert_hz(mu_eff), rel=1e-3)  # nu = Siegert(mu + J tau nu)
        run = fp.evolve(pop, 300.0, 0.05)
        assert run.blow_up is None
        assert run.rate_hz[-1] == pytest.approx(rate, rel=1e-4)
    assert fp.self_consistent_rate(fp.Population(1.2, 0.5, 0.5)) > fp.Population(1.2, 0.5).siegert_hz()
    assert fp.self_consistent_rate(fp.Population(1.2, 0.5, -1.0)) < fp.Population(1.2, 0.5).siegert_hz()


def test_strong_excitation_blows_up_and_is_reported_not_nan():
    pop = fp.Population(1.2, 0.5, coupling=1.5)
    assert fp.self_consistent_rate(pop) is None
    run = fp.evolve(pop, 200.0, 0.02)
    assert run.blow_up is not None and run.blow_up["time_ms"] < 50
    assert np.all(np.isfinite(run.rate_hz)) and np.all(np.isfinite(run.density))
    assert run.times_ms[-1] == pytest.approx(run.blow_up["time_ms"])


@pytest.mark.parametrize("coupling", [0.0, 0.2])
def test_transient_rate_agrees_with_10000_simulated_neurons(coupling):
    """The transient from a Gaussian at reset: spike counts in 1 ms bins against the density's rate,
    within Poisson error (chi^2 per bin near 1, no systematic offset)."""
    pop = fp.Population(1.2, 0.5, coupling)
    grid = fp.make_grid(pop, 200)
    run = fp.evolve(pop, 60.0, 0.02, grid)
    counts, _ = fp.monte_carlo(pop, 60.0, 0.02, 10000, seed=3, grid=grid)
    stats = fp.compare_rates(run.rate_hz, counts, 0.02, 10000)
    assert stats["bins"] > 45
    assert stats["chi2_per_bin"] < 1.6 and stats["max_abs_z"] < 4.5
    assert abs(stats["observed_spikes"] / stats["expected_spikes"] - 1) < 3 / math.sqrt(stats["expected_spikes"])


def test_bad_parameters_are_refused():
    with pytest.raises(fp.LapicqueError, match="--sigma = -0.5 must be positive"):
        fp.Population(1.0, -0.5).check()
    with pytest.raises(fp.LapicqueError, match="--mu = nan must be a finite number"):
        fp.Population(float("nan"), 0.5).check()
    with pytest.raises(fp.LapicqueError, match="at most tau_m / 10"):
        fp.evolve(fp.Population(1.0, 0.5), 10.0, 5.0)


def test_refractory_period_matches_siegert_and_conserves_mass_while_neurons_wait():
    pop = fp.Population(1.2, 0.5, coupling=0.5, t_ref=2.0)
    grid = fp.make_grid(pop, 200)
    free = fp.Population(1.2, 0.5, t_ref=2.0)
    p, rate = fp.stationary(free, grid)
    assert abs(rate / free.siegert_hz() - 1) < 1e-3  # Siegert with t_ref: 1/nu = t_ref + 1/r_0
    assert p.sum() * grid.h == pytest.approx(1 - rate / 1000 * 2.0, rel=1e-12)  # the rest is refractory
    run = fp.evolve(pop, 200.0, 0.02, grid)
    assert np.max(np.abs(np.diff(np.concatenate([[1.0], run.mass])))) < 1e-10
    assert run.rate_hz[-1] == pytest.approx(fp.self_consistent_rate(pop, grid), rel=1e-4)
    assert run.density.sum() * grid.h < 0.95  # some of the mass is waiting out its refractory period


def test_refractory_transient_agrees_with_10000_simulated_neurons():
    pop = fp.Population(1.2, 0.5, t_ref=2.0)
    grid = fp.make_grid(pop, 200)
    counts, _ = fp.monte_carlo(pop, 60.0, 0.02, 10000, seed=5, grid=grid)
    stats = fp.compare_rates(fp.evolve(pop, 60.0, 0.02, grid).rate_hz, counts, 0.02, 10000)
    assert stats["chi2_per_bin"] < 1.6 and stats["max_abs_z"] < 4.5
    assert abs(stats["observed_spikes"] / stats["expected_spikes"] - 1) < 3 / math.sqrt(stats["expected_spikes"])


def test_refractory_period_must_be_whole_steps():
    with pytest.raises(fp.LapicqueError, match="--t-ref = 0.05 ms must be a whole number of --dt = 0.02 ms steps"):
        fp.evolve(fp.Population(1.0, 0.5, t_ref=0.05), 10.0, 0.02)
    with pytest.raises(fp.LapicqueError, match="--t-ref = -1.0 ms must not be negative"):
        fp.Population(1.0, 0.5, t_ref=-1.0).check()
