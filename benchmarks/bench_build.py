"""A new design's Verilator build, with the runtime compiled for it (as before) and shared from the cache.

    python benchmarks/bench_build.py                       # five array shapes, 3 repeats
    python benchmarks/bench_build.py --arrays 8x1,64x2 --repeats 5

Every build is a whole `runner.build_verilog` of an array's Verilog (generated once beforehand, outside the
timing): Verilator, then make. "alone" builds each design in a fresh cache of its own, so it compiles
Verilator's runtime itself, as every build did before `sim/verilator_runtime.py`; "shared" builds the same
designs in one fresh cache whose runtime a design outside the timing has compiled, as every build after the
first does now. The two alternate within each repeat; the figures are medians over designs and repeats of
seconds per build, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_arrays(text: str) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in item.split("x")) for item in text.split(",")]


def verilog_texts(arrays, folder: Path) -> list[str]:
    from lapicque.sim import runner
    from lapicque.spec import ArraySpec

    os.environ["LAPICQUE_CACHE"] = str(folder / "generate")
    return [runner.generate_verilog(ArraySpec(n, lanes)).read_text() for n, lanes in arrays]


def timed_build(text: str, cache: Path) -> float:
    from lapicque.sim import runner

    os.environ["LAPICQUE_CACHE"] = str(cache)
    started = time.perf_counter()
    _, cached = runner.build_verilog(text, "verilator", record=runner.ARRAY_RECORDED, flush=True,
                                     log_file=cache / f"build-{time.monotonic_ns()}.log")
    seconds = time.perf_counter() - started
    if cached:
        raise RuntimeError("a timed build was found already built: the measurement would be void")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrays", default="8x1,8x2,16x2,32x4,64x2", help="NEURONSxLANES,... (default five)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    arrays = parse_arrays(args.arrays)
    alone: list[float] = []
    shared: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        folder = Path(tmp)
        texts = verilog_texts(arrays + [(4, 1)], folder)
        warm_up, texts = texts[-1], texts[:-1]
        for repeat in range(args.repeats):
            shared_cache = folder / f"shared-{repeat}"
            timed_build(warm_up, shared_cache)  # compiles the runtime this cache shares, outside the timing
            for k, text in enumerate(texts):
                alone.append(timed_build(text, folder / f"alone-{repeat}-{k}"))
                shared.append(timed_build(text, shared_cache))
            print(f"repeat {repeat + 1}/{args.repeats}: alone {statistics.median(alone[-len(texts):]):.2f} s, "
                  f"shared {statistics.median(shared[-len(texts):]):.2f} s per build", file=sys.stderr)
    a, s = statistics.median(alone), statistics.median(shared)
    print("| arrays | builds each | runtime compiled per build (s) | runtime shared (s) | ratio |")
    print(f"| {args.arrays} | {len(alone)} | {a:.2f} | {s:.2f} | {a / s:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
