"""The soak (sim/soak.py, `lapicque verify --soak`): its cases are seeded and cover every kind the RTL has, a clean
soak counts every update of every case, a seeded bug is found by a short soak and its reproducer replays the same
first mismatch through `verify`."""

import json

import pytest

from lapicque import jobs
from lapicque.sim import runner
from lapicque.sim.soak import NETWORKS, Case, draw_case, run_case
from lapicque.spec import ROUNDING_MODES

needs_verilator = pytest.mark.skipif(runner.simulator_missing("verilator") is not None,
                                     reason="Verilator is not installed")


def test_cases_are_seeded_and_cover_every_kind():
    cases = [draw_case(5, k) for k in range(80)]
    assert [c.params for c in cases] == [draw_case(5, k).params for k in range(80)]
    assert [c.params for c in cases] != [draw_case(6, k).params for k in range(80)]
    arrays = [c.params for c in cases if c.kind == "array"]
    networks = [c.params for c in cases if c.kind == "network"]
    assert len(networks) == 20 and len(arrays) == 60
    assert {p["rounding"] for p in arrays} == set(ROUNDING_MODES)
    assert {p["weight_exponent"] for p in arrays} == {0, 2}
    assert {p["backpressure"] for p in arrays} == {0.0, 0.02}
    assert {bool(p["widths"]) for p in arrays} == {False, True}
    assert {(p["network"], p.get("regime")) for p in networks} == {(n, r) for n, r, *_ in NETWORKS}
    # a case aims at its updates within one run's steps
    assert all(p["neurons"] * p["steps"] <= 2_000_000 and 100 <= p["steps"] <= 65535 for p in arrays)
    assert all(c.kind == "array" for c in (draw_case(5, k, arrays_only=True) for k in range(8)))


@needs_verilator
def test_a_clean_soak_counts_every_update_of_every_case(tmp_path):
    # seed 30's first case is a 16 x 2 array of the default widths (a build the verify tests share)
    summary = jobs.soak(soak=1e-3, seed=30, case_updates=1000, out=tmp_path / "soak")
    case = draw_case(30, 0, case_updates=1000)
    assert (case.params["neurons"], case.params["lanes"]) == (16, 2)
    assert summary["passed"] and summary["cases"] == 1 and summary["stopped"] == "time"
    assert summary["updates_checked"] == case.params["neurons"] * case.params["steps"]
    assert summary["bit_exact_mismatches"] == 0 and summary["reproducer"] is None
    lines = [json.loads(line) for line in (tmp_path / "soak" / "cases.jsonl").read_text().splitlines()]
    assert [line["updates_checked"] for line in lines] == [summary["updates_checked"]]
    assert not (tmp_path / "soak" / "cases" / "00000").exists()  # a passed case's folder is removed


@needs_verilator
@pytest.mark.slow  # the network core's own tests and `net --backend rtl`'s run the same path by default
def test_a_network_case_runs_as_net_runs_it(tmp_path):
    case = Case(3, "network", {"network": "brunel", "regime": "AI", "neurons": 40, "lanes": 2, "seed": 7,
                               "steps": 120})
    run_case(case, tmp_path / "case", "verilator", None)
    assert case.passed and case.bit_exact_mismatches == 0 and case.updates_checked == 120 * 50


@needs_verilator
def test_a_seeded_bug_is_found_and_its_reproducer_replays_it(tmp_path):
    # seed 14's first case: a 16 x 2 array with back-pressure
    summary = jobs.soak(soak=600, seed=14, case_updates=2000, inject_bug="threshold_strict", out=tmp_path / "soak")
    assert not summary["passed"] and summary["stopped"] == "failure" and summary["bit_exact_mismatches"] > 0
    found = summary["reproducer"]
    assert found["first_mismatch"] is not None and found["step"] == found["first_mismatch"]["step"]
    assert (tmp_path / "soak" / "reproducer" / "reproducer.json").exists()
    replay = found["replay"]
    again = jobs.verify(spec=replay["spec"], steps=replay["steps"], seed=replay["seed"],
                        backpressure=replay["backpressure"], inject_bug=replay["inject_bug"])
    assert not again["passed"] and again["first_mismatch"] == found["first_mismatch"]
    # the same case on the correct RTL passes: what the soak found is the bug
    clean = jobs.verify(spec=replay["spec"], steps=replay["steps"], seed=replay["seed"],
                        backpressure=replay["backpressure"])
    assert clean["passed"]
