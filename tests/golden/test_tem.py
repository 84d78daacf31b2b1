"""Time encoding machines: encoders against the t-transform's closed forms, decoders against the signal."""

import math
import re

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import sici

from lapicque.errors import LapicqueError
from lapicque.golden import tem
from lapicque.golden.neuron import ArrayModel

BANDWIDTH = 100.0
GRID = 1e-6
IDEAL = tem.Encoder(3.5, 0.7, 0.01)
LEAKY = tem.Encoder(3.5, 0.7, 0.01, 10.0)  # bionet ted's spline demo: b, delta, C, R


def encoded(encoders, duration=0.2, seed=0, tones=10):
    signal = tem.multitone(BANDWIDTH, tones=tones, seed=seed)
    grid = np.arange(int(round(duration / GRID)) + 1) * GRID
    return signal, tem.encode(encoders, signal(grid), GRID)


def central_snr(signal, decoded, duration=0.2):
    t = np.arange(0, duration, 1 / (20 * BANDWIDTH))
    middle = tem.central(t, duration)
    return tem.snr_db(signal(t)[middle], decoded(t)[middle])


def test_multitone_is_band_limited_and_its_integral_is_exact():
    signal = tem.multitone(BANDWIDTH, tones=7, peak=2.0, seed=3)
    assert signal.frequencies.max() == BANDWIDTH and signal.frequencies.min() > 0
    assert signal.peak == pytest.approx(2.0)
    t = np.linspace(0, 1, 100001)
    assert np.max(np.abs(signal(t))) <= 2.0
    assert signal.integral(0.1, 0.35) == pytest.approx(quad(signal, 0.1, 0.35, limit=200)[0], abs=1e-12)


def test_ideal_encoder_spike_times_satisfy_the_t_transform():
    signal, (times,) = encoded([IDEAL])
    assert len(times) > 90
    # int u over each interval = kappa delta - b (t_{k+1} - t_k), against the exact integral of the multitone
    err = signal.integral(times[:-1], times[1:]) - IDEAL.quanta(times)
    # the grid's errors: the trapezoid rule (interval dt^2 / 12 max|u''|) and the linear interpolation of
    # each end's crossing (dt^2 / 8 max|u'|), with max|u^(k)| <= peak (2 pi B)^k
    w = 2 * np.pi * BANDWIDTH
    bound = np.diff(times) * GRID**2 / 12 * w**2 * signal.peak + 2 * GRID**2 / 8 * w * signal.peak
    assert np.all(np.abs(err) < bound)
    # the first spike: int_0^t1 (u + b) = kappa delta
    assert signal.integral(0.0, times[0]) + IDEAL.bias * times[0] == pytest.approx(IDEAL.kappa * IDEAL.delta,
                                                                                 abs=bound.max())


def test_leaky_encoder_spike_times_satisfy_the_t_transform():
    signal, (times,) = encoded([LEAKY], duration=0.05)
    rc = LEAKY.rc
    w, c, b = 2 * np.pi * BANDWIDTH, signal.peak, LEAKY.bias
    # as for the ideal encoder, with C v'' = u' - v' / R bounded by 2 pi B c + (b + c) / RC at the crossings
    bound = np.diff(times).max() * GRID**2 / 12 * w**2 * c + 2 * GRID**2 / 8 * (w * c + (b + c) / rc)
    for k in range(len(times) - 1):
        a, b = times[k], times[k + 1]
        lhs = quad(lambda s, b=b: signal(s) * math.exp(-(b - s) / rc), a, b, epsabs=1e-14)[0]
        assert lhs == pytest.approx(LEAKY.quanta(times[k:k + 2])[0], abs=bound)


def test_constant_input_fires_at_the_closed_form_interval():
    u = np.full(200001, 0.5)
    (ideal,) = tem.encode([IDEAL], u, GRID)
    assert np.diff(ideal) == pytest.approx(IDEAL.kappa * IDEAL.delta / 4.0, abs=1e-12)
    (leaky,) = tem.encode([LEAKY], u, GRID)
    expected = -LEAKY.rc * math.log(1 - LEAKY.delta / (LEAKY.resistance * 4.0))
    # the crossing's linear interpolation misses the exponential's curvature by dt^2 / (8 RC) at each end
    assert np.diff(leaky) == pytest.approx(expected, abs=2 * GRID**2 / (8 * LEAKY.rc))


def test_recovery_condition_values_by_hand():
    ideal = tem.recovery([IDEAL], BANDWIDTH, 1.0)
    assert ideal["value"] == pytest.approx(0.01 * 0.7 / 2.5 * 200) and ideal["bound"] == 1.0
    assert ideal["satisfied"]
    leaky = tem.recovery([LEAKY], BANDWIDTH, 1.0)
    e = 0.7 / (10 * 2.5)
    assert leaky["value"] == pytest.approx(-0.1 * math.log(1 - e) * 200)
    assert leaky["bound"] == pytest.approx((1 - e) / (1 + e))
    assert not tem.recovery([tem.Encoder(3.5, 1.5, 0.01)], BANDWIDTH, 1.0)["satisfied"]
    # a population of sparse encoders recovers together: the sum of their lowest rates counts
    sparse = tem.population(tem.Encoder(3.5, 2.0, 0.01), 4)
    assert not tem.recovery(sparse[:1], BANDWIDTH, 1.0)["satisfied"]
    assert tem.recovery(sparse, BANDWIDTH, 1.0)["satisfied"]


