"""Every command's job, called from Python with the command's options, gives the command's summary."""

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from lapicque import jobs
from lapicque.cli import main

# what differs between two runs of the same job: clocks, dates and the folders it wrote to
TIMES = {"wall_s", "build_s", "decode_s", "reference_wall_s", "run_s", "checked_updates_per_s", "build_cached",
         "provenance", "simulate_s", "encode_s", "sim_wall_s", "model_wait_s", "setup_s", "compare_s", "time_split",
         "checking"}


def comparable(value, folder: Path | None = None):
    """`value` without timings, with the run folder's path replaced by a placeholder."""
    if isinstance(value, dict):
        return {k: comparable(v, folder) for k, v in value.items() if k not in TIMES and not k.endswith("_wall_s")}
    if isinstance(value, list):
        return [comparable(v, folder) for v in value]
    if isinstance(value, str) and folder is not None:
        return value.replace(str(folder.resolve()), "OUT").replace(str(folder), "OUT")
    return value


def command_summary(argv: list[str], out: Path, file: str = "summary.json") -> dict:
    assert main([*argv, "--out", str(out)]) in (0, 1)
    return comparable(json.loads((out / file).read_text()), out)


def test_fi(tmp_path):
    cli = command_summary(["fi", "--model", "qif", "--currents", "0:400:5", "--duration", "400", "--param",
                           "k=0.9"], tmp_path / "c")
    job = jobs.fi(model="qif", currents=np.linspace(0, 400, 5), duration=400.0, params={"k": 0.9})
    assert comparable(job) == cli and job["params"]["k"] == 0.9


def test_fi_writes_the_commands_files_only_when_given_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs.fi(model="lif", currents=[0.0, 500.0], duration=300.0)
    assert list(tmp_path.iterdir()) == []
    jobs.fi(model="lif", currents=[0.0, 500.0], duration=300.0, out=tmp_path / "o")
    written = {p.name for p in (tmp_path / "o").iterdir() if not p.name.startswith(".")}  # but the run's marker
    assert written == {"summary.json", "fi.png"}


def test_net(tmp_path):
    cli = command_summary(["net", "cuba", "--neurons", "400", "--duration", "0.2", "--seed", "3"], tmp_path / "c")
    assert comparable(jobs.net(network="cuba", neurons=400, duration=0.2, seed=3)) == cli


def test_net_fixed_on_cuba_and_on_a_network_file(tmp_path):
    cli = command_summary(["net", "cuba", "--backend", "fixed", "--scale", "0.05", "--duration", "0.05"],
                          tmp_path / "c")
    job = jobs.net(network="cuba", backend="fixed", scale=0.05, duration=0.05)
    assert comparable(job) == cli and job["neurons"] == 200 and job["connectivity"] == "procedural"
    assert job["mapping"]["tau_m_ms"]["relative_error"] == pytest.approx(0.0215, abs=1e-4) and job["spikes"] > 0
    example = "examples/networks/two-populations.toml"
    cli = command_summary(["net", example, "--backend", "fixed", "--duration", "0.05"], tmp_path / "f")
    job = jobs.net(network=example, backend="fixed", duration=0.05)
    assert comparable(job) == cli and job["populations"] == {"exc": 160, "inh": 40} and job["spikes"] > 0


def test_net_fixed_on_brunel_maps_every_quantity_and_drives_it_by_its_external_input(tmp_path):
    cli = command_summary(["net", "brunel", "--backend", "fixed", "--neurons", "80", "--duration", "0.1",
                           "--regime", "SR"], tmp_path / "b")
    job = jobs.net(network="brunel", backend="fixed", neurons=80, duration=0.1, regime="SR")
    assert comparable(job) == cli and job["network"] == "brunel-SR" and job["populations"] == {"exc": 80, "inh": 20}
    assert job["mapping"]["delay_ms"]["realised"] == pytest.approx(1.5)
    assert job["mapping"]["external_per_step"]["relative_error"] == pytest.approx(0, abs=1e-6)
    # without its external input the network would fall silent after its first spikes: at 100 x 0.1 s ...
    assert job["mean_rate_hz"] > 50 and job["saturated_updates"] == 0


