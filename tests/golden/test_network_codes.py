"""CUBA in codes (golden/network_codes.py): the codes by hand, the float network on exactly the same synapses,
and the fixed network's statistics against the float one's."""

import math

import numpy as np
import pytest

from lapicque.golden.network import brunel, cuba, run
from lapicque.golden.network_codes import brunel_spec, cuba_spec
from lapicque.golden.network_model import NetworkModel, compile_network


def test_cubas_codes_by_hand():
    spec, mapping = cuba_spec(4000, seed=1)
    exc, inh = spec.populations["exc"], spec.populations["inh"]
    assert (exc.size, inh.size) == (3200, 800) and spec.channels == ("exc", "inh")
    lsb = 2.0**-14
    # leak round(4096 (1 - e^-0.005)) = round(20.43) = 20; decays round(81.08) = 81 and round(40.76) = 41
    assert exc.params["leak"][0] == 20 and exc.decay["exc"][0] == 81 and exc.decay["inh"][0] == 41
    # theta: -1 mV / lsb = -16384 exactly, v > that on integers is v >= -16383; reset -11 mV; 50 steps
    assert exc.params["theta_hi"][0] == -16383 and exc.params["v_reset"][0] == -11 * 16384
    assert exc.params["refractory"][0] == 50 and spec.widths.refractory == 6
    # w_e = 1.62 mV x P(0.1, 20, 5) / lsb: P = 5 / (5 - 20) (e^-0.02 - e^-0.005)
    p_e = 5 / -15 * (math.exp(-0.02) - math.exp(-0.005))
    p_i = 10 / -10 * (math.exp(-0.01) - math.exp(-0.005))
    assert int(spec.projections["ee"].weight) == round(1.62 * p_e / lsb) == 131
    assert int(spec.projections["ie"].weight) == round(-9 * p_i / lsb) == -732
    assert spec.widths.w == 11  # -732 needs 10 bits and a sign
    assert mapping["tau_m_ms"]["realised"] == pytest.approx(-0.1 / math.log1p(-20 / 4096))
    assert mapping["tau_m_ms"]["relative_error"] == pytest.approx(0.0215, abs=1e-4)
    assert mapping["w_e_mv"]["realised"] == pytest.approx(131 * lsb / p_e)
    assert mapping["v_th_mv"]["relative_error"] == 0.0
    assert mapping["p"]["realised"] == pytest.approx(0.0200055, rel=1e-5)
    # the initial membrane is the procedural float network's, rounded
    v0 = cuba(4000, seed=1, connectivity="procedural").v0
    assert np.array_equal(spec.v0(), np.round((v0 + 49.0) / lsb).astype(np.int64))


def test_the_float_network_runs_exactly_the_fixed_networks_synapses():
    spec, _ = cuba_spec(1000, p=0.05, seed=3)
    fixed = np.zeros((1000, 1000))
    for part in compile_network(spec):
        rows = part.rows.toarray()
        fixed[part.source_offset:part.source_offset + part.source_size] += rows
    net = cuba(1000, p=0.05, seed=3, connectivity="procedural")
    structure = (net.excitatory + net.inhibitory).toarray()
    assert np.array_equal(structure != 0, fixed != 0) and np.count_nonzero(fixed) > 40_000
    assert set(np.unique(net.excitatory.data)) == {60 * 0.27 / 10} and set(np.unique(net.inhibitory.data)) == {-9.0}
    assert np.all(fixed[:800][fixed[:800] != 0] == 131) and np.all(fixed[800:][fixed[800:] != 0] == -732)


