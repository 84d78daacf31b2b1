"""The integrate-and-fire family against theory: exact solutions, closed-form f-I curves, convergence orders."""

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.golden.models import (
    EIF,
    LIF,
    MODELS,
    QIF,
    AdEx,
    FitzHughNagumo,
    HodgkinHuxley,
    Izhikevich,
    PerfectIF,
    QIFAdaptation,
    fi_curve,
    get_model,
    lif_rate,
    qif_rate,
    rheobase,
    simulate,
)


def test_lif_under_dc_matches_the_analytic_voltage_over_500_ms():
    # V_inf = E_L + tau_m / C * I = -70 + 10 / 250 * 300 = -58 mV, below threshold:
    # V(t) = V_inf + (E_L - V_inf) exp(-t / tau)
    result = simulate(LIF(), 300.0, 500.0, 0.1, neurons=1)
    analytic = -58.0 + (-70.0 + 58.0) * np.exp(-result.t / 10.0)
    assert np.max(np.abs(result.trace[:, 0, 0] - analytic) / np.abs(analytic)) < 1e-9
    assert result.spike_times.size == 0


def test_lif_first_spike_and_every_interval_are_exact():
    # V_inf = -50 mV: the first crossing of -55 from -70 is at t* = -tau ln(1 - 15 / 20) = tau ln 4
    result = simulate(LIF(), 500.0, 500.0, 0.1, neurons=1)
    t_star = 10.0 * np.log(4.0)
    assert abs(result.spike_times[0] - t_star) / t_star < 1e-9
    # reset to E_L and 2 ms refractory: every interval is t_ref + t*
    assert np.allclose(np.diff(result.spike_times), 2.0 + t_star, rtol=1e-9, atol=0)


def test_lif_spike_times_do_not_depend_on_the_step():
    a = simulate(LIF(), 650.0, 200.0, 0.1, neurons=1).spike_times
    b = simulate(LIF(), 650.0, 200.0, 0.8, neurons=1).spike_times[: len(a)]
    assert len(a) > 5 and np.allclose(a[: len(b)], b, rtol=1e-9, atol=1e-9)


def test_perfect_if_by_hand():
    # C = 250 pF, I = 100 pA: 0.4 mV/ms, threshold 15 mV: 37.5 ms, then 2 ms refractory each time
    result = simulate(PerfectIF(), 100.0, 200.0, 0.1, neurons=1)
    assert np.allclose(result.spike_times[:3], [37.5, 77.0, 116.5], rtol=1e-12)


def test_lif_fi_curve_matches_the_closed_form():
    currents = np.linspace(0.0, 1000.0, 11)
    rates = fi_curve(LIF(), currents, duration=1000.0, dt=0.1)
    expected = lif_rate(currents)
    assert np.allclose(rates, expected, rtol=1e-9, atol=1e-9)
    assert rheobase(rates, currents) == 400.0  # C (v_th - E_L) / tau_m = 375 pA: the first grid point above
    # at high rates the curve grows linearly (slope -> 1 / (tau ln) ... -> C / (tau (v_th - v_reset)) per pA)
    high = lif_rate(np.array([1e6, 2e6]), t_ref=0.0)
    assert high[1] - high[0] == pytest.approx(1e6 * 1000 / (250.0 * 15.0), rel=1e-3)


def test_qif_fi_curve_converges_to_the_closed_form_at_second_order():
    # spike times are interpolated linearly inside the step: the rate error falls as dt^2
    currents = np.array([50.0, 200.0])
    expected = qif_rate(currents)
    errors = [np.max(np.abs(fi_curve(QIF(), currents, 600.0, dt, transient=100.0) / expected - 1))
              for dt in (0.04, 0.02)]
    assert errors[1] < 2e-3
    assert np.log2(errors[0] / errors[1]) > 1.5


def _final_state(model, current, duration, dt):
    return simulate(model, current, duration, dt, neurons=1).trace[-1, :, 0]


@pytest.mark.parametrize(("model", "current", "duration", "dt"), [
    (QIF(), 50.0, 10.0, 0.2), (QIFAdaptation(), 50.0, 10.0, 0.2), (EIF(), 300.0, 10.0, 0.2),
    (AdEx(), 300.0, 10.0, 0.2), (Izhikevich(), 5.0, 2.0, 0.2), (FitzHughNagumo(), 0.5, 20.0, 0.2),
    (HodgkinHuxley(), 10.0, 2.0, 0.05),  # its upstroke is stiff: the asymptotic range starts at smaller steps
])
def test_rk4_models_converge_at_fourth_order(model, current, duration, dt):
    """Before any reset the trajectory is smooth: halving dt cuts the error 16-fold."""
    reference = _final_state(model, current, duration, dt / 64)
    errors = [np.max(np.abs(_final_state(model, current, duration, h) - reference)) for h in (dt, dt / 2, dt / 4)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 3.7) and np.all(orders < 4.5), orders


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_fires_under_enough_drive_and_rests_without(name):
    model = get_model(name)
    drive = {"izhikevich": 10.0, "fitzhugh-nagumo": 0.5, "hodgkin-huxley": 10.0}.get(name, 800.0)
    assert simulate(model, drive, 300.0, 0.05, neurons=1).spike_times.size >= 2
    rest = simulate(get_model(name), 0.0, 300.0, 0.05, neurons=1)
    assert rest.spike_times.size == 0