def test_net_rtl_checks_every_update_and_its_report_shows_the_verdicts(tmp_path):
    from lapicque.report import write_report

    argv = ["net", "cuba", "--backend", "rtl", "--scale", "0.05", "--duration", "0.02"]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.net(network="cuba", backend="rtl", scale=0.05, duration=0.02)
    assert comparable(job) == cli and job["passed"] and job["rtl"]["bit_exact_mismatches"] == 0
    assert job["rtl"]["updates_checked"] == 200 * 200 and job["rtl"]["lanes"] == 4 and job["spikes"] > 0
    fixed = jobs.net(network="cuba", backend="fixed", scale=0.05, duration=0.02)
    assert fixed["spikes"] == job["spikes"] and fixed["mean_cv"] == job["mean_cv"]  # the same spikes
    page = write_report([tmp_path / "c"], tmp_path / "report.html").read_text()
    assert "every RTL update equals the fixed model" in page and "FAILED" not in page
    # a transfer the testbench missed, or a step whose cycles differ, fails the page whatever else it shows
    for key, bad in (("lost_beats", True), ("steps_cycles_differing", 1)):
        data = json.loads((tmp_path / "c" / "summary.json").read_text())
        data["rtl"][key] = bad
        (tmp_path / "c" / "summary.json").write_text(json.dumps(data))
        assert "FAILED" in write_report([tmp_path / "c"], tmp_path / "bad.html").read_text(), key
        data["rtl"][key] = job["rtl"][key]
        (tmp_path / "c" / "summary.json").write_text(json.dumps(data))


def test_net_rtl_on_the_serial_core_is_the_fixed_models_spikes(tmp_path):
    argv = ["net", "cuba", "--backend", "rtl", "--core", "serial", "--scale", "0.05", "--duration", "0.02"]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.net(network="cuba", backend="rtl", core="serial", scale=0.05, duration=0.02)
    assert comparable(job) == cli and job["passed"] and job["rtl"]["core"] == "serial" and job["rtl"]["lanes"] == 1
    fixed = jobs.net(network="cuba", backend="fixed", scale=0.05, duration=0.02)
    assert fixed["spikes"] == job["spikes"] > 0 and job["rtl"]["cycles_per_step"] >= 2 * 200


@pytest.mark.parametrize(("options", "message"), [
    ({"network": "lattice", "backend": "fixed"},
     "--backend fixed runs cuba, brunel (mapped to codes); lattice runs on"),
    ({"network": "brunel", "backend": "rtl"}, "the network stores 15,625,000 connections; a simulated core holds at "
                                              "most 1,000,000"),
    ({"network": "brunel", "backend": "fixed", "regime": "XX"}, "unknown regime 'XX'"),
    ({"backend": "rtl", "duration": 10.0}, "--duration 10.0 s is 100000 steps; one RTL run takes at most 65535"),
    ({"backend": "rtl", "sim": "modelsim"}, "unknown simulator 'modelsim'; choose one of verilator, icarus"),
    ({"lanes": 4}, "--lanes is for --backend rtl"),
    ({"backend": "rtl", "lanes": 3}, "the network's 4000 neurons are not a multiple of lanes = 3"),
    ({"backend": "rtl", "lanes": 5, "scale": 0.1},
     "lanes = 5: the core regenerates Bernoulli rows with lanes a power of two"),
    ({"backend": "fixed", "connectivity": "random"}, "--backend fixed runs the contract's procedural rows"),
    ({"backend": "analog"}, "unknown backend 'analog'; choose one of float, fixed, rtl"),
    ({"scale": 0.001}, "--scale 0.001 is out of range; allowed 0.01 to 4"),
    ({"scale": 0.5, "neurons": 100}, "give --scale or --neurons, not both"),
    ({"network": "brunel", "scale": 0.5}, "--scale is for cuba"),
    ({"network": "examples/networks/two-populations.toml", "neurons": 10}, "--neurons is for the named networks"),
    ({"core": "serial"}, "--core is for --backend rtl"),
    ({"backend": "rtl", "core": "systolic"}, "unknown network core 'systolic'; choose one of parallel, serial"),
    ({"backend": "rtl", "core": "serial", "lanes": 2, "scale": 0.1}, "lanes = 2: the serial core"),
    ({"network": "brunel", "backend": "rtl", "core": "serial", "neurons": 40}, "the serial core (small FPGAs) has no "
                                                                               "external Poisson input"),
])
def test_net_refuses_in_one_line_before_any_work(tmp_path, options, message):
    from lapicque.errors import LapicqueError

    with pytest.raises(LapicqueError) as error:
        jobs.net(**options, out=tmp_path / "o")
    assert message in str(error.value) and not (tmp_path / "o").exists()


