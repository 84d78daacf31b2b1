import math

import numpy as np
import pytest

from lapicque.errors import SpecError
from lapicque.golden import ArrayModel
from lapicque.spec import ArraySpec, Widths
from lapicque.units import PhysicalLIF, from_codes, lif_dc_voltage, lif_first_spike_ms, to_codes

NEURON = PhysicalLIF(tau_m_ms=20.0, r_mohm=100.0, i_bias_na=0.2, refractory_ms=1.0, dt_ms=0.1)


def test_codes_realise_the_request_within_the_reported_error():
    m = to_codes(NEURON, lsb_mv=0.01)
    # leak = round(4096 (1 - exp(-0.1/20))) = round(20.43) = 20
    assert m.codes["leak"] == 20
    assert m.codes["theta_hi"] == 1500 and m.codes["v_reset"] == 0 and m.codes["refractory"] == 10
    realised_tau = -0.1 / math.log1p(-20 / 4096)
    assert m.realised["tau_m_ms"] == pytest.approx(realised_tau, rel=1e-12)
    assert m.errors["tau_m_ms"] == pytest.approx((realised_tau - 20.0) / 20.0, rel=1e-12)
    # rounding the leak code by at most half a code bounds the tau error: 0.5 / 20.43 ~ 2.5 %
    assert abs(m.errors["tau_m_ms"]) < 0.5 / 20.0
    name, worst = m.worst
    assert abs(worst) == max(abs(e) for e in m.errors.values())


def test_round_trip_of_codes():
    m = to_codes(NEURON, lsb_mv=0.01)
    back = from_codes(m.codes, 0.01, NEURON.dt_ms, NEURON.r_mohm, NEURON.e_l_mv)
    assert back == m.realised


@pytest.mark.parametrize(("neuron", "lsb", "message"), [
    (PhysicalLIF(tau_m_ms=-1.0), 0.01, "tau_m_ms = -1.0 must be a positive number"),
    (PhysicalLIF(v_th_mv=-70.0), 0.01, "v_th_mv = -70.0 must be above e_l_mv = -65.0"),
    (PhysicalLIF(refractory_ms=2.0, dt_ms=0.1), 0.01, "refractory of 20 steps does not fit widths.refractory = 4"),
    (PhysicalLIF(tau_m_ms=1e6, refractory_ms=0.0), 0.01, "tau_m_ms = 1000000.0 is too long for dt_ms = 0.1"),
    (PhysicalLIF(refractory_ms=0.0), 1e-4, "theta_hi = 150000 codes does not fit 16 bits"),
])
def test_impossible_mappings_say_why(neuron, lsb, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_codes(neuron, lsb_mv=lsb)


def test_float_model_follows_the_analytic_lif_under_dc():
    """V(t) = E_L + R I (1 - exp(-t/tau)) to 1e-9 relative over 500 ms at dt = 0.1 ms."""
    neuron = PhysicalLIF(i_bias_na=0.14, v_th_mv=0.0, dt_ms=0.1)  # threshold never reached
    spec = ArraySpec(1, widths=Widths(v=32, i=32, bias=32))
    model = ArrayModel(spec, fixed=False, params=neuron.float_params(lsb_mv=1.0))
    steps = 5000
    v = np.array([model.step([0]).state.v[0] for _ in range(steps)]) + neuron.e_l_mv
    t = np.arange(1, steps + 1) * neuron.dt_ms
    exact = lif_dc_voltage(t, neuron)
    assert np.max(np.abs(v - exact) / np.abs(exact)) < 1e-9


def test_float_model_first_spike_matches_the_analytic_time():
    neuron = PhysicalLIF(i_bias_na=0.2, dt_ms=0.1)
    t_star = lif_first_spike_ms(neuron)  # 27.726 ms
    spec = ArraySpec(1, widths=Widths(v=32, i=32, bias=32))
    model = ArrayModel(spec, fixed=False, params=neuron.float_params(lsb_mv=1.0))
    first = next(k for k in range(1, 10_000) if model.step([0]).spike[0])
    # the crossing happens inside step ceil(t*/dt); the model sees it at the end of that step
    assert first == math.ceil(t_star / neuron.dt_ms)


def _first_spike_step(neuron: PhysicalLIF, lsb_mv: float) -> float:
    return lif_first_spike_ms(neuron) / neuron.dt_ms


@pytest.mark.parametrize(("rounding", "low", "high"), [("floor", 0, 1), ("toward_zero", -1, 1)])
def test_fixed_model_first_spike_is_bracketed_by_its_rounding(rounding, low, high):
    """A floor-rounded leak loses between 0 and 1 code less per step than the exact leak, a toward-zero one
    up to 1 code either way (toward rest), so the fixed membrane lies between LIFs driven by bias + low and
    bias + high codes (the map v -> v(1-a) + b is monotone): its first spike is bracketed by their analytic
    spike steps."""
    neuron = PhysicalLIF(i_bias_na=0.2, refractory_ms=1.0, dt_ms=0.1)
    lsb = 0.01
    m = to_codes(neuron, lsb_mv=lsb)
    model = ArrayModel(ArraySpec(1, params=m.codes, rounding=rounding))
    first = next(k for k in range(1, 10_000) if model.step([0]).spike[0])
    a = m.codes["leak"] / 4096

    def lif_with_bias(codes):
        return PhysicalLIF(tau_m_ms=m.realised["tau_m_ms"], i_bias_na=codes * lsb / (a * neuron.r_mohm),
                           v_th_mv=m.realised["v_th_mv"], dt_ms=neuron.dt_ms)

    earliest = math.ceil(_first_spike_step(lif_with_bias(m.codes["bias"] + high), lsb))
    latest = math.ceil(_first_spike_step(lif_with_bias(m.codes["bias"] + low), lsb))
    assert earliest <= first <= latest
    assert earliest < latest  # the bracket is not empty: the rounding matters here
    # and the float model of the same codes hits the realised neuron's analytic step exactly
    flt = ArrayModel(ArraySpec(1, params=m.codes), fixed=False)
    exact = next(k for k in range(1, 10_000) if flt.step([0]).spike[0])
    assert exact == math.ceil(_first_spike_step(lif_with_bias(m.codes["bias"]), lsb))
