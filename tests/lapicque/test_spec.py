import numpy as np
import pytest

from lapicque.errors import SpecError
from lapicque.spec import ArraySpec, Widths, load_spec, random_spec


def test_defaults_broadcast_to_every_neuron():
    spec = ArraySpec(8, lanes=2, params={"bias": 5, "leak_mode": "linear"})
    assert spec.params["bias"].tolist() == [5] * 8
    assert spec.params["leak_mode"].tolist() == [1] * 8
    assert spec.depth == 4
    assert spec.weights.shape == (8, 8)


def test_accumulator_holds_the_sum_of_all_weights():
    spec = ArraySpec(64, widths=Widths(w=8))
    # 64 weights of -128 sum to -8192, which needs 14 signed bits; the accumulator has more
    assert -(1 << (spec.acc_bits - 1)) <= 64 * -128
    assert (1 << (spec.acc_bits - 1)) - 1 >= 64 * 127


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"neurons": 0}, "neurons = 0 is out of range; allowed 1..65536"),
    ({"neurons": 10, "lanes": 4}, "neurons = 10 is not a multiple of lanes = 4; choose lanes that divide neurons"),
    ({"neurons": 4, "widths": Widths(v=40)}, "widths.v = 40 is out of range; allowed 4..32"),
    ({"neurons": 4, "widths": Widths(w=1)}, "widths.w = 1 is out of range; allowed 2..16"),
    ({"neurons": 4, "params": {"decay": 5000}}, "decay[0] = 5000 is out of range; allowed 0..4096"),
    ({"neurons": 4, "params": {"leak": [0, 0, 4097, 0]}},
     "leak[2] = 4097 is out of range for exponential leak; allowed 0..4096"),
    ({"neurons": 4, "params": {"bias": [1, 2]}}, "bias has 2 values; expected 1 or 4 (one per neuron)"),
    ({"neurons": 4, "params": {"leak_mode": "cubic"}}, "leak_mode = 'cubic' is not one of exponential, linear"),
    ({"neurons": 4, "params": {"hysteresis": 1, "theta_hi": 10, "theta_lo": 10}},
     "theta_lo[0] = 10 must be below theta_hi[0] = 10 for a hysteresis neuron"),
    ({"neurons": 2, "weights": [[0, 200], [0, 0]]},
     "weights[0, 1] = 200 does not fit widths.w = 8; allowed -128..127"),
    ({"neurons": 2, "weights": np.zeros((3, 3))}, "weights has shape (3, 3); expected (2, 2) for 2 neurons"),
    ({"neurons": 2, "weights": [[0, 0.5], [0, 0]]},
     "weights must be integer codes; quantise them first (lapicque.units)"),
])
def test_validation_names_the_field_and_range(kwargs, message):
    with pytest.raises(SpecError) as info:
        ArraySpec(**kwargs)
    assert str(info.value) == message


def test_linear_leak_allows_amounts_up_to_v_max():
    spec = ArraySpec(2, params={"leak_mode": "linear", "leak": 30000})
    assert spec.params["leak"][0] == 30000


def test_dict_round_trip():
    spec = random_spec(16, 4, seed=3)
    again = ArraySpec.from_dict(spec.to_dict())
    assert again.to_dict() == spec.to_dict()


def test_random_spec_is_seeded_and_mixes_every_mode():
    a, b = random_spec(64, 2, seed=5), random_spec(64, 2, seed=5)
    assert a.to_dict() == b.to_dict()
    for name in ("leak_mode", "reset_mode", "hysteresis"):
        assert set(a.params[name].tolist()) == {0, 1}
    assert random_spec(64, 2, seed=6).to_dict() != a.to_dict()


def test_load_example_toml():
    spec = load_spec("examples/hysteresis.toml")
    assert spec.neurons == 16 and spec.lanes == 2
    assert spec.params["hysteresis"].tolist() == [1] * 16
    assert spec.params["bias"][3] == 100
    assert np.count_nonzero(np.diag(spec.weights)) == 0


@pytest.mark.parametrize(("text", "message"), [
    ("neurons = 4\ncolour = 'red'\n",
     "unknown key 'colour'; allowed: lanes, monitor, neurons, params, preset, rounding, weight_exponent, weights, "
     "widths"),
    ("neurons = 4\nweight_exponent = 17\n", "weight_exponent = 17 is out of range; allowed 0..16"),
    ("neurons = 4\nweight_exponent = 1.5\n", "weight_exponent = 1.5 must be a whole number from 0 to 16"),
    ("lanes = 2\n", "missing key 'neurons'"),
    ("neurons = 4\n[widths]\nvv = 3\n", "unknown width 'vv'; allowed: v, i, w, bias, ext, refractory"),
    ("neurons = 4\n[params]\nthreshold = 3\n", "unknown parameter 'threshold'; allowed: bias, leak, decay, "
     "theta_hi, theta_lo, refractory, v_reset, reset_current, leak_mode, reset_mode, hysteresis"),
    ("neurons = 4\n[weights]\ndensity = 2.0\n", "weights.density = 2.0 is out of range; allowed 0..1"),
])
def test_toml_errors_are_one_line(tmp_path, text, message):
    path = tmp_path / "a.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).endswith(message)
    assert "\n" not in str(info.value)


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("neurons = [\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="cannot read spec file"):
        load_spec(tmp_path / "missing.toml")


def test_rounding_mode_in_a_spec_file(tmp_path):
    from lapicque.errors import SpecError
    from lapicque.spec import load_spec

    path = tmp_path / "a.toml"
    path.write_text('neurons = 4\nrounding = "toward_zero"\n')
    spec = load_spec(path)
    assert spec.rounding == "toward_zero" and spec.with_lanes(2).rounding == "toward_zero"
    assert ArraySpec.from_dict(spec.to_dict()).rounding == "toward_zero"
    path.write_text("neurons = 4\n")
    assert load_spec(path).rounding == "toward_zero"  # the default since issue 17: decays reach rest
    path.write_text('neurons = 4\nrounding = "floor"\n')
    assert load_spec(path).rounding == "floor"  # and a spec may still ask for the old rounding
    path.write_text('neurons = 4\nrounding = "nearest"\n')
    with pytest.raises(SpecError, match="rounding = 'nearest' is not one of floor, toward_zero"):
        load_spec(path)


def test_weight_exponent_in_a_spec_file(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text("neurons = 4\nweight_exponent = 6\n")
    spec = load_spec(path)
    assert spec.weight_exponent == 6 and spec.with_lanes(2).weight_exponent == 6
    assert ArraySpec.from_dict(spec.to_dict()).weight_exponent == 6
    path.write_text("neurons = 4\n")
    assert load_spec(path).weight_exponent == 0
    with pytest.raises(SpecError, match=r"weight_exponent = -1 is out of range; allowed 0..16"):
        ArraySpec(4, weight_exponent=-1)
