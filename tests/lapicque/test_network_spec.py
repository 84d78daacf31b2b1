"""Network spec files (lapicque/network_spec.py): the example reads to the codes it states, the array as a
network, and every bad value a one-line error naming its key."""

import numpy as np
import pytest

from lapicque.errors import SpecError
from lapicque.network_spec import NetworkSpec, load_network
from lapicque.spec import random_spec

EXAMPLE = "examples/networks/two-populations.toml"


def test_the_example_reads_to_its_codes():
    net = load_network(EXAMPLE)
    assert net.channels == ("exc", "inh") and net.neurons == 200 and net.offsets == {"exc": 0, "inh": 160}
    exc = net.populations["exc"]
    assert exc.params["bias"].tolist() == [320] * 160 and exc.decay["inh"].tolist() == [400] * 160
    ee, ii = net.projections["ee"], net.projections["ii"]
    assert (ee.rule, ee.p, ee.delay, ee.seed, int(ee.weight), ee.channel) == ("bernoulli", 0.05, 4, 7, 120, "exc")
    assert ii.pre.tolist() == [0, 1, 2, 3] and ii.weight.tolist() == [-200, -200, -150, -150]
    assert net.projection_index("ie") == 2 and net.max_delay == 4
    params = net.params()
    assert params["decay"].shape == (2, 200) and params["theta_hi"][159:161].tolist() == [4000, 3000]
    assert net.synapse_count() == {"ee": 160 * 160 * 0.05, "ei": 160 * 8.0, "ie": 160 * 6.0, "ii": 4.0}


def test_the_array_as_a_network_keeps_every_code():
    spec = random_spec(32, lanes=4, seed=3, rounding="floor", weight_exponent=2)
    net = NetworkSpec.from_array(spec)
    assert (net.neurons, net.lanes, net.rounding, net.weight_exponent) == (32, 4, "floor", 2)
    assert np.array_equal(net.projections["recurrent"].weight, spec.weights)
    assert all(np.array_equal(net.params()[k], spec.params[k]) for k in spec.params if k != "decay")
    assert np.array_equal(net.params()["decay"][0], spec.params["decay"])


def edited(tmp_path, old, new):
    text = open(EXAMPLE).read()
    assert old in text, old
    path = tmp_path / "net.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('channels = ["exc", "inh"]', 'chanels = ["exc", "inh"]', "unknown key 'chanels'"),
    ('channels = ["exc", "inh"]', 'channels = "exc"', "channels = 'exc' must be a list of names"),
    ('channels = ["exc", "inh"]', 'channels = ["exc", "exc"]', "must name at least one channel, each once"),
    ("size = 160", "size = 0", "populations.exc.size = 0 is out of range; allowed 1..65536"),
    ("size = 160", "sise = 160", "unknown key populations.exc.sise"),
    ("bias = 320", "bias = 99999", "populations.exc.bias[0] = 99999 is out of range"),
    ("bias = 320", "biass = 320", "unknown parameter populations.exc.params.biass"),
    ("decay = { exc = 800, inh = 400 }", "decay = { exc = 800 }", "decay gives no value for channel inh"),
    ("decay = { exc = 800, inh = 400 }", "decay = { exc = 800, inh = 400, gaba = 1 }", "decay.gaba names no channel"),
    ("decay = { exc = 800, inh = 400 }", "decay = { exc = 800, inh = 5000 }",
     "populations.exc.decay.inh[0] = 5000 is out of range; allowed 0..4096"),
    ("v0 = 0", "v0 = 200000", "populations.exc.v0[0] = 200000 does not fit widths.v = 18"),
    ('source = "exc"', 'source = "pyr"', "projections.ee.source = 'pyr' is not a population"),
    ('rule = "bernoulli"', 'rule = "gaussian"', "projections.ee.rule = 'gaussian' is not one of dense, list"),
    ("p = 0.05", "p = 1.5", "projections.ee.p = 1.5 is out of range for rule bernoulli"),
    ("p = 0.05", 'p = "high"', "projections.ee.p = 'high' must be a number"),
    ("weight = 120", "weight = 600", "projections.ee.weight = 600 does not fit widths.w = 10"),
    ("weight = 120", "weight = [1, 2]",
     "projections.ee.weight has shape (2,); rule bernoulli takes one code or 160"),
    ("weight = 120", 'weight = "big"', "projections.ee.weight must be one whole number (a code)"),
    ("delay = 4", "delay = 0", "projections.ee.delay = 0 is out of range; allowed 1..64"),
    ("delay = 4", "delay = 65", "projections.ee.delay = 65 is out of range; allowed 1..64"),
    ('channel = "exc"', 'channel = "nmda"', "projections.ee.channel = 'nmda' is not one of the channels"),
    ("degree = 8", "degree = 41",
     "projections.ei.degree = 41 is out of range for rule fixed_out_degree; allowed 1..40"),
    ("post = [1, 2, 3, 0]", "post = [1, 2, 3, 40]", "projections.ii.post[3] = 40 is out of range; allowed 0..39"),
    ("post = [1, 2, 3, 0]", "post = [1, 2, 3]", "rule list needs pre and post lists of equal length"),
    ("seed = 7", "seed = -1", "projections.ee.seed = -1 is out of range"),
    ("v = 18", "v = 40", "widths.v = 40 is out of range; allowed 4..32"),
])
def test_bad_values_are_one_line_errors_naming_the_key(tmp_path, old, new, message):
    with pytest.raises(SpecError) as error:
        load_network(edited(tmp_path, old, new))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_lanes_must_divide_the_network_and_files_must_be_toml(tmp_path):
    with pytest.raises(SpecError, match="the network's 200 neurons are not a multiple of lanes = 3"):
        load_network(edited(tmp_path, "rounding =", "lanes = 3\nrounding ="))
    bad = tmp_path / "bad.toml"
    bad.write_text("[populations\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_network(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text("channels = ['a']\n")
    with pytest.raises(SpecError, match="no populations; add"):
        load_network(empty)


EXTERNAL = "[populations.exc.external]\nmean = 2.5\nweight = 5\nseed = 4\n\n[populations.inh]"


def test_a_populations_external_input_reads_to_its_codes(tmp_path):
    from lapicque.golden.external import External

    net = load_network(edited(tmp_path, "[populations.inh]", EXTERNAL))
    assert net.populations["exc"].external == External(2.5, 5, 4) and net.populations["inh"].external is None


@pytest.mark.parametrize(("old", "new", "message"), [
    ("mean = 2.5", "mean = 0", "populations.exc.external.mean = 0.0 must be a positive number"),
    ("mean = 2.5", 'mean = "often"', "populations.exc.external.mean = 'often' must be a positive number"),
    ("mean = 2.5", "mean = 12.0", "populations.exc.external.mean = 12.0 inputs per step needs a table of 35"),
    ("mean = 2.5", "rate = 2.5", "unknown key populations.exc.external.rate"),
    ("weight = 5", "", "populations.exc.external needs weight"),
    ("weight = 5", "weight = 50", "populations.exc.external: up to 15 inputs of weight 50 a step (750) do not fit "
                                  "widths.ext = 8"),
    ("weight = 5", "weight = 1.5", "populations.exc.external.weight = 1.5 must be a whole number"),
    ("seed = 4", "seed = -1", "populations.exc.external.seed = -1 is out of range"),
])
def test_bad_external_inputs_are_one_line_errors_naming_the_key(tmp_path, old, new, message):
    path = edited(tmp_path, "[populations.inh]", EXTERNAL)
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(SpecError) as error:
        load_network(path)
    assert message in str(error.value) and "\n" not in str(error.value)