def test_adex_adapts():
    spikes = simulate(AdEx(), 800.0, 1000.0, 0.05, neurons=1).spike_times
    isi = np.diff(spikes)
    # spike-triggered adaptation (b = 80.5 pA per spike) lengthens the intervals until w settles
    assert np.all(np.diff(isi[:5]) > 0) and isi[-1] > isi[0]
    tonic = simulate(AdEx(b=0.0, a=0.0), 800.0, 1000.0, 0.05, neurons=1).spike_times
    assert np.ptp(np.diff(tonic)) < 0.05 * np.diff(tonic).mean() < isi[-1]  # without it: regular and faster


def test_vectorised_neurons_are_independent():
    currents = np.array([0.0, 500.0, 800.0])
    together = simulate(EIF(), currents, 200.0, 0.05)
    for n, current in enumerate(currents):
        alone = simulate(EIF(), current, 200.0, 0.05, neurons=1)
        assert np.array_equal(together.spikes_of(n), alone.spike_times)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: get_model("hh"), "unknown model 'hh'"),
    (lambda: LIF(tau=3.0), "lif: unknown parameter 'tau'"),
    (lambda: simulate(LIF(), 1.0, 10.0, 0.0), "dt = 0.0 ms must be a positive number"),
    (lambda: simulate(LIF(), 1.0, 10.05, 0.1), "not a whole number of dt"),
])
def test_bad_input(call, message):
    with pytest.raises(LapicqueError, match=message):
        call()


def test_axon_hillock_rate_and_pulse_width_come_from_the_circuit():
    from lapicque.golden.models import AxonHillock, axon_hillock_rate

    model = AxonHillock()
    currents = np.array([200.0, 500.0, 1000.0, 1500.0])
    rates = fi_curve(model, currents, duration=1000.0, dt=0.1)
    assert np.allclose(rates, axon_hillock_rate(currents, **model.p), rtol=1e-9)
    # C = 1.25 pF, kick = 3300 * 0.25 / 1.25 = 660 mV: pulse = C kick / (I_r - I) = 825 / 1500 ms at I = 500 pA
    result = simulate(AxonHillock(), 500.0, 50.0, 0.001, neurons=1)
    high = result.trace[1:, 1, 0]
    starts = np.flatnonzero(np.diff(high) > 0)
    ends = np.flatnonzero(np.diff(high) < 0)
    widths = (ends[: len(starts) - 1] - starts[: len(ends)][: len(starts) - 1]) * 0.001
    assert np.allclose(widths, 825 / 1500, atol=0.0011)
    # the feedback kick makes the hysteresis: V spans v_sw - kick .. v_sw + kick
    assert result.trace[:, 0, 0].min() >= 1650 - 660 - 1e-9 and result.trace[:, 0, 0].max() <= 1650 + 660 + 1e-9


def test_floating_gate_lif_leaks_linearly_to_rest_and_fires_at_its_rate():
    from lapicque.golden.models import FloatingGateLIF, floating_gate_rate

    model = FloatingGateLIF()
    currents = np.array([50.0, 150.0, 400.0, 1000.0])
    assert np.allclose(fi_curve(model, currents, 1000.0, 0.1), floating_gate_rate(currents, **model.p), rtol=1e-9)
    # from -80 mV with no input the 100 pA leak climbs 0.4 mV/ms: rest after 25 ms, then it stays
    start = np.array([[-80.0], [0.0]])
    trace = simulate(FloatingGateLIF(), 0.0, 40.0, 0.1, neurons=1, state=start).trace[:, 0, 0]
    t = np.arange(len(trace)) * 0.1
    assert np.allclose(trace, np.minimum(-80.0 + 0.4 * t, -70.0), atol=1e-9)


