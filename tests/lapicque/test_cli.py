"""The command line as a user meets it: exit codes, one-line errors, the summary file."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lapicque.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lapicque", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize(("args", "message"), [
    (["verify", "--neurons", "64", "--lanes", "3"],
     "neurons = 64 is not a multiple of lanes = 3; choose lanes that divide neurons"),
    (["verify", "--spec", "missing.toml"], "cannot read spec file missing.toml"),
    (["verify", "--sim", "modelsim"], "unknown simulator 'modelsim'; choose one of verilator, icarus"),
    (["verify", "--steps", "0"], "argument --steps: 0 must be at least 1"),
    (["verify", "--steps", "70000"], "--steps = 70000 is out of range; allowed 1..65535"),
    (["verify", "--backpressure", "1.5"], "--backpressure = 1.5 is out of range; allowed 0 <= p < 1"),
    (["verify", "--spec", "examples/hysteresis.toml", "--neurons", "8"], "give either --spec or --neurons, not both"),
    (["verify", "--inject-bug", "nonsense"], "--inject-bug must be one of refractory_off_by_one, threshold_strict"),
    (["verify", "--soak", "0"], "argument --soak: 0 must be a duration above 0"),
    (["verify", "--soak", "ten"], "'ten' is not a duration; give seconds, or a time such as 90s, 10m, 8h"),
    (["verify", "--soak", "nan"], "argument --soak: nan must be a duration above 0"),
    (["verify", "--soak", "10m", "--neurons", "8"], "--neurons describes one run; a soak draws its own arrays"),
    (["verify", "--soak", "10m", "--backpressure", "0"], "--backpressure describes one run"),
    (["verify", "--soak", "10m", "--steps", "100"], "--steps describes one run"),
    (["verify", "--soak", "1h", "--inject-bug", "nonsense"], "--inject-bug must be one of refractory_off_by_one"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run", "--board", "icebreaker", "--port", "/dev/lapicque-none"], "cannot open /dev/lapicque-none"),
    (["run", "--board", "icebreaker", "--port", "x", "--watch", "1,a"], "--watch takes neuron numbers"),
    (["run", "--board", "icebreaker", "--port", "x", "--watch", "300"],
     "--watch neuron 300 is out of range; the array has 256 neurons"),
    (["run", "--board", "nope", "--port", "x"], "unknown board 'nope'"),
    (["lca", "--lam", "-0.5"], "--lam = -0.5 must be a finite number >= 0"),
    (["lca", "--lam", "nan"], "--lam = nan must be a finite number >= 0"),
    (["lca", "--backend", "gpu"], "unknown backend 'gpu'; choose one of float, fixed, rtl"),
    (["lca", "--problem", "spirals"], "unknown problem 'spirals'"),
    (["lca", "--weight-bits", "3"], "--weight-bits = 3 leaves a threshold of 3 codes; use more weight bits"),
    (["lca", "--weight-bits", "20"], "--weight-bits = 20 is out of range; allowed 2..16"),
    (["lca", "--dictionary", "missing.npy", "--signal", "missing.npy"], "--dictionary missing.npy: no such file"),
    (["lca", "--dictionary", "missing.npy"], "give both --dictionary D.npy and --signal y.npy"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = run_cli(*args, "--out", str(tmp_path / "o")) if args[0] in ("verify", "run", "lca") else run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lapicque: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize(("dictionary", "signal", "message"), [
    (np.eye(4), np.ones(3), "dictionary has 4 rows but the signal has 3 samples"),
    (np.eye(4), np.array([1.0, np.inf, 0.0, 0.0]), "the signal holds non-finite or non-numeric values"),
    (np.eye(4) * 3, np.ones(4), "dictionary column 0 has norm 3, not 1; normalise the atoms first"),
    (np.eye(4), "not an array", "--signal"),
])
def test_bad_user_problem_is_one_line_and_exit_2(dictionary, signal, message, tmp_path):
    np.save(tmp_path / "D.npy", dictionary)
    if isinstance(signal, str):
        (tmp_path / "y.npy").write_text(signal)
    else:
        np.save(tmp_path / "y.npy", signal)
    result = run_cli("lca", "--dictionary", str(tmp_path / "D.npy"), "--signal", str(tmp_path / "y.npy"),
                     "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "o").exists()


def test_lca_cli_writes_the_summary(tmp_path):
    out = tmp_path / "lca"
    result = run_cli("lca", "--problem", "random", "--atoms", "32", "--dim", "16", "--sparsity", "2", "--seed", "3",
                     "--steps", "500", "--backend", "fixed", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["backend"] == "fixed" and summary["timesteps"] == 500
    assert f"{summary['rel_gap']:.2e}" in result.stdout


def test_bad_spec_file_gives_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text("neurons = 8\n[widths]\nv = 99\n")
    result = run_cli("verify", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.strip() == "lapicque: error: widths.v = 99 is out of range; allowed 4..32"


def test_verify_passes_and_writes_the_summary(tmp_path):
    out = tmp_path / "v"
    code = main(["verify", "--neurons", "16", "--lanes", "2", "--steps", "60", "--seed", "5", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] and summary["steps"] == 60 and summary["neurons"] == 16


def test_relative_out_folder_from_another_directory(tmp_path):
    result = run_cli("verify", "--neurons", "16", "--lanes", "2", "--steps", "20", "--out", "rel/run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "rel" / "run" / "summary.json").read_text())["passed"]


def test_failing_verification_exits_1_and_names_the_mismatch(tmp_path, capsys):
    out = tmp_path / "bug"
    code = main(["verify", "--neurons", "16", "--lanes", "2", "--steps", "200", "--seed", "6",
                 "--inject-bug", "refractory_off_by_one", "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    m = summary["first_mismatch"]
    assert f"step {m['step']}, neuron {m['neuron']}, field ref: expected {m['expected']}, got {m['got']}" in printed


def test_a_spec_file_lanes_give_way_to_the_option():
    """--lanes overrides the spec's own (the option reaching the job is test_commands' check)."""
    from lapicque.jobs.verify import array_spec

    spec = array_spec("examples/hysteresis.toml", None, 4, 0)
    assert spec.lanes == 4 and spec.neurons == 16 and array_spec("examples/hysteresis.toml", None, None, 0).lanes == 2


@pytest.mark.slow  # builds a configuration no other test needs (50 s); the override itself is checked above
def test_spec_file_with_lane_override(tmp_path):
    out = tmp_path / "h"
    code = main(["verify", "--spec", "examples/hysteresis.toml", "--lanes", "4", "--steps", "50", "--out", str(out)])
    assert code == 0
    assert json.loads((out / "summary.json").read_text())["lanes"] == 4


def test_fi_writes_rates_closed_form_and_plot(tmp_path):
    out = tmp_path / "fi"
    assert main(["fi", "--model", "lif", "--currents", "0:800:9", "--duration", "500", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["currents"] == [0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0]
    assert np.allclose(summary["rates_hz"], summary["closed_form_rates_hz"], rtol=1e-9)
    assert summary["rheobase"] == 400.0 and summary["rates_hz"][-1] > 100
    from PIL import Image

    assert Image.open(out / "fi.png").size[0] > 300


def assert_bad_input(args, message, tmp_path, capsys):
    """In-process: exit 2, one line on stderr naming the problem, no summary written."""
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["fi", "--model", "hh"], "unknown model 'hh'"),
    (["fi", "--param", "tau=3"], "lif: unknown parameter 'tau'"),
    (["fi", "--param", "tau_m"], "--param 'tau_m' must be NAME=NUMBER"),
    (["fi", "--currents", "5:1"], "--currents '5:1' must be LOW:HIGH:COUNT"),
    (["fi", "--currents", "5:1:10"], "need finite LOW < HIGH"),
    (["fi", "--dt", "0"], "dt = 0.0 ms must be a positive number"),
    (["fi", "--duration", "100"], "must exceed the 200 ms transient"),
])
def test_fi_bad_input(args, message, tmp_path, capsys):
    assert_bad_input(args, message, tmp_path, capsys)


@pytest.mark.parametrize(("args", "message"), [
    (["net", "lattice", "--connectivity", "procedural"], "the lattice's connectivity is its geometry"),
    (["net", "cuba", "--connectivity", "ring"], "argument --connectivity: invalid choice: 'ring'"),
])
def test_net_connectivity_bad_input(args, message, tmp_path, capsys):
    assert_bad_input(args, message, tmp_path, capsys)


def test_net_job_names_an_unknown_connectivity():
    from lapicque import jobs
    from lapicque.errors import LapicqueError

    with pytest.raises(LapicqueError, match="unknown connectivity 'ring'; choose one of random, procedural"):
        jobs.net(network="brunel", connectivity="ring")


def test_net_cuba_writes_the_summary_and_raster(tmp_path):
    out = tmp_path / "cuba"
    assert main(["net", "cuba", "--duration", "0.2", "--neurons", "1000", "--seed", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("neurons", "synapses", "duration_s", "spikes", "mean_rate_hz", "mean_cv", "wall_s"):
        assert key in summary
    assert summary["neurons"] == 1000 and summary["duration_s"] == 0.2
    assert summary["mean_rate_hz"] == pytest.approx(summary["spikes"] / 1000 / 0.2)
    from PIL import Image

    assert Image.open(out / "raster.png").size[0] > 300


@pytest.mark.parametrize(("args", "message"), [
    (["net", "hopfield"], "unknown network 'hopfield'; choose one of cuba, brunel, lattice"),
    (["net", "brunel", "--regime", "XX"], "unknown regime 'XX'"),
    (["net", "cuba", "--duration", "0"], "--duration 0.0 s is out of range"),
    (["net", "cuba", "--neurons", "1"], "--neurons = 1 is too small"),
])
def test_net_bad_input(args, message, tmp_path, capsys):
    assert_bad_input(args, message, tmp_path, capsys)


def test_fi_with_noise_adds_siegert_simulation_and_linear_response(tmp_path):
    out = tmp_path / "fin"
    assert main(["fi", "--model", "lif", "--sigma", "4", "--currents", "200:600:3", "--duration", "400",
                 "--dt", "0.1", "--out", str(out)]) == 0
    noise = json.loads((out / "summary.json").read_text())["noise"]
    from lapicque.golden.analysis import lif_linear_response, siegert_rate

    # 400 pA into R = 10 / 250 GOhm: mu = 16 mV above rest, threshold 15, reset 0 (relative to E_L)
    assert noise["mu_mv"] == pytest.approx([8.0, 16.0, 24.0])
    assert noise["siegert_rates_hz"][1] == pytest.approx(siegert_rate(16.0, 4.0, 10.0, 15.0, 0.0, 2.0))
    assert noise["response_gain_hz_per_mv"][0] == pytest.approx(abs(lif_linear_response(1.0, 16.0, 4.0, 10.0, 15.0,
                                                                                        0.0, 2.0)))
    # noise lets the subthreshold current fire (8 mV < 15), and the simulated rates follow Siegert from
    # below: at dt = 0.1 ms the grid misses crossings, most in relative terms where firing is rare (the
    # bias-free comparison is tests/golden/test_analysis.py); here a plotting run, so only the shape
    assert noise["simulated_rates_hz"][0] > 0
    assert all(s < t for s, t in zip(noise["simulated_rates_hz"], noise["siegert_rates_hz"], strict=True))
    assert np.allclose(noise["simulated_rates_hz"], noise["siegert_rates_hz"], rtol=0.25)
    from PIL import Image

    assert Image.open(out / "noise.png").size[0] > 600


def test_fi_sigma_needs_the_lif(tmp_path, capsys):
    assert main(["fi", "--model", "eif", "--sigma", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--sigma needs --model lif" in capsys.readouterr().err


def test_tem_float_writes_the_summary(tmp_path):
    out = tmp_path / "tem"
    assert main(["tem", "--signal", "multitone", "--bandwidth", "100", "--duration", "0.2", "--neuron", "leaky",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["neuron"]["kind"] == "leaky" and summary["neuron"]["R"] == 10.0
    assert summary["recoverable"]["satisfied"] and summary["snr_db"] > 41
    assert (out / "tem.png").exists() and (out / "signal.npz").exists()


def test_tem_warns_when_the_recovery_condition_fails(tmp_path, capsys):
    assert main(["tem", "--delta", "1.5", "--decoder", "sinc", "--out", str(tmp_path / "t")]) == 0
    assert "the recovery condition fails" in capsys.readouterr().out
    assert json.loads((tmp_path / "t" / "summary.json").read_text())["recovery_warning"]


@pytest.mark.parametrize(("args", "message"), [
    (["tem", "--signal", "missing.wav"], "--signal missing.wav: no such file"),
    (["tem", "--bias", "0.5"], "the encoder cannot fire for every signal with |u| <= 1: it needs b > 1"),
    (["tem", "--neuron", "leaky", "--bias", "1.05"], "it needs R (b - 1) > delta"),
    (["tem", "--neuron", "leaky", "--backend", "fixed", "--step-us", "1"], "too slow for the array's 12-bit leak"),
    (["tem", "--decoder", "vandermonde", "--neuron", "leaky"], "the vandermonde decoder takes one ideal encoder"),
    (["tem", "--decoder", "fourier"], "unknown decoder 'fourier'"),
    (["tem", "--bandwidth", "-3"], "argument --bandwidth: -3 is out of range; allowed 0.001 to 100000"),
    (["tem", "--delta", "nan"], "delta = nan must be a positive number"),
    (["tem", "--block", "0.01", "--overlap", "0.01"], "--block = 0.01 s must exceed twice the overlap"),
])
def test_tem_bad_input(args, message, tmp_path, capsys):
    assert_bad_input(args, message, tmp_path, capsys)


def test_tem_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....not a wave")
    assert_bad_input(["tem", "--signal", str(bad)], f"--signal {bad}: not a readable WAV file", tmp_path, capsys)
    wide = tmp_path / "wide.npy"
    t = np.arange(1000) / 1000.0
    np.save(wide, np.sin(2 * np.pi * 300 * t))
    assert_bad_input(["tem", "--signal", str(wide), "--rate", "1000"], "of its energy lies above --bandwidth",
                     tmp_path, capsys)
    assert_bad_input(["tem", "--signal", str(wide)], "a .npy signal needs its sample rate", tmp_path, capsys)
    assert_bad_input(["tem", "--signal", str(wide), "--rate", "150"], "its sample rate 150 Hz cannot carry",
                     tmp_path, capsys)


def test_density_writes_rates_stationary_state_and_monte_carlo(tmp_path):
    out = tmp_path / "fp"
    assert main(["density", "--mu", "1.2", "--sigma", "0.5", "--coupling", "0.5", "--duration", "0.1",
                 "--t-ref", "2", "--monte-carlo", "2000", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["blow_up"] is None and s["max_mass_error_per_step"] < 1e-10
    assert abs(s["stationary_vs_siegert"]) < 0.01
    assert s["final_rate_hz"] == pytest.approx(s["stationary_rate_hz"], rel=0.01)
    assert s["monte_carlo"]["bins"] > 50
    from PIL import Image

    assert Image.open(out / "density.png").size[0] > 300


def test_density_reports_a_blow_up(tmp_path, capsys):
    out = tmp_path / "fp"
    assert main(["density", "--coupling", "1.5", "--duration", "0.1", "--out", str(out)]) == 0
    assert "blow-up at" in capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    assert s["blow_up"]["time_ms"] < 50 and s["stationary_rate_hz"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["density", "--sigma", "-0.5"], "argument --sigma: -0.5 is out of range; allowed 0.001 to 100"),
    (["density", "--mu", "nan"], "argument --mu: nan is out of range; allowed -100 to 100"),
    (["density", "--dt", "0"], "--dt = 0.0 ms must be positive"),
    (["density", "--duration", "-1"], "--duration must be positive"),
    (["density", "--init", "uniform"], "unknown initial density 'uniform'"),
    (["density", "--monte-carlo", "-5"], "argument --monte-carlo: -5 is out of range; allowed 0..1,000,000"),
    (["density", "--t-ref", "0.03"], "--t-ref = 0.03 ms must be a whole number of --dt = 0.02 ms steps"),
])
def test_density_bad_input(args, message, tmp_path, capsys):
    assert_bad_input(args, message, tmp_path, capsys)


def test_fit_synthetic_recovers_and_exports(tmp_path):
    out = tmp_path / "fit"
    assert main(["fit", "--synthetic", "20", "--repeats", "3", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    for key in ("C_pF", "g_L_nS", "E_L_mV", "V_T_mV", "Delta_V_mV"):
        assert abs(s["params"][key] - s["true"][key]) < 4 * s["stderr"][key], key
    assert s["variance_explained_v"] > 0.95 and 0.3 < s["coincidence_factor"] <= 1.0
    assert s["export"]["codes"]["refractory"] == 40
    assert (out / "fit.png").exists()


def test_fit_bad_input(tmp_path, capsys):
    np.save(tmp_path / "I.npy", np.zeros(1000))
    np.save(tmp_path / "V.npy", np.zeros(999))
    np.save(tmp_path / "N.npy", np.array([0.0, np.nan] * 500))
    np.save(tmp_path / "M.npy", np.zeros((10, 100)))
    np.savez(tmp_path / "r.npz", current=np.zeros(10), voltage=np.zeros(10), dt=0.1)
    i, v = str(tmp_path / "I.npy"), str(tmp_path / "V.npy")
    cases = [
        (["fit", "--current", i, "--voltage", v, "--dt", "0.1"], "--current has 1000 samples but --voltage has 999"),
        (["fit", "--current", i, "--voltage", str(tmp_path / "N.npy"), "--dt", "0.1"], "--voltage: contains NaN"),
        (["fit", "--current", str(tmp_path / "M.npy"), "--voltage", v, "--dt", "0.1"], "expected 1-D numeric samples"),
        (["fit", "--current", i, "--voltage", i], "give --dt, the sample interval in ms"),
        (["fit", "--current", str(tmp_path / "r.npz"), "--dt", "0.2"], "--dt 0.2 ms does not match the recording's"),
        (["fit", "--current", i, "--voltage", i, "--dt", "-1"], "argument --dt: -1 is out of range; allowed 1e-06 to "
                                                                "100"),
        (["fit", "--current", i, "--voltage", i, "--dt", "0.1"], "the recording has 0 spikes above 0.0 mV"),
        (["fit", "--current", str(tmp_path / "missing.npy"), "--voltage", v, "--dt", "0.1"], "no such file"),
        (["fit", "--synthetic", "5", "--model", "hh"], "unknown model 'hh'"),
        (["fit"], "give --current I.npy --voltage V.npy --dt MS"),
    ]
    for args, message in cases:
        assert_bad_input(args, message, tmp_path, capsys)


def test_tem_report_option_writes_the_page(tmp_path):
    out = tmp_path / "tem"
    assert main(["tem", "--duration", "0.1", "--decoder", "sinc", "--out", str(out), "--report"]) == 0
    page = (out / "report.html").read_text()
    assert "data-check='recoverable'" in page and "data-passed='true'" in page


@pytest.mark.parametrize(("args", "message"), [
    (["net", "cuba", "--seed", "-1"], "argument --seed: -1 is out of range; a seed is a whole number from 0 to"),
    (["lca", "--seed", "99999999999"], "a seed is a whole number from 0 to 4294967295"),
    (["build", "--board", "icebreaker", "--clock", "0"], "argument --clock: 0 must be a finite number above 0"),
    (["tem", "--grid-us", "0"], "argument --grid-us: 0 must be a finite number above 0"),
    (["tem", "--step-us", "nan"], "argument --step-us: nan must be a finite number above 0"),
])
def test_numbers_out_of_range_are_refused_by_the_parser(args, message, tmp_path, capsys):
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [["fi"], ["net", "cuba"], ["density"], ["fit", "--synthetic", "5"], ["lca"],
                                     ["tem"], ["verify"], ["build", "--board", "icebreaker"]])
def test_an_out_that_cannot_be_a_folder_is_refused_before_any_work(command, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for out, message in ((blocker, "exists and is not a folder"), (blocker / "sub", "is a file, not a folder")):
        started = time.perf_counter()
        assert main([*command, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and time.perf_counter() - started < 5
    assert blocker.read_text() == "not a folder" and list(tmp_path.iterdir()) == [blocker]


def test_an_unexpected_exception_is_one_line_naming_a_log_and_exit_3(tmp_path, monkeypatch, capsys):
    from lapicque.commands import fi

    def broken(**kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    broken.__signature__ = __import__("inspect").signature(fi.job)
    monkeypatch.setattr(fi, "job", broken)
    assert main(["fi", "--out", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error: ZeroDivisionError: division by zero; this is a bug" in err[0]
    log = Path(err[0].rsplit(" ", 1)[1])
    text = log.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text and "command line: lapicque fi --out" in text
    log.unlink()


def test_an_array_far_too_big_for_the_board_is_refused_at_once(tmp_path, capsys):
    """65536 neurons: a dense weight matrix would take 34 GB; the fit estimate answers first."""
    started = time.perf_counter()
    assert main(["build", "--board", "ulx3s-85f", "--neurons", "65536", "--lanes", "4", "--out",
                 str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "65536 neurons x 4 lane(s) does not fit ulx3s-85f" in err[0]
    assert "the largest that fits with 4 lane(s)" in err[0] and time.perf_counter() - started < 5


@pytest.mark.parametrize(("args", "message"), [
    (["fi", "--dt", "1e-9"], "duration / dt = 1e+12 steps; allowed 1 to 50,000,000: raise dt or shorten the duration"),
    (["net", "cuba", "--dt", "1e308"], "--dt 1e+308 ms is out of range; allowed 0.001 to 1 ms"),
    (["net", "cuba", "--dt", "1e-9"], "--dt 1e-09 ms is out of range"),
    (["density", "--dt", "1e-9"], "--duration / --dt = 5e+11 steps; allowed 1 to 10,000,000"),
    (["tem", "--grid-us", "1e-6"], "--grid-us 1e-06 makes 200,000,000,000 samples of 0.2 s"),
    (["tem", "--backend", "fixed", "--step-us", "1e9"], "--step-us 1e+09 makes 0 samples of 0.2 s"),
])
def test_step_counts_are_bounded(args, message, tmp_path, capsys):
    """A typo in a time step must not run for hours: refused at once."""
    started = time.perf_counter()
    assert_bad_input(args, message, tmp_path, capsys)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(("args", "message"), [
    (["fi", "--param", "c_m=0"], "lif: parameter c_m = 0.0 must be above 0"),
    (["fi", "--param", "tau_m=nan"], "lif: parameter tau_m = nan must be a finite number"),
    (["fi", "--param", "t_ref=-1"], "lif: parameter t_ref = -1.0 must be 0 or more"),
    (["density", "--cells", "100000000"], "argument --cells: 100000000 is out of range; allowed 10..20,000"),
    (["density", "--coupling", "1e308"], "argument --coupling: 1e308 is out of range"),
    (["lca", "--atoms", "100000000"], "argument --atoms: 100000000 is out of range; allowed 1..4,096"),
    (["lca", "--dim", "100000000"], "argument --dim: 100000000 is out of range"),
    (["tem", "--tones", "100000000"], "argument --tones: 100000000 is out of range; allowed 1..1,000"),
    (["tem", "--encoders", "100000"], "argument --encoders: 100000 is out of range; allowed 1..256"),
    (["tem", "--bandwidth", "1e12"], "argument --bandwidth: 1e12 is out of range"),
    (["fit", "--synthetic", "1e9"], "argument --synthetic: 1e9 is out of range; allowed 0.1 to 600"),
    (["net", "cuba", "--neurons", "100000000"], "argument --neurons: 100000000 is out of range; allowed 1..50,000"),
    (["verify", "--neurons", "100000"], "argument --neurons: 100000 is out of range; allowed 1..8,192"),
])
def test_sizes_and_magnitudes_have_documented_maxima(args, message, tmp_path, capsys):
    """Each of these once ran out of memory, divided by zero or ran until killed (issue 16)."""
    started = time.perf_counter()
    assert_bad_input(args, message, tmp_path, capsys)
    assert time.perf_counter() - started < 10


def test_bad_samples_are_named_for_what_they_are(tmp_path, capsys):
    from scipy.io import wavfile

    wav = tmp_path / "nan.wav"
    wavfile.write(wav, 8000, np.array([0.0, np.nan, 0.5] * 1000, dtype=np.float32))
    assert_bad_input(["tem", "--signal", str(wav)], "the WAV file holds NaN or infinite samples", tmp_path, capsys)
    np.savez(tmp_path / "D.npz", a=np.eye(4), b=np.ones(4))
    np.save(tmp_path / "y.npy", np.ones(4))
    assert_bad_input(["lca", "--dictionary", str(tmp_path / "D.npz"), "--signal", str(tmp_path / "y.npy")],
                     "an .npz archive of 2 arrays; give one .npy array", tmp_path, capsys)


def test_library_warnings_never_break_the_one_line_error(tmp_path, capsys, monkeypatch):
    import warnings

    from lapicque.commands import fi
    from lapicque.errors import LapicqueError

    def noisy(**kwargs):
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
        raise LapicqueError("the real problem")

    noisy.__signature__ = __import__("inspect").signature(fi.job)
    monkeypatch.setattr(fi, "job", noisy)
    assert main(["fi", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["lapicque: error: the real problem"]
