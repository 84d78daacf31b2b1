"""The sweep's scale-out: one sweep's whole wall time on a local cluster of 1 and of 2 workers, side by side.

    python benchmarks/bench_sweep.py                         # the LCA widths sweep's model and RTL stages, 2 repeats
    python benchmarks/bench_sweep.py --repeats 3 --workers 1,2
    python benchmarks/bench_sweep.py --file examples/sweeps/tem-step.toml

Each measurement is `lapicque sweep FILE --workers N` into a fresh folder with a fresh task cache (every
task computed; the Verilator models it simulates are built once beforehand, as in any later sweep), the
worker counts alternating within each repeat; the figure is the median whole-job wall time (cluster start,
every task, sweep.json and pareto.json). By default the file is examples/sweeps/lca-widths.toml without
its board stage (its 60 board builds take an hour: `lapicque sweep` runs them, this measures the rest).
Prints one row per worker count and the speed-up, and checks that every run gave the same figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import tomli_w

HERE = Path(__file__).resolve()
DEFAULT = HERE.parent.parent / "examples" / "sweeps" / "lca-widths.toml"


def without_boards(file: Path, folder: Path) -> Path:
    """The sweep file without its board stage and its board axis and objectives."""
    from lapicque.jobs.sweep_spec import WORKLOADS, load_sweep

    spec = load_sweep(file)
    data = tomllib.loads(file.read_text())
    if "board" not in spec.stages:
        return file
    data["stages"] = [s for s in spec.stages if s != "board"]
    board_only = {k for k, p in WORKLOADS[spec.kind].params.items() if p.stages == ("board",)}
    data["axes"] = {k: v for k, v in data.get("axes", {}).items() if k not in board_only}
    data["workload"] = {k: v for k, v in data["workload"].items() if k not in board_only}
    kept = set(replace(spec, stages=tuple(data["stages"])).figures())
    data["objectives"] = {k: v for k, v in data["objectives"].items() if k in kept}
    out = folder / file.name
    out.write_text(tomli_w.dumps(data))
    return out


def main(argv=None) -> int:
    from lapicque import jobs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT, help="the sweep file (default: the LCA widths sweep)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep-boards", action="store_true", help="keep the board stage")
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        file = args.file if args.keep_boards else without_boards(args.file, tmp)
        print(f"sweep file: {args.file}{'' if file == args.file else ' without its board stage'}", flush=True)
        warm = jobs.sweep(file=file, workers=max(counts), out=tmp / "warm")  # the simulator builds, not counted
        print(f"{warm['points']} points, {warm['tasks']['total']} tasks (warm-up: {warm['wall_s']:.0f} s)", flush=True)
        walls = {n: [] for n in counts}
        reference = json.loads((tmp / "warm" / "sweep.json").read_text())["points"]
        for repeat in range(args.repeats):
            for n in counts:
                out = tmp / f"r{repeat}-w{n}"
                start = time.perf_counter()
                s = jobs.sweep(file=file, workers=n, out=out)
                walls[n].append(time.perf_counter() - start)
                points = json.loads((out / "sweep.json").read_text())["points"]
                same = [p["figures"] for p in points] == [p["figures"] for p in reference]
                print(f"  repeat {repeat}, {n} worker(s): {walls[n][-1]:.1f} s, {s['tasks']['computed']} tasks "
                      f"computed, {s['done']} done, {s['failed']} failed, figures as the warm-up's: {same}", flush=True)
                if not same or s["tasks"]["computed"] != s["tasks"]["total"]:
                    print("the runs differ: not a like-for-like comparison")
                    return 1
    base = statistics.median(walls[counts[0]])
    print(f"\n{'workers':>7} {'median wall (s)':>16} {'runs':>20} {'speed-up':>9}")
    for n in counts:
        median = statistics.median(walls[n])
        print(f"{n:7d} {median:16.1f} {', '.join(f'{w:.1f}' for w in walls[n]):>20} {base / median:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