def test_density(tmp_path):
    argv = ["density", "--mu", "1.1", "--duration", "0.05", "--monte-carlo", "500", "--seed", "2"]
    cli = command_summary(argv, tmp_path / "c")
    assert comparable(jobs.density(mu=1.1, duration=0.05, monte_carlo=500, seed=2)) == cli


def test_fit(tmp_path):
    cli = command_summary(["fit", "--synthetic", "8", "--repeats", "2", "--model", "lif"], tmp_path / "c")
    assert comparable(jobs.fit(synthetic=8.0, repeats=2, model="lif")) == cli


def test_fit_takes_arrays_as_well_as_files(tmp_path):
    from lapicque.fitting import synthetic_recording

    rec = synthetic_recording(8.0, 0.1, seed=1)
    np.save(tmp_path / "I.npy", rec.current)
    np.save(tmp_path / "V.npy", rec.voltage)
    from_files = jobs.fit(current=tmp_path / "I.npy", voltage=tmp_path / "V.npy", dt=0.1, model="lif", repeats=2)
    from_arrays = jobs.fit(current=rec.current, voltage=rec.voltage, dt=0.1, model="lif", repeats=2)
    assert comparable({**from_files, "source": ""}) == comparable({**from_arrays, "source": ""})


def test_tem(tmp_path):
    argv = ["tem", "--duration", "0.1", "--decoder", "sinc", "--neuron", "leaky", "--backend", "fixed", "--step-us",
            "25"]
    cli = command_summary(argv, tmp_path / "c")
    assert comparable(jobs.tem(duration=0.1, decoder="sinc", neuron="leaky", backend="fixed", step_us=25.0)) == cli


def test_lca(tmp_path):
    argv = ["lca", "--atoms", "32", "--dim", "16", "--sparsity", "2", "--steps", "300", "--weight-bits", "6"]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.lca(atoms=32, dim=16, sparsity=2, steps=300, weight_bits=6, out=tmp_path / "j")
    assert comparable(job, tmp_path / "j") == cli


def test_lca_rounding_changes_the_array_not_the_results(tmp_path):
    floor = jobs.lca(atoms=16, dim=8, sparsity=2, steps=200, rounding="floor")
    default = jobs.lca(atoms=16, dim=8, sparsity=2, steps=200)
    assert (floor["rounding"], default["rounding"]) == ("floor", "toward_zero")
    assert floor["rel_gap"] == default["rel_gap"] and floor["spikes"] == default["spikes"]
    assert main(["lca", "--rounding", "nearest", "--out", str(tmp_path / "o")]) == 2


def test_sweep(tmp_path):
    file = tmp_path / "s.toml"
    file.write_text('[workload]\nkind = "lca"\natoms = 16\ndim = 8\nsparsity = 2\nsteps = 100\n'
                    '[axes]\nweight_bits = [6, 8]\n[objectives]\nrel_gap = "min"\n')
    cli = command_summary(["sweep", str(file), "--workers", "1"], tmp_path / "c")
    job = jobs.sweep(file=file, workers=1, out=tmp_path / "j")
    assert comparable(job, tmp_path / "j") == cli and cli["done"] == 2