def test_the_fixed_network_has_the_float_networks_statistics():
    """A quarter of CUBA (1000 neurons, the full in-degree: p = 0.08) for 0.5 s, seeds 1-3: the fixed model's
    mean rate and ISI CV within 10 % of the float network's on the same synapses (measured: rates 5.19
    against 5.04 Hz, CVs 0.388 against 0.396); the codes' largest error is tau_m's +2.2 %."""
    fixed_rates, float_rates, fixed_cvs, float_cvs = [], [], [], []
    for seed in (1, 2, 3):
        spec, _ = cuba_spec(1000, p=0.08, seed=seed)
        out = NetworkModel(spec).run(5000)
        assert out["saturated"] == 0
        counts = np.bincount(out["spike_neurons"], minlength=1000)
        fixed_rates.append(counts.mean() / 0.5)
        steps, who = out["spike_steps"], out["spike_neurons"]
        order = np.lexsort((steps, who))
        isi, same = np.diff(steps[order]), who[order][1:] == who[order][:-1]
        cv = [np.std(isi[same & (who[order][1:] == k)]) / np.mean(isi[same & (who[order][1:] == k)])
              for k in range(1000) if counts[k] >= 3]
        fixed_cvs.append(np.mean(cv))
        result = run(cuba(1000, p=0.08, seed=seed, connectivity="procedural"), 500.0, 0.1)
        float_rates.append(result.rates_hz().mean())
        float_cvs.append(result.cvs().mean())
    assert np.mean(fixed_rates) == pytest.approx(np.mean(float_rates), rel=0.10)
    assert np.mean(fixed_cvs) == pytest.approx(np.mean(float_cvs), rel=0.10)
    assert 3.0 < np.mean(float_rates) < 8.0  # the asynchronous irregular state, not silence or a storm


def test_brunels_codes_by_hand():
    spec, mapping = brunel_spec("AI", 2000, 0.5, seed=2)
    exc, inh = spec.populations["exc"], spec.populations["inh"]
    assert (exc.size, inh.size) == (2000, 500) and spec.channels == ("syn",)
    lsb = 2.0**-11
    # delta synapses: decay 4096 clears the current every step, so it is the step's input alone
    assert exc.decay["syn"][0] == 4096 and exc.params["leak"][0] == 20
    # theta 20 mV = 40960 codes, v > theta is v >= 40961; reset 10 mV = 20480; 2 ms = 20 steps
    assert (exc.params["theta_hi"][0], exc.params["v_reset"][0], exc.params["refractory"][0]) == (40961, 20480, 20)
    # J = 0.1 mV / lsb = 204.8 -> 205; -g J = -0.5 mV = -1024 exactly (AI: g = 5)
    ee, ie = spec.projections["ee"], spec.projections["ie"]
    assert (int(ee.weight), int(ie.weight), ee.delay, ee.degree, ie.degree) == (205, -1024, 15, 1000, 250)
    assert [pr.rule for pr in spec.projections.values()] == ["fixed_in_degree"] * 4
    # external: eta theta dt / (J tau) = 2 x 20 x 0.1 / (0.1 x 20) = 2 inputs of J per step, on every neuron
    assert exc.external.mean == pytest.approx(2.0) and exc.external.weight == 205 and inh.external == exc.external
    assert mapping["j_mv"]["relative_error"] == pytest.approx(205 / 204.8 - 1)
    v0 = brunel("AI", 2000, 0.5, seed=2, connectivity="procedural").v0
    assert np.array_equal(spec.v0(), np.round(v0 / lsb).astype(np.int64))


def test_the_float_brunel_runs_exactly_the_fixed_networks_synapses():
    spec, _ = brunel_spec("SR", 200, 1.0, seed=4)
    fixed = np.zeros((250, 250))
    for part in compile_network(spec):
        rows = part.rows.toarray()
        fixed[part.source_offset:part.source_offset + part.source_size] += rows
    net = brunel("SR", 200, 1.0, seed=4, connectivity="procedural")
    float_codes = (net.excitatory + net.inhibitory).toarray() * 2**11
    # multapses add up in both; the codes are the float weights rounded (J: 204.8 -> 205, -g J = -0.3: -614.4)
    assert np.array_equal(fixed != 0, float_codes != 0)
    # as many connections (a multapse's count) between every pair
    assert np.array_equal(fixed[:200] / 205, np.round(float_codes[:200] / 204.8))
    assert np.array_equal(fixed[200:] / -614, np.round(float_codes[200:] / -614.4))
    assert np.all(fixed.sum(axis=0) == 200 * 205 - 50 * 614)  # every target: C_E = 200 and C_I = 50 inputs
