"""A run owns its output folder: one run at a time, nothing stale passes for its results, an interrupted run
stops every process it started and leaves a folder that `report` refuses."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from lapicque.cli import main
from lapicque.errors import LapicqueError
from lapicque.report import load_run
from lapicque.runfolder import LOCK, MARKER, RunFolder


def assert_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "fi"
    with RunFolder(out, "test"):
        assert_one_line_exit_2(["fi", "--currents", "0:500:3", "--duration", "300", "--out", str(out)],
                               "is in use by another lapicque run", capsys)
        assert not (out / "summary.json").exists()
    assert main(["fi", "--currents", "0:500:3", "--duration", "300", "--out", str(out)]) == 0
    assert json.loads((out / MARKER).read_text())["state"] == "complete"
    assert load_run(out).kind == "fi"


def test_a_failed_run_leaves_nothing_that_passes_for_its_result(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"currents": [0], "rates_hz": [0], "rheobase": None}))
    with pytest.raises(RuntimeError), RunFolder(out, "test"):
        raise RuntimeError("the simulator died")
    assert not (out / "summary.json").exists()  # the previous run's summary went when this one started
    marker = json.loads((out / MARKER).read_text())
    assert marker["state"] == "failed" and "the simulator died" in marker["reason"]
    (out / "summary.json").write_text(json.dumps({"currents": [0], "rates_hz": [0], "rheobase": None}))
    with pytest.raises(LapicqueError, match="was left by a run that did not finish .failed."):
        load_run(out)


def live_children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def interrupt_when(argv, ready, sig, cwd: Path, timeout_s: float = 300.0):
    """Start `lapicque ARGV`, wait until `ready(children)` holds, send `sig`; returns the exit status,
    stderr and the processes it had started."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}  # as a user runs it, not pytest
    proc = subprocess.Popen([sys.executable, "-m", "lapicque", *argv], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + timeout_s
    children = []
    while time.monotonic() < deadline and proc.poll() is None:
        children = live_children(proc.pid)
        if ready(children):
            break
        time.sleep(0.2)
    assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, children


def names(children):
    found = []
    for child in children:
        try:
            found.append(" ".join(child.cmdline()))
        except psutil.NoSuchProcess:
            pass
    return found


def assert_all_gone(children):
    gone, alive = psutil.wait_procs(children, timeout=5)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still running after the interrupt: {names(alive)}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_verify_stops_the_simulator(tmp_path, sig):
    out = tmp_path / "v"
    argv = ["verify", "--neurons", "16", "--lanes", "2", "--steps", "60000", "--out", str(out)]

    def simulating(children):  # the compiled testbench running, its first transfers recorded
        return "lapicque_tb" in " ".join(names(children)) and (out / "sim" / "monitor.rec").exists()

    status, err, children = interrupt_when(argv, simulating, sig, tmp_path)
    assert status == 130 and err.strip().splitlines() == ["lapicque: interrupted"]
    assert_all_gone(children)
    time.sleep(2)  # nothing writes into the folder after the run has ended
    assert {p.name for p in out.iterdir()} == {MARKER, LOCK}  # no file of the interrupted run survives
    assert json.loads((out / MARKER).read_text())["state"] == "interrupted"
    result = subprocess.run([sys.executable, "-m", "lapicque", "report", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "did not finish (interrupted)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (out / "report.html").exists()


def test_interrupting_a_build_stops_the_fpga_tools(tmp_path):
    out = tmp_path / "b"
    argv = ["build", "--board", "icebreaker", "--neurons", "16", "--lanes", "1", "--out", str(out)]
    status, err, children = interrupt_when(argv, lambda c: any("yowasp" in n for n in names(c)), signal.SIGINT,
                                           tmp_path)
    assert status == 130
    assert_all_gone(children)
    assert {p.name for p in out.iterdir()} == {MARKER, LOCK}
    assert json.loads((out / MARKER).read_text())["state"] == "interrupted"


def test_summaries_are_strict_json(tmp_path):
    """NaN and infinities have no JSON form: they are written as null, which every report check fails."""
    from lapicque.files import write_json
    from lapicque.report import render

    write_json(tmp_path / "x.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32("nan")})
    assert json.loads((tmp_path / "x.json").read_text(), parse_constant=lambda name: pytest.fail(name)) == {
        "a": None, "b": [1.0, None], "c": None}
    run = tmp_path / "fi"
    run.mkdir()
    write_json(run / "summary.json", {"currents": [0.0, 1.0], "rates_hz": [0.0, float("nan")], "rheobase": None,
                                      "closed_form_rates_hz": None, "model": "lif", "method": "exact",
                                      "equations": "", "params": {}, "dt_ms": 0.1, "duration_ms": 300.0})
    assert "id='verdict' data-passed='false'" in render([load_run(run)])


def test_bad_input_found_late_leaves_the_previous_run_as_it_was(tmp_path, capsys):
    """--steps 70000 is checked by the simulation layer, after the folder is taken: the previous run's results
    come back untouched."""
    out = tmp_path / "v"
    assert main(["verify", "--neurons", "16", "--lanes", "2", "--steps", "20", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != ".lapicque.lock"}
    assert_one_line_exit_2(["verify", "--neurons", "16", "--lanes", "2", "--steps", "70000", "--out", str(out)],
                           "--steps = 70000 is out of range", capsys)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != ".lapicque.lock"}
    assert after == before and load_run(out).kind == "verify"
    fresh = tmp_path / "new"
    assert_one_line_exit_2(["verify", "--steps", "70000", "--out", str(fresh)], "--steps = 70000 is out of range",
                           capsys)
    assert not fresh.exists()  # a folder this run made is gone again
