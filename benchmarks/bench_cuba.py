"""CUBA (Brette et al. 2007, benchmark 2) for 1 s: lapicque against Brian2, side by side in one run.

    python -m pip install -e '.[bench]'          # Brian2 2.9 (numpy < 2.4) and Cython
    python benchmarks/bench_cuba.py              # 5 repeats each, medians
    python benchmarks/bench_cuba.py --quick      # 1 repeat, no standalone mode
    python benchmarks/bench_cuba.py --statistics # the fixed model against the float model and Brian2

The same network in both: 4000 LIF neurons (3200 excitatory), p = 0.02, exponential currents,
exact integration, dt = 0.1 ms, 1 s of biological time (Brian2's CUBA example, integrated with
method='exact'). Like against like:

- `loop`: the simulation loop alone, warm, in process. lapicque: `NetworkResult.run_s` (its compiled
  loop loaded beforehand, `setup_s`); Brian2 runtime: a second `run()` of the same network in the same
  process (the first generates, compiles and loads the Cython code); Brian2 standalone: the compiled
  binary's own simulation time.
- `whole job`: a fresh process that imports the simulator, builds the network and runs it once, timed
  from outside, each tool's caches warm (one unmeasured job of each runs first: numba's cache, Brian2's
  Cython cache). Brian2 standalone compiles its C++ in every job, as a user's would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRIAN2_CUBA = r"""
import json, sys, time
import numpy as np
from brian2 import *
mode, seed_value, duration, folder = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
if mode == "standalone":
    set_device("cpp_standalone", directory=folder)
else:
    prefs.codegen.target = "cython"
defaultclock.dt = 0.1 * ms
taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = '''
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
'''
seed(seed_value)
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5 * ms, method='exact')
P.v = 'Vr + rand() * (Vt - Vr)'
P.ge = 0 * mV
P.gi = 0 * mV
we = (60 * 0.27 / 10) * mV
wi = (-20 * 4.5 / 10) * mV
Ce = Synapses(P[:3200], P, on_pre='ge += we')
Ci = Synapses(P[3200:], P, on_pre='gi += wi')
Ce.connect(p=0.02)
Ci.connect(p=0.02)
s_mon = SpikeMonitor(P)
t_run = time.perf_counter()
run(duration * second)
run_s = time.perf_counter() - t_run
spikes = int(s_mon.num_spikes)
if mode == "standalone":
    run_s = device._last_run_time  # the compiled binary's own simulation time
elif mode == "loop":
    t_run = time.perf_counter()
    run(duration * second)  # the same network again, its code generated, compiled and loaded by the first
    run_s = time.perf_counter() - t_run
cvs = []
for times in s_mon.spike_trains().values():  # ISI CV of every neuron with at least 3 spikes
    isi = np.diff(np.asarray(times / ms))
    if isi.size >= 2:
        cvs.append(isi.std() / isi.mean())
print(json.dumps({"run_s": run_s, "spikes": spikes, "mean_rate_hz": spikes / 4000 / duration,
                  "synapses": int(len(Ce) + len(Ci)), "mean_cv": float(np.mean(cvs))}))
"""

LAPICQUE_CUBA = r"""
import json, sys
import numpy as np
from lapicque.golden.network import cuba, run
seed, duration = int(sys.argv[1]), float(sys.argv[2])
net = cuba(seed=seed)
result = run(net, duration * 1000.0)
print(json.dumps({"run_s": result.run_s, "setup_s": result.setup_s, "spikes": int(result.spike_times.size),
                  "mean_rate_hz": float(result.rates_hz().mean()), "synapses": net.synapses,
                  "mean_cv": float(np.mean(result.cvs()))}))
"""


LAPICQUE_STATISTICS = r"""
import json, sys
import numpy as np
from lapicque import jobs
seed, duration = int(sys.argv[1]), float(sys.argv[2])
out = {}
for name, options in (("float", {"connectivity": "random"}), ("float procedural", {"connectivity": "procedural"}),
                      ("fixed", {"backend": "fixed"})):
    s = jobs.net(network="cuba", duration=duration, seed=seed, **options)
    out[name] = {"mean_rate_hz": s["mean_rate_hz"], "mean_cv": s["mean_cv"], "spikes": s["spikes"]}
