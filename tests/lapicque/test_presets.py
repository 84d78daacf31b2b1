"""The loihi preset against Lava's own expected sequences for its bit-accurate LIF.

Every expected sequence below is copied from Lava's test suite, lava-nc/lava,
tests/lava/proc/lif/test_models.py (classes TestLIFProcessModelsFixed and TestTLIFProcessModelsFixed,
which run `PyLifModelBitAcc` and `PyTernLifModelFixed`); each test names the Lava test it reproduces.
"""

import dataclasses

import numpy as np
import pytest

from lapicque.errors import SpecError
from lapicque.golden.neuron import ArrayModel
from lapicque.presets import loihi_lif
from lapicque.spec import load_spec


def run_lava_like(spec, a_in):
    """Run the fixed model with Lava's a_in per step ([steps, neurons]); returns u, v and spikes per step."""
    model = ArrayModel(spec)
    trace = model.run(np.asarray(a_in, dtype=np.int64))
    return trace["i"], trace["v"], trace["spike"]


def impulse(value, steps=8, neurons=1):
    a_in = np.zeros((steps, neurons), dtype=np.int64)
    a_in[0] = value
    return a_in


def test_bias_driven_neurons_spike_every_fifth_step():
    """Lava: TestLIFProcessModelsFixed.test_bitacc_pm_no_decay (bias 2 << 6, vth 8, du = dv = 0, 10 neurons)."""
    spec = loihi_lif(10, du=0, dv=0, bias_mant=2, bias_exp=6, vth=8)
    _, _, spikes = run_lava_like(spec, np.zeros((10, 10)))
    expected = np.zeros((10, 10), dtype=bool)
    expected[4:10:5, :] = True
    assert np.array_equal(spikes, expected)


def test_impulse_response_of_the_current():
    """Lava: TestLIFProcessModelsFixed.test_bitacc_pm_impulse_du (a_in 128 at step 1, du 2047, vth 256)."""
    spec = loihi_lif(1, du=2047, dv=0, bias_mant=0, bias_exp=1, vth=256)
    u, _, spikes = run_lava_like(spec, impulse(128))
    assert u[:, 0].tolist() == [1 << (13 - j) for j in range(8)]
    assert (u[:, 0] >> 6).tolist() == [1 << (7 - j) for j in range(8)]
    assert not spikes.any()


def test_impulse_response_of_the_membrane():
    """Lava: TestLIFProcessModelsFixed.test_bitacc_pm_impulse_dv (a_in 128 at step 1, du 0, dv 2048, vth 256):
    the current's decay of 1/4096 (Lava's ds_offset) makes the membrane fall short of 128 << 6 ... 255 << 6."""
    spec = loihi_lif(1, du=0, dv=2048, bias_mant=0, bias_exp=1, vth=256)
    _, v, _ = run_lava_like(spec, impulse(128))
    assert v[:, 0].tolist() == [8192, 12286, 14331, 15351, 15859, 16111, 16235, 16295]
    # the rounding is what makes it Lava's: floor keeps the positive current at 8192 instead of 8190 ...
    floor = dataclasses.replace(spec, rounding="floor")
    assert run_lava_like(floor, impulse(128))[1][:, 0].tolist() != v[:, 0].tolist()


def test_negative_impulse_of_the_current():
    """Lava: TestTLIFProcessModelsFixed.test_fixed_pm_neg_impulse_du (a_in -128, du 2047). The ternary LIF
    shares `AbstractPyLifModelFixed.subthr_dynamics` with the LIF and nothing spikes in this test (v < 0 is
    below vth_hi = 2 and above vth_lo = -256), so the preset's LIF must give the same currents."""
    spec = loihi_lif(1, du=2047, dv=0, bias_mant=0, bias_exp=1, vth=2)
    u, _, spikes = run_lava_like(spec, impulse(-128))
    assert u[:, 0].tolist() == [(-1) << (13 - j) for j in range(8)]
    assert (u[:, 0] >> 6).tolist() == [(-1) << (7 - j) for j in range(8)]
    assert not spikes.any()


def test_negative_impulse_of_the_membrane():
    """Lava: TestTLIFProcessModelsFixed.test_fixed_pm_neg_impulse_dv (a_in -128, du 0, dv 2048): the exact
    negation of the positive case, as rounding toward zero gives."""
    spec = loihi_lif(1, du=0, dv=2048, bias_mant=0, bias_exp=1, vth=2)
    _, v, _ = run_lava_like(spec, impulse(-128))
    assert v[:, 0].tolist() == [-8192, -12286, -14331, -15351, -15859, -16111, -16235, -16295]


