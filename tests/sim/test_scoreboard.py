"""The scoreboard on model-made records: silent when they are right, precise when they are not."""

import numpy as np
import pytest

from lapicque.golden import ArrayModel
from lapicque.sim.scoreboard import FIELDS, Scoreboard
from lapicque.sim.stimulus import external_input, initial_state
from lapicque.spec import random_spec


@pytest.fixture(scope="module")
def run():
    spec = random_spec(32, 2, seed=11)
    state = initial_state(spec, 11)
    ext = external_input(spec, 120, 11)
    trace = ArrayModel(spec, state=state).run(ext)
    return spec, state, ext, trace


def check(spec, state, ext, trace, corrupt=None, chunks=()):
    """The scoreboard over the records; the float check run after each step in `chunks` too (as the checker runs
    it while records come), and at the end."""
    sb = Scoreboard(spec, state, len(ext))
    for t in range(len(ext)):
        rec = {f: np.array(trace[f][t], dtype=np.int64) for f in FIELDS}
        if corrupt:
            corrupt(t, rec)
        sb.check_step(rec, ext[t])
        if t in chunks:
            sb.finish(ext)
    sb.finish(ext)
    return sb


def test_the_float_check_in_chunks_is_the_float_check_at_once(run):
    def corrupt(t, rec):  # float-bound violations in several chunks (and a first one to find)
        if t in (17, 40, 41, 90):
            rec["v"][3 + t % 5] += 400

    whole = check(*run, corrupt=corrupt)
    chunked = check(*run, corrupt=corrupt, chunks=(0, 16, 17, 39, 63, 100))
    assert whole.float_bound_violations > 0
    for name in ("float_bound_violations", "threshold_straddles", "max_float_error_lsb", "rest", "edges"):
        assert getattr(chunked, name) == getattr(whole, name), name
    assert chunked.first_float_violation == whole.first_float_violation
    assert chunked.first_float_violation.step == 17


def test_correct_records_pass_both_checks(run):
    sb = check(*run)
    assert sb.bit_exact_mismatches == 0 and sb.float_bound_violations == 0
    assert sb.first_mismatch is None and sb.first_float_violation is None
    assert 0 < sb.max_float_error_lsb < sb.float_bound_lsb
    assert sb.updates_checked == 32 * 120
    cov = sb.coverage()
    assert cov["spike"] == int(run[3]["spike"].sum())


def test_a_wrong_field_is_located(run):
    def corrupt(t, rec):
        if t == 40:
            rec["ref"][7] += 1

    sb = check(*run, corrupt=corrupt)
    m = sb.first_mismatch
    assert (m.step, m.neuron, m.field) == (40, 7, "ref")
    assert m.got == m.expected + 1


def test_float_check_flags_a_current_off_by_two_lsb(run):
    spec, state, ext, trace = run

    def corrupt(t, rec):
        if t == 30:
            rec["i"][5] += 2

    sb = check(spec, state, ext, trace, corrupt=corrupt)
    v = sb.first_float_violation
    assert (v.step, v.neuron, v.field) == (30, 5, "i")
    assert sb.float_bound_violations >= 1


def test_float_check_flags_a_spike_far_from_threshold(run):
    spec, state, ext, trace = run
    t, n = next((t, n) for t in range(50, 120) for n in range(32)
                if not trace["spike"][t][n] and trace["v"][t][n] < spec.params["theta_hi"][n] - 100
                and trace["ref"][t][n] == 0 and spec.params["hysteresis"][n] == 0)

    def corrupt(step, rec):
        if step == t:
            rec["spike"][n] = 1

    sb = check(spec, state, ext, trace, corrupt=corrupt)
    assert sb.first_float_violation.step == t and sb.first_float_violation.neuron == n