@pytest.mark.parametrize("encoder, message", [
    (tem.Encoder(0.9, 0.7, 0.01), "it needs b > 1"),
    (tem.Encoder(1.05, 0.7, 0.01, 10.0), "R (b - 1) > delta"),
])
def test_an_encoder_that_cannot_fire_is_refused(encoder, message):
    with pytest.raises(LapicqueError, match=re.escape(message)):
        tem.recovery([encoder], BANDWIDTH, 1.0)


def test_sinc_quadrature_matches_the_sine_integral_closed_form():
    _, (times,) = encoded([IDEAL], duration=0.05)
    meas = tem.Measurements.from_spikes([IDEAL], [times])
    omega = 2 * np.pi * BANDWIDTH
    x, weights = tem.quadrature(meas)
    centres = (meas.start + meas.end) / 2
    gram = weights @ tem.sinc_kernel(x[:, None] - centres[None], omega)
    si = lambda z: sici(z)[0]  # noqa: E731
    closed = (si(omega * (meas.end[:, None] - centres[None])) - si(omega * (meas.start[:, None] - centres[None])))
    assert np.max(np.abs(gram - closed / np.pi)) < 1e-13


def test_spline_basis_matches_the_quartic_closed_form():
    meas = tem.Measurements(np.array([0.1, 0.3]), np.array([0.3, 0.45]), np.full(2, np.inf), np.zeros(2))
    x = np.linspace(0, 0.6, 61)
    a, b = meas.start, meas.end
    xs = x[:, None]
    closed = np.where(xs <= a, ((b - xs) ** 4 - (a - xs) ** 4) / 4,
                      np.where(xs <= b, ((xs - a) ** 4 + (b - xs) ** 4) / 4, ((xs - a) ** 4 - (xs - b) ** 4) / 4))
    assert tem.spline_basis(x, meas) == pytest.approx(closed, abs=1e-15)


@pytest.mark.parametrize("method", ["spline", "sinc"])
def test_leaky_encoder_decodes_above_41_db(method):
    """The done-when figure: 100 Hz multitone, 0.2 s, leaky encoder under the condition, >= 41 dB."""
    signal, times = encoded([LEAKY])
    assert tem.recovery([LEAKY], BANDWIDTH, signal.peak)["satisfied"]
    decoded = tem.decode(tem.Measurements.from_spikes([LEAKY], times), BANDWIDTH, method)
    assert central_snr(signal, decoded) >= 41.0


def test_snr_rises_as_the_recovery_condition_tightens():
    snrs, values = [], []
    for delta in (1.2, 0.9, 0.6, 0.3):
        encoder = tem.Encoder(3.5, delta, 0.01, 10.0)
        signal, times = encoded([encoder], seed=4)
        values.append(tem.recovery([encoder], BANDWIDTH, signal.peak)["value"])
        snrs.append(central_snr(signal, tem.decode(tem.Measurements.from_spikes([encoder], times), BANDWIDTH,
                                                   "spline")))
    assert values == sorted(values, reverse=True)
    assert all(later > earlier + 3 for earlier, later in zip(snrs, snrs[1:], strict=False))


def test_population_recovers_what_each_encoder_alone_cannot():
    encoders = tem.population(tem.Encoder(3.5, 2.0, 0.01), 4)
    signal, times = encoded(encoders)
    alone = central_snr(signal, tem.decode(tem.Measurements.from_spikes(encoders[:1], times[:1]), BANDWIDTH, "sinc"))
    together = tem.Measurements.from_spikes(encoders, times)
    for method in ("sinc", "spline"):
        assert central_snr(signal, tem.decode(together, BANDWIDTH, method)) > alone + 20
    assert alone < 25


def test_bjorck_pereyra_solves_a_vandermonde_system():
    rng = np.random.default_rng(0)
    z = np.exp(1j * np.sort(rng.uniform(0, 2 * np.pi, 12)))
    a = rng.standard_normal(12) + 1j * rng.standard_normal(12)
    assert tem.bjorck_pereyra(z, np.vander(z, increasing=True) @ a) == pytest.approx(a, abs=1e-10)
    real = np.linspace(0.5, 1.5, 6)  # real nodes: the real arithmetic path
    assert tem.bjorck_pereyra(real, np.vander(real, increasing=True) @ np.arange(6.0)) == pytest.approx(
        np.arange(6.0), abs=1e-9)


def _vandermonde_block(times, start, intervals, solver):
    meas = tem.Measurements.from_spikes([IDEAL], [times])
    part = tem.Measurements(*(getattr(meas, k)[start:start + intervals] for k in ("start", "end", "rc", "q")))
    return part, tem.decode(part, BANDWIDTH, "vandermonde", solver)