print(json.dumps(out))
"""


def rate_and_cv(seeds: range, duration: float) -> int:
    """Issue 20: the fixed model's mean rate and ISI CV against the float model's (on the same procedural
    synapses and on numpy's draw) and Brian2's (its own draw), seed by seed; means over the seeds."""
    rows: dict[str, list[dict]] = {"float": [], "float procedural": [], "fixed": [], "brian2": []}
    for seed in seeds:
        ours = fresh_process(LAPICQUE_STATISTICS, [str(seed), str(duration)])
        for name in ("float", "float procedural", "fixed"):
            rows[name].append(ours[name])
        rows["brian2"].append(fresh_process(BRIAN2_CUBA, ["runtime", str(seed), str(duration)]))
        print(f"# seed {seed} done", flush=True)
    print(f"\nCUBA, 4000 LIF, {duration:g} s, seeds {seeds.start}..{seeds.stop - 1}: mean rate (Hz) and mean ISI CV")
    print(f"{'model':18} {'rates':>36} {'mean':>6} {'CVs':>36} {'mean':>6}")
    means = {}
    for name, runs in rows.items():
        rates, cvs = [r["mean_rate_hz"] for r in runs], [r["mean_cv"] for r in runs]
        means[name] = (statistics.mean(rates), statistics.mean(cvs))
        print(f"{name:18} {', '.join(f'{x:.2f}' for x in rates):>36} {means[name][0]:6.2f} "
              f"{', '.join(f'{x:.3f}' for x in cvs):>36} {means[name][1]:6.3f}")
    for other in ("float procedural", "float", "brian2"):
        rate = means["fixed"][0] / means[other][0] - 1
        cv = means["fixed"][1] / means[other][1] - 1
        print(f"fixed against {other}: rate {100 * rate:+.1f} %, CV {100 * cv:+.1f} %")
    return 0


def fresh_process(script: str, args: list[str]) -> dict:
    """`script` in a new interpreter: its JSON line, and `total_s`, the process's wall time from outside."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cuba.py"
        path.write_text(script)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(path), *args, tmp], capture_output=True, text=True, timeout=1800)
        total_s = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{args} failed:\n{out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "total_s": total_s}


def run_brian2(mode: str, seed: int, duration: float) -> dict:
    """runtime: the loop from a process that runs twice, the whole job from one that runs once;
    standalone: both from one process (the binary times its own loop)."""
    if mode == "standalone":
        return fresh_process(BRIAN2_CUBA, ["standalone", str(seed), str(duration)])
    loop = fresh_process(BRIAN2_CUBA, ["loop", str(seed), str(duration)])
    job = fresh_process(BRIAN2_CUBA, ["runtime", str(seed), str(duration)])
    return {**loop, "total_s": job["total_s"]}


def run_lapicque(seed: int, duration: float) -> dict:
    return fresh_process(LAPICQUE_CUBA, [str(seed), str(duration)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, no standalone mode")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration", type=float, default=1.0, help="biological seconds (default 1)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--statistics", action="store_true",
                        help="issue 20: the fixed model's rate and CV against the float model's and Brian2's")
    args = parser.parse_args(argv)
    try:
        import brian2  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: not usable here
        print(f"Brian2 is not usable here ({exc}); install the benchmark extra: pip install -e '.[bench]'")
        return 2
    if args.statistics:
        return rate_and_cv(range(1, args.repeats + 1), args.duration)
    repeats = 1 if args.quick else args.repeats
    modes = ["runtime"] if args.quick else ["runtime", "standalone"]
    rows: dict[str, list[dict]] = {"lapicque": [], **{f"brian2 {m}": [] for m in modes}}
    # caches warm before anything is measured: numba's compiled loop, Brian2's Cython modules
    run_lapicque(1, args.duration)
    run_brian2("runtime", 1, args.duration)
    for r in range(repeats):
        seed = r + 1
        rows["lapicque"].append(run_lapicque(seed, args.duration))
        for mode in modes:
            rows[f"brian2 {mode}"].append(run_brian2(mode, seed, args.duration))
        print(f"# repeat {r + 1}/{repeats} done", flush=True)

    def med(name, key):
        return statistics.median(x[key] for x in rows[name])

    print(f"\nCUBA, 4000 LIF, {args.duration:g} s biological, dt 0.1 ms, medians of {repeats} (seeds 1..{repeats})")
    print(f"{'simulator':20} {'loop (s)':>9} {'whole job (s)':>14} {'mean rate (Hz)':>15} {'spikes':>9}")
    for name in rows:
        print(f"{name:20} {med(name, 'run_s'):9.3f} {med(name, 'total_s'):14.2f} {med(name, 'mean_rate_hz'):15.2f} "
              f"{med(name, 'spikes'):9.0f}")
    for name in rows:
        if name != "lapicque":
            print(f"{name} / lapicque: loop {med(name, 'run_s') / med('lapicque', 'run_s'):.2f}, whole job "
                  f"{med(name, 'total_s') / med('lapicque', 'total_s'):.2f}")
    print(f"lapicque: loading its compiled loop (setup_s, once per process) {med('lapicque', 'setup_s'):.3f} s; "
          f"mean CV {med('lapicque', 'mean_cv'):.3f}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