def test_lca_takes_arrays(tmp_path):
    from lapicque.golden.lasso import random_problem

    problem = random_problem(16, 32, 2, 0.1, 4, False)
    np.save(tmp_path / "D.npy", problem.dictionary)
    np.save(tmp_path / "y.npy", problem.signal)
    files = jobs.lca(dictionary=tmp_path / "D.npy", signal=tmp_path / "y.npy", steps=200)
    arrays = jobs.lca(dictionary=problem.dictionary, signal=problem.signal, steps=200)
    assert comparable(files) == comparable(arrays)


def test_verify(tmp_path):
    argv = ["verify", "--neurons", "16", "--lanes", "2", "--steps", "40", "--seed", "9", "--backpressure", "0"]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.verify(neurons=16, lanes=2, steps=40, seed=9, backpressure=0.0)
    assert comparable(job) == cli and cli["passed"]


def test_report(tmp_path):
    jobs.fi(model="lif", currents=[0.0, 500.0, 1000.0], duration=300.0, out=tmp_path / "run")
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "c.html")]) == 0
    result = jobs.report(runs=[tmp_path / "run"], out=tmp_path / "j.html")
    assert result["passed"] and result["runs"] == [{"folder": str(tmp_path / "run"), "kind": "fi", "passed": True}]
    strip = lambda page: page.split("<p>Written")[0] + page.split("</p>", 1)[1]  # noqa: E731 (the time differs)
    assert strip((tmp_path / "c.html").read_text()) == strip((tmp_path / "j.html").read_text())


def test_explore(tmp_path):
    from PIL import Image

    assert main(["explore", "--model", "eif", "--duration", "100", "--save", str(tmp_path / "c.png")]) == 0
    jobs.explore(model="eif", duration=100.0, save=tmp_path / "j.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "c.png")), np.asarray(Image.open(tmp_path / "j.png")))


class PerfectBoard:
    """A link to a board that answers exactly as the bit-exact model does (no hardware here)."""

    def __init__(self, spec):
        self.spec = spec

    def load(self, state):
        self.state = state

    def watch(self, neurons):
        self.watched = neurons

    def run(self, steps):
        from lapicque.boards.host import model_run

        return model_run(self.spec, self.state, steps, self.watched)


def test_run_on_board(tmp_path, monkeypatch):
    from lapicque.boards.host import ArrayLink

    monkeypatch.setattr(ArrayLink, "open", classmethod(lambda cls, port, spec, baud=115200: PerfectBoard(spec)))
    argv = ["run", "--board", "icebreaker", "--port", "x", "--neurons", "32", "--steps", "50", "--watch", "1,3",
            "--weight-bits", "6", "--seed", "2"]
    cli = command_summary(argv, tmp_path / "c")
    job = jobs.run_on_board(board="icebreaker", port="x", neurons=32, steps=50, watch=[1, 3], weight_bits=6, seed=2)
    assert comparable(job) == cli and cli["matches_model"] and cli["spikes"] > 0


def test_demo_hands_its_options_to_its_job(tmp_path, monkeypatch):
    # the demo's job runs whole in tests/lapicque/test_demo.py (two minutes); here what the command hands it
    from lapicque.commands import demo
    from lapicque.errors import LapicqueError

    seen = {}

    def spy(**kwargs):
        seen.update(kwargs)
        raise LapicqueError("spy")

    spy.__signature__ = inspect.signature(jobs.demo)
    monkeypatch.setattr(demo, "job", spy)
    assert main(["demo", "--out", str(tmp_path), "--no-build", "--sim", "icarus"]) == 2
    assert {k: seen[k] for k in ("out", "sim", "no_build")} == {"out": tmp_path, "sim": "icarus", "no_build": True}


def test_a_job_refuses_report_without_a_folder():
    from lapicque.errors import LapicqueError

    with pytest.raises(LapicqueError, match="report=True needs an output folder"):
        jobs.lca(problem="identity", atoms=4, steps=10, report=True)