def test_conductance_lif_has_the_high_conductance_time_constant_and_rest():
    from lapicque.golden.models import ConductanceLIF

    # g_tot = 16.7 + 10 + 30 = 56.7 nS: tau_eff = 250 / 56.7 ms, E_eff = (16.7 * -70 + 30 * -80) / 56.7 mV
    tau, rest = 250.0 / 56.7, (16.7 * -70.0 + 30.0 * -80.0) / 56.7
    start = np.array([[-70.0]])  # at the leak's own reversal: the bombardment pulls it to E_eff
    result = simulate(ConductanceLIF(), 0.0, 30.0, 0.1, neurons=1, state=start)
    assert np.allclose(result.trace[:, 0, 0], rest + (-70.0 - rest) * np.exp(-result.t / tau), rtol=1e-12)
    # and its f-I curve is the LIF's with those effective values (R = 1 / g_tot)
    currents = np.array([500.0, 1000.0, 2000.0])
    expected = lif_rate(currents, c_m=250.0, tau_m=tau, e_l=rest, v_th=-55.0, v_reset=-70.0, t_ref=2.0)
    assert np.allclose(fi_curve(ConductanceLIF(), currents, 1000.0, 0.1), expected, rtol=1e-9)


def _fires(model, current, duration=2000.0, dt=0.05):
    """Whether the model keeps firing under a constant current: spikes after the first half only (a step
    of current from rest may cause an onset spike even below rheobase, which then dies out).

    A list of currents runs as one population (one neuron each, in one simulation) and gives a list."""
    currents = np.atleast_1d(np.asarray(current, dtype=np.float64))
    result = simulate(model, currents, duration, dt, neurons=len(currents))
    late = result.spike_times > duration / 2
    fired = [bool(np.any(late & (result.spike_neurons == k))) for k in range(len(currents))]
    return fired if np.ndim(current) else fired[0]


@pytest.mark.parametrize(("model", "rheobase"), [
    # EIF saddle-node: I_rh = g_L (V_T - E_L - Delta_T) = 30 (-50.4 + 70.6 - 2) = 546 pA
    (EIF(), 30.0 * (-50.4 + 70.6 - 2.0)),
    # AdEx with w at its steady state a (V - E_L): I_rh = (g_L + a)(V* - E_L - Delta_T),
    # V* = V_T + Delta_T ln((g_L + a) / g_L)
    (AdEx(), 34.0 * (-50.4 + 2.0 * np.log(34.0 / 30.0) + 70.6 - 2.0)),
    # QIF with adaptation, u = b (v - v_r): k x^2 - (k (v_t - v_r) + b) x + I = 0, I_rh = (k dv + b)^2 / (4 k)
    (QIFAdaptation(), (0.7 * 20.0 - 2.0) ** 2 / (4 * 0.7)),
])
def test_rheobase_is_the_saddle_node_of_the_equations(model, rheobase):
    assert _fires(model, [0.98 * rheobase, 1.02 * rheobase]) == [False, True]


def test_izhikevich_rest_disappears_at_the_saddle_node():
    # u = b v at rest: 0.04 v^2 + (5 - b) v + 140 + I = 0 has a double root at I_rh = (5 - b)^2 / 0.16 - 140 = 4.
    # Its reset makes a limit cycle that coexists with the rest just below I_rh (a step from rest may fire
    # for ever), so the test starts on the stable equilibrium: below I_rh it stays, above there is none.
    rheobase = 4.8**2 / 0.16 - 140.0
    below = 0.98 * rheobase
    v_rest = (-4.8 - np.sqrt(4.8**2 - 0.16 * (140.0 + below))) / 0.08
    # neuron 0 starts on the equilibrium below rheobase, neuron 1 from the model's rest above it
    start = np.column_stack([[v_rest, 0.2 * v_rest], Izhikevich().initial(1)[:, 0]])
    both = simulate(Izhikevich(), np.array([below, 1.02 * rheobase]), 2000.0, 0.05, neurons=2, state=start)
    assert both.spikes_of(0).size == 0 and abs(both.trace[-1, 0, 0] - v_rest) < 1e-6
    assert np.any(both.spikes_of(1) > 1000.0)


def test_fitzhugh_nagumo_starts_oscillating_at_its_hopf_point():
    # the fixed point loses stability where the Jacobian's trace 1 - v*^2 - b / tau vanishes:
    # v* = -sqrt(1 - 0.8 / 12.5), I_H = (v* + a) / b - v* + v*^3 / 3 = 0.3312
    v = -np.sqrt(1 - 0.8 / 12.5)
    hopf = (v + 0.7) / 0.8 - v + v**3 / 3
    assert hopf == pytest.approx(0.3312, abs=1e-4)
    assert _fires(FitzHughNagumo(), [hopf - 0.02, hopf + 0.02], duration=3000.0) == [False, True]


def test_hodgkin_huxley_rests_at_minus_65_mv():
    # E_L = -54.387 mV is chosen so that the currents balance at -65 mV with the gates at steady state
    trace = simulate(HodgkinHuxley(), 0.0, 200.0, 0.025, neurons=1).trace[:, 0, 0]
    assert np.max(np.abs(trace + 65.0)) < 0.01
