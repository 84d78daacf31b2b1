"""The contract's combinational reference (what the datapath is proved against) equals the bit-exact model.

This closes model = reference = RTL: `lapicque prove` proves the RTL equal to the reference for every
input; here the reference is simulated against `golden.neuron.array_step`, exhaustively over every state
at the narrowest widths for every mode, and at random at the default widths.
"""

import itertools

import numpy as np
import pytest

from lapicque.formal.reference import ContractReference
from lapicque.spec import ROUNDING_MODES, ArraySpec, Widths, random_spec

from ..hdl.test_datapath import directed_cases, golden, rounding_cases, run_datapath


def run_reference(spec: ArraySpec, cases):
    return run_datapath(spec, cases, design=ContractReference(spec))


NARROW = Widths(v=4, i=4, w=2, bias=4, ext=2, refractory=2)


def every_state(spec: ArraySpec, params: dict, rng) -> list:
    """Every (v, i) of the narrow widths, with a refractory count, a pulse bit and inputs drawn per case."""
    cases = []
    for v, i in itertools.product(range(-8, 8), range(-8, 8)):
        pulse = int(params["hysteresis"] and rng.random() < 0.5)
        state = {"v": v, "i": i, "ref": 0 if pulse else int(rng.integers(0, 3)), "pulse": pulse}
        cases.append((params, state, int(rng.integers(-4, 4)), int(rng.integers(-2, 2))))
    return cases


@pytest.mark.parametrize("rounding", ROUNDING_MODES)
@pytest.mark.parametrize("exponent", [0, 2])
def test_every_state_of_every_mode_at_narrow_widths(rounding, exponent):
    """All 256 states of 4-bit v and i, for each leak mode, reset mode and hysteresis, with decays that
    round both ways and ones that are exact."""
    spec = ArraySpec(4, 1, NARROW, params={"theta_hi": 3, "leak": 0}, rounding=rounding, weight_exponent=exponent)
    rng = np.random.default_rng(exponent + 7 * ROUNDING_MODES.index(rounding))
    cases = []
    for leak_mode, reset_mode, hysteresis in itertools.product((0, 1), (0, 1), (0, 1)):
        params = {"bias": int(rng.integers(-3, 4)), "decay": int(rng.choice([0, 1, 1000, 2048, 4095, 4096])),
                  "leak": int(rng.choice([0, 3, 2048, 4096])) if leak_mode == 0 else int(rng.integers(0, 8)),
                  "theta_hi": 3, "theta_lo": -2, "refractory": int(rng.integers(0, 4)), "v_reset": -1,
                  "reset_current": int(rng.integers(0, 8)), "leak_mode": leak_mode, "reset_mode": reset_mode,
                  "hysteresis": hysteresis}
        cases += every_state(spec, params, rng)
    assert run_reference(spec, cases) == golden(spec, cases)


@pytest.mark.parametrize("rounding", ROUNDING_MODES)
def test_random_cases_at_default_widths(rounding):
    spec = random_spec(64, 1, seed=11, rounding=rounding, weight_exponent=3)
    cases = rounding_cases(spec, seed=5, count=300) + directed_cases()
    assert run_reference(spec, cases) == golden(spec, cases)


def test_the_reference_is_not_a_label():
    """The two roundings' references differ on the same cases, and so do the model's: the checks above can fail."""
    floor, toward = (random_spec(64, 1, seed=11, rounding=r) for r in ROUNDING_MODES)
    cases = rounding_cases(floor, seed=9, count=100)
    assert run_reference(floor, cases) != run_reference(toward, cases)
    assert run_reference(floor, cases) != golden(toward, cases)