def test_bjorck_pereyra_matches_the_direct_solve_where_both_hold_and_where_it_breaks():
    """Measured, not assumed (docs/tem.md): on the TEM's Vandermonde systems (nodes on an arc of the unit
    circle) Bjorck-Pereyra agrees with LAPACK's pivoted LU to 100+ dB up to ~32 intervals, and breaks
    near 48 while the pivoted LU stays accurate; the decoder therefore works in blocks of 24."""
    signal, (times,) = encoded([IDEAL], duration=0.4)
    start = int(np.searchsorted(times, 0.1))
    for intervals in (8, 16, 24):
        part, bp = _vandermonde_block(times, start, intervals, "bjorck-pereyra")
        _, direct = _vandermonde_block(times, start, intervals, "direct")
        t = np.linspace(part.start[0], part.end[-1], 200)[50:150]
        assert tem.snr_db(direct(t), bp(t)) > 100
        assert tem.snr_db(signal(t), bp(t)) > 70
    part, bp = _vandermonde_block(times, start, 64, "bjorck-pereyra")
    _, direct = _vandermonde_block(times, start, 64, "direct")
    t = np.linspace(part.start[0], part.end[-1], 200)[50:150]
    assert tem.snr_db(signal(t), direct(t)) > 100
    assert tem.snr_db(signal(t), bp(t)) < 0


def test_blocks_match_the_one_block_decoder_and_tile_the_output():
    signal, times = encoded([IDEAL], duration=0.6)
    meas = tem.Measurements.from_spikes([IDEAL], times)
    rate, samples = 2000.0, 1200
    whole = tem.decode(meas, BANDWIDTH, "spline")(np.arange(samples) / rate)
    blocks = list(tem.decode_blocks(meas, BANDWIDTH, rate, samples, "spline", window=0.2, overlap=0.04))
    assert len(blocks) > 3
    assert [b[0] for b in blocks] == sorted(b[0] for b in blocks)
    stitched = np.concatenate([values for _, values in blocks])
    assert len(stitched) == samples and blocks[0][0] == 0
    t = np.arange(samples) / rate
    middle = tem.central(t, 0.6)
    truth = signal(t)[middle]
    assert tem.snr_db(truth, stitched[middle]) > tem.snr_db(truth, whole[middle]) - 6
    assert tem.snr_db(whole[middle], stitched[middle]) > 45


def test_fixed_encoder_codes_and_spikes_by_hand():
    compiled = tem.compile_encoders([IDEAL], 1e-5, 1.0)
    scale = 32767.0
    assert compiled.spec.params["bias"][0] == round(scale * 3.5)
    assert compiled.spec.params["theta_hi"][0] == round(scale * 0.01 * 0.7 / 1e-5)
    assert compiled.spec.params["leak"][0] == 0
    # non-leaky with subtractive reset: the spike count after step n is floor(sum (x + bias) / theta)
    signal = tem.multitone(BANDWIDTH, seed=1)
    u_mid = signal((np.arange(5000) + 0.5) * 1e-5)
    raster = tem.fixed_spikes(compiled, u_mid)
    x = compiled.inputs(u_mid)[:, 0] + compiled.spec.params["bias"][0]
    counts = np.cumsum(x) // compiled.spec.params["theta_hi"][0]
    assert np.array_equal(np.cumsum(raster[:, 0]), counts)


def test_fixed_leaky_encoder_uses_the_rounded_leak():
    encoder = tem.Encoder(3.5, 0.5, 0.01, 1.0)
    compiled = tem.compile_encoders([encoder], 1e-5, 1.0)
    d = compiled.spec.params["leak"][0]
    assert d == round(4096 * (1 - math.exp(-1e-5 / 0.01)))
    assert compiled.encoders[0].rc == pytest.approx(-1e-5 / math.log(1 - d / 4096))
    model = ArrayModel(compiled.spec, fixed=True)
    assert model.spec.params["reset_mode"][0] == 1
    with pytest.raises(LapicqueError, match="too slow for the array's 12-bit leak"):
        tem.compile_encoders([LEAKY], 1e-6, 1.0)


def test_fixed_model_decodes_with_half_step_timing_error():
    """The fixed encoder's spike times are within half a step: the SNR rises about 6 dB per halving of the step."""
    signal = tem.multitone(BANDWIDTH, seed=0)
    snrs = []
    for step in (2e-5, 1e-5, 5e-6):
        compiled = tem.compile_encoders([IDEAL], step, signal.peak)
        raster = tem.fixed_spikes(compiled, signal((np.arange(int(0.12 / step)) + 0.5) * step))
        meas = tem.Measurements.from_spikes(compiled.encoders, compiled.spike_times(raster))
        snrs.append(central_snr(signal, tem.decode(meas, BANDWIDTH, "sinc"), duration=0.12))
    assert snrs[0] > 25
    assert all(3 < later - earlier < 10 for earlier, later in zip(snrs, snrs[1:], strict=False))
