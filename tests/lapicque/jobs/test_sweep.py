"""Sweeps on real Dask clusters: results equal to the jobs run alone, resumed from the cache, surviving a killed
worker and an interrupted client, failed points recorded with their reasons."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from lapicque.jobs import lca, sweep
from lapicque.jobs.sweep import COMPUTED_LOG

SMALL = """
name = "small"
stages = ["model"]
[workload]
kind = "lca"
atoms = 24
dim = 12
sparsity = 3
steps = {steps}
seeds = {seeds}
[axes]
weight_bits = {bits}
[objectives]
rel_gap = "min"
spikes = "min"
"""


def sweep_file(tmp_path, steps=300, seeds=(0, 1), bits=(5, 8), name="s.toml"):
    path = tmp_path / name
    path.write_text(SMALL.format(steps=steps, seeds=list(seeds), bits=list(bits)))
    return path


def computed(cache: Path) -> Counter:
    log = cache / COMPUTED_LOG
    return Counter(line.split()[0] for line in log.read_text().splitlines()) if log.exists() else Counter()


def figures(out: Path) -> list:
    return [(p["params"], p["status"], p["figures"]) for p in json.loads((out / "sweep.json").read_text())["points"]]


def test_a_local_sweep_gives_the_jobs_own_figures_and_resumes_from_its_cache(tmp_path):
    file = sweep_file(tmp_path)
    said = []
    first = sweep(file=file, workers=2, out=tmp_path / "out", status=said.append)
    assert (first["done"], first["failed"], first["from_cache"], first["points"]) == (2, 0, 0, 2)
    assert said[0] == "starting the Dask cluster" and "4 tasks on 2 worker(s)" in said[1]
    assert said[-1].startswith("tasks: 4/4 finished (0 from the cache, 0 failed), 0 running, 0 to go")
    assert first["tasks"] == {"total": 4, "computed": 4, "from_cache": 0, "failed": 0}
    points = json.loads((tmp_path / "out" / "sweep.json").read_text())["points"]
    # the point's figure is the median over its seeds of what `lapicque lca` gives alone
    alone = [lca(atoms=24, dim=12, sparsity=3, steps=300, seed=seed, weight_bits=8, target_gap=None)
             for seed in (0, 1)]
    eight = next(p for p in points if p["params"] == {"weight_bits": 8})
    assert eight["figures"]["rel_gap"] == pytest.approx((alone[0]["rel_gap"] + alone[1]["rel_gap"]) / 2, rel=1e-12)
    assert eight["figures"]["spikes"] == (alone[0]["spikes"] + alone[1]["spikes"]) / 2
    for run in eight["runs"]["model"]:
        assert json.loads((Path(run) / "summary.json").read_text())["backend"] == "fixed"
    pareto = json.loads((tmp_path / "out" / "pareto.json").read_text())
    assert pareto["fronts"][0]["x"] == "rel_gap" and pareto["fronts"][0]["points"]

    again = sweep(file=file, workers=1, out=tmp_path / "out")
    assert (again["done"], again["from_cache"]) == (2, 2)
    assert again["tasks"]["computed"] == 0 and again["tasks"]["from_cache"] == 4
    assert figures(tmp_path / "out") == [(p["params"], p["status"], p["figures"]) for p in points]
    assert set(computed(tmp_path / "out" / "cache").values()) == {1}


def test_a_point_that_fails_on_its_input_is_recorded_with_its_reason_and_cached(tmp_path):
    file = sweep_file(tmp_path, seeds=(0,), bits=(2, 8))
    text = file.read_text().replace("steps = 300", "steps = 300\ntarget_gap = 0.001")
    file.write_text(text)
    s = sweep(file=file, workers=1, out=tmp_path / "out")
    assert (s["done"], s["failed"]) == (1, 1)
    failure = s["failed_points"][0]
    assert failure["params"] == {"weight_bits": 2}
    assert failure["reason"].startswith("model: ") and "weight bits" in failure["reason"]
    again = sweep(file=file, workers=1, out=tmp_path / "out")
    assert again["tasks"]["computed"] == 0 and again["failed"] == 1


def test_an_array_that_does_not_fit_the_board_fails_before_any_tool_runs(tmp_path):
    file = tmp_path / "b.toml"
    file.write_text('stages = ["model", "board"]\n[workload]\nkind = "lca"\natoms = 32\ndim = 8\nsparsity = 2\n'
                    'steps = 20\nnonnegative = true\nboard = "icebreaker"\n[axes]\nlanes = [16]\n'
                    '[objectives]\nluts = "min"\n')
    s = sweep(file=file, workers=1, out=tmp_path / "out")
    assert (s["done"], s["failed"]) == (0, 1)
    reason = s["failed_points"][0]["reason"]
    assert reason.startswith("board: 32 neurons x 16 lane(s) does not fit icebreaker"), reason
    assert not list((tmp_path / "out" / "cache").glob("board-*/run/*.bin"))  # no tool ran


def start_cluster(tmp_path, workers=2):
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                               str(scheduler_file), "--port", "0", "--dashboard-address", ":0", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    deadline = time.time() + 60
    while not scheduler_file.exists():
        assert time.time() < deadline, "the scheduler did not start"
        time.sleep(0.2)
    for _ in range(workers):  # no nanny: a killed worker stays dead, as when a machine goes away
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                       str(scheduler_file), "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
        client.wait_for_workers(workers, timeout=60)
    return scheduler_file, procs


def test_a_sweep_on_a_real_cluster_survives_a_killed_worker_and_computes_nothing_twice(tmp_path):
    import threading

    file = sweep_file(tmp_path, steps=1500, seeds=(0, 1, 2), bits=(4, 5, 6, 7, 8, 9))
    scheduler_file, procs = start_cluster(tmp_path)
    cache = tmp_path / "out" / "cache"
    try:
        def kill_one_worker_midway():
            deadline = time.time() + 120
            while len(computed(cache)) < 3 and time.time() < deadline:
                time.sleep(0.05)
            procs[1].kill()

        killer = threading.Thread(target=kill_one_worker_midway)
        killer.start()
        s = sweep(file=file, scheduler_file=scheduler_file, out=tmp_path / "out")
        killer.join()
        assert procs[1].poll() is not None, "the worker was not killed during the sweep"
        assert (s["done"], s["failed"], s["points"]) == (6, 0, 6)
        assert s["tasks"]["total"] == 18
        # every task computed once: the killed worker's running task again elsewhere, its finished ones not
        assert sum(computed(cache).values()) == 18 and set(computed(cache).values()) == {1}

        again = sweep(file=file, scheduler_file=scheduler_file, out=tmp_path / "out")
        assert again["tasks"]["from_cache"] == 18 and again["tasks"]["computed"] == 0
        assert set(computed(cache).values()) == {1}  # no task computed twice, across both invocations
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_an_interrupted_sweep_resumes_from_its_cache_and_gives_the_same_figures(tmp_path):
    file = sweep_file(tmp_path, steps=1500, seeds=(0, 1, 2), bits=(4, 5, 6, 7))
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "lapicque", "sweep", str(file), "--workers", "1", "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(computed(out / "cache")) < 2 and time.time() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    before = computed(out / "cache")
    assert 2 <= len(before) < 12, "the sweep was not interrupted midway"
    marker = json.loads((out / ".lapicque-run.json").read_text())
    assert marker["state"] == "interrupted"
    assert not (out / "summary.json").exists()

    resumed = sweep(file=file, workers=2, out=out)
    assert resumed["done"] == 4 and resumed["tasks"]["from_cache"] >= len(before)
    assert set(computed(out / "cache").values()) == {1}
    fresh = sweep(file=file, workers=2, out=tmp_path / "fresh")
    assert fresh["tasks"]["computed"] == 12
    assert figures(out) == figures(tmp_path / "fresh")


def test_the_command_refuses_bad_input_in_one_line_before_any_task(tmp_path, capsys, monkeypatch):
    from lapicque.cli import main

    monkeypatch.setattr(sys.modules["lapicque.jobs.sweep"], "CONNECT_TIMEOUT", "2s")
    bad = tmp_path / "bad.toml"
    bad.write_text('[workload]\nkind = "lca"\n[axes]\nweight_bits = [4, 99]\n[objectives]\nrel_gap = "min"\n')
    cases = [([str(bad)], "axes.weight_bits: 99 is out of range"),
             ([str(tmp_path / "none.toml")], "does not exist"),
             ([str(sweep_file(tmp_path)), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers sizes"),
             ([str(sweep_file(tmp_path)), "--scheduler", "tcp://127.0.0.1:1", "--scheduler-file", "x.json"],
              "not both"),
             ([str(sweep_file(tmp_path)), "--retries", "-1"], "--retries"),
             ([str(sweep_file(tmp_path)), "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
             ([str(sweep_file(tmp_path)), "--cache", str(bad / "cache")], "is a file, not a folder")]
    for args, message in cases:
        out = tmp_path / "o"
        assert main(["sweep", *args, "--out", str(out)]) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (args, err)
        assert not (out / "sweep.json").exists() and not (out / "cache").exists()


class WorkersOf:
    """A client whose workers answer `run` as given (each worker of a real cluster sees its own files)."""

    def __init__(self, answers):
        self.answers = answers

    def run(self, function, *args):
        return {worker: answer if answer is not None else function(*args) for worker, answer in self.answers.items()}


def test_a_worker_that_cannot_write_the_cache_stops_the_sweep_in_one_line(tmp_path):
    from lapicque.errors import LapicqueError
    from lapicque.jobs.sweep import cache_writable, check_workers

    check_workers(WorkersOf({"tcp://a:1": None, "tcp://b:1": None}), tmp_path / "cache")  # both write it
    assert (tmp_path / "cache").is_dir() and not list((tmp_path / "cache").iterdir())  # the probes are gone
    with pytest.raises(LapicqueError, match=r"^1 worker\(s\) cannot write the task cache .*worker tcp://b:1: "
                                            r"Read-only file system\); give --cache a folder every worker can write"):
        check_workers(WorkersOf({"tcp://a:1": None, "tcp://b:1": "Read-only file system"}), tmp_path / "cache")
    (tmp_path / "file").write_text("")
    assert cache_writable(str(tmp_path / "file" / "cache")) == "Not a directory"
    # the job itself (the command checks --cache as it parses it) refuses before any task, its folder untouched
    with pytest.raises(LapicqueError, match="^cannot write the task cache .*: Not a directory; give --cache"):
        sweep(file=sweep_file(tmp_path), workers=1, cache=tmp_path / "file" / "cache", out=tmp_path / "out")
    assert not (tmp_path / "out" / "sweep.json").exists() and not (tmp_path / "out" / "cache").exists()


def stage_sweep(tmp_path, stages, axes):
    file = tmp_path / "stages.toml"
    file.write_text(f'stages = {json.dumps(stages)}\n[workload]\nkind = "lca"\natoms = 8\ndim = 4\nsparsity = 1\n'
                    'steps = 80\nnonnegative = true\nboard = "icebreaker"\nseeds = [0, 1]\n'
                    f'[axes]\n{axes}\n[objectives]\nrel_gap = "min"\ncycles_per_step = "min"\n')
    return file


def test_the_rtl_stage_verifies_each_lane_count_once_and_counts_its_cycles(tmp_path):
    s = sweep(file=stage_sweep(tmp_path, ["model", "rtl"], "lanes = [1, 2]"), workers=2, out=tmp_path / "out")
    assert (s["done"], s["failed"]) == (2, 0)
    assert s["tasks"]["total"] == 2 + 2  # two seeds of one model, one RTL run per lane count
    points = json.loads((tmp_path / "out" / "sweep.json").read_text())["points"]
    for p in points:
        f = p["figures"]
        assert f["verified"] is True and f["bit_exact_mismatches"] == 0
        rtl = json.loads((Path(p["runs"]["rtl"][0]) / "summary.json").read_text())
        assert rtl["backend"] == "rtl" and rtl["lanes"] == p["params"]["lanes"] and rtl["seed"] == 0
        assert f["cycles_per_step"] == rtl["cycles_per_step"]
        assert f["cycles_to_1pct_gap"] == rtl["steps_to_1pct_gap"] * rtl["cycles_per_step"]
    one, two = (p["figures"]["cycles_per_step"] for p in points)
    assert two < one  # two lanes share the array's work


@pytest.mark.slow
def test_the_board_stage_builds_each_array_once_and_gives_the_time_to_solution(tmp_path):
    file = stage_sweep(tmp_path, ["model", "rtl", "board"], "weight_bits = [8]")
    file.write_text(file.read_text() + 'time_to_1pct_gap_us = "min"\nluts = "min"\n')
    s = sweep(file=file, workers=2, out=tmp_path / "out")
    assert (s["done"], s["failed"]) == (1, 0)
    p = json.loads((tmp_path / "out" / "sweep.json").read_text())["points"][0]
    report = json.loads((Path(p["runs"]["board"][0]) / "report.json").read_text())
    f = p["figures"]
    assert f["luts"] == report["resources"]["logic_cells"]["used"] > 0 and f["timing_met"] is True
    assert f["time_to_1pct_gap_us"] == pytest.approx(f["cycles_to_1pct_gap"] / report["clock_mhz"], rel=1e-12)