def test_scaling_of_the_bias():
    """Lava: TestLIFProcessModelsFixed.test_bitacc_pm_scaling_of_bias (bias_mant 4095, bias_exp 5): one step
    leaves v = 4095 * 2**5. Lava's test sets vth = 2**17, one past its own 17-bit range (0..131071), where
    no membrane can reach the threshold; the preset refuses that value, and the largest legal vth, which the
    membrane does not reach either, gives Lava's expected value."""
    with pytest.raises(SpecError, match=r"vth\[0\] = 131072 is outside Lava's range 0..131071"):
        loihi_lif(1, du=0, dv=0, bias_mant=4095, bias_exp=5, vth=2 ** 17)
    spec = loihi_lif(1, du=0, dv=0, bias_mant=4095, bias_exp=5, vth=2 ** 17 - 1)
    _, v, spikes = run_lava_like(spec, np.zeros((1, 1)))
    assert v[0, 0] == 4095 * 2 ** 5 and not spikes.any()


def test_threshold_is_strict_and_reset_is_to_zero():
    """By hand from Lava's rule `v > vth << 6`: a membrane exactly at 8 << 6 = 512 does not spike, one above
    does, and the spiking membrane restarts from 0."""
    at = loihi_lif(1, du=4095, dv=0, vth=8)  # du 4095: the current is the input of this step alone
    _, v, spikes = run_lava_like(at, [[8], [0], [1], [0]])  # 8 << 6 = 512, then 512 + 64 = 576
    assert v[:, 0].tolist() == [512, 512, 0, 0] and spikes[:, 0].tolist() == [False, False, True, False]


def test_spikes_reach_targets_one_step_later_through_weights():
    """A Dense connection in Lava delivers a spike's weight to a_in one step later, shifted by 6."""
    spec = loihi_lif(2, du=4095, dv=4095, bias_mant=[100, 0], bias_exp=[6, 0], vth=[8, 1000],
                     weights=[[0, 5], [0, 0]])
    u, v, spikes = run_lava_like(spec, np.zeros((3, 2)))
    assert spikes[:, 0].tolist() == [True, True, True]  # 6400 > 512 every step
    assert u[:, 1].tolist() == [0, 5 << 6, 5 << 6]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"du": 4096}, r"du\[0\] = 4096 is outside Lava's range 0..4095"),
    ({"dv": -1}, r"dv\[0\] = -1 is outside Lava's range 0..4095"),
    ({"bias_mant": 4096}, r"bias_mant\[0\] = 4096 is outside Lava's range -4096..4095"),
    ({"bias_exp": 8}, r"bias_exp\[0\] = 8 is outside Lava's range 0..7"),
    ({"vth": [1, 2]}, r"vth has 2 values; expected 1 or 3"),
    ({"du": 0.5}, r"du must hold whole numbers"),
])
def test_values_outside_lavas_ranges_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        loihi_lif(3, **kwargs)


def test_preset_in_a_spec_file(tmp_path):
    path = tmp_path / "loihi.toml"
    path.write_text('preset = "loihi"\nneurons = 2\n[params]\ndu = 2047\ndv = [0, 2048]\nvth = 256\n'
                    "[weights]\ndensity = 1.0\nlow = -3\nhigh = 3\nseed = 1\n")
    spec = load_spec(path)
    assert spec.rounding == "toward_zero" and spec.weight_exponent == 6 and spec.widths.v == 24
    assert spec.params["decay"].tolist() == [2048, 2048] and spec.params["leak"].tolist() == [0, 2048]
    assert spec.params["theta_hi"].tolist() == [(256 << 6) + 1] * 2


@pytest.mark.parametrize(("text", "message"), [
    ('preset = "spinnaker"\nneurons = 2\n', "preset = 'spinnaker' is not one of loihi"),
    ('preset = "loihi"\nneurons = 2\nrounding = "floor"\n', "preset = 'loihi' fixes rounding"),
    ('preset = "loihi"\nneurons = 2\n[widths]\nv = 16\n', r"only widths.w \(the weights' bits\) may be set"),
    ('preset = "loihi"\nneurons = 2\n[params]\nvth_lo = -3\n', "TernaryLIF emits negative spikes"),
    ('preset = "loihi"\nneurons = 2\n[params]\nrefractory_period = 2\n', "LIFRefractory is not the preset"),
    ('preset = "loihi"\nneurons = 2\n[params]\ntheta_hi = 2\n', "unknown parameter 'theta_hi' for preset"),
    ('preset = "loihi"\nneurons = 2\n[params]\ndu = 5000\n', r"du\[0\] = 5000 is outside Lava's range"),
])
def test_preset_errors_are_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message) as info:
        load_spec(path)
    assert "\n" not in str(info.value) and str(info.value).startswith(str(path))
