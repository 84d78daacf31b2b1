"""The soak of issue 21: seeded random arrays and networks on Verilator, every update checked, until the time is up.

    python benchmarks/bench_soak.py --duration 30m                 # cases of 5,000,000 updates, seed 0
    python benchmarks/bench_soak.py --duration 8h --seed 3 --out runs/soak-night

is `lapicque verify --soak DURATION` (lapicque.jobs.soak) with larger cases (fewer simulator starts and builds per
update), printing the summary: the cases, the updates checked by kind, the mismatches, the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lapicque import jobs
from lapicque.commands.options import duration


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=duration, default=1800.0, help="seconds, or 90s, 10m, 8h (default 30m)")
    parser.add_argument("--case-updates", type=int, default=5_000_000, help="updates a case aims at")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/soak-bench"))
    args = parser.parse_args(argv)
    summary = jobs.soak(soak=args.duration, seed=args.seed, case_updates=args.case_updates, out=args.out,
                        status=lambda text: print(text, flush=True))
    print(json.dumps({k: summary[k] for k in ("passed", "cases", "updates_checked", "bit_exact_mismatches",
                                              "stopped", "wall_s", "checked_updates_per_s", "updates_by_kind",
                                              "failed_case")}, indent=1))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
