"""Time encoding machines: decoders' SNR and speed, the fixed model's timing cost, Bjorck-Pereyra against
LAPACK, and the stitched decoder's memory on long signals.

    python benchmarks/bench_tem.py            # everything, the long signal up to 60 s
    python benchmarks/bench_tem.py --quick    # the long signal up to 6 s

It prints:

1. each decoder's SNR (central 80 % of a 0.2 s, 100 Hz multitone) and median decode time over 5 repeats,
   for the ideal and the leaky encoder of bionet ted's demo (b 3.5, delta 0.7, C 0.01, R 10), and for a
   population of 4 encoders that are each too sparse alone;
2. the fixed-point encoder's SNR against the array's timestep (the spike times are step centres);
3. Bjorck-Pereyra against LAPACK's pivoted LU on one block of the Vandermonde decoder, against the
   block's size: the SNR of each, and their agreement;
4. the stitched spline decoder on signals of 1 s, 6 s and 60 s (encoded chunk by chunk): SNR, wall time
   and the peak memory the decoder allocates (tracemalloc, inputs excluded), next to the memory the
   one-block decoder would need for its matrices.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from lapicque.golden import tem

BANDWIDTH = 100.0
GRID = 1e-6
IDEAL = tem.Encoder(3.5, 0.7, 0.01)
LEAKY = tem.Encoder(3.5, 0.7, 0.01, 10.0)


def grid_spikes(encoders, signal, duration, grid=GRID, chunk=1.0):
    """Encode chunk by chunk (1 s of grid at a time), as a long signal must be."""
    stream = tem.StreamEncoder(encoders, grid, signal.peak)
    per_chunk = int(round(chunk / grid))
    total = int(round(duration / grid))
    parts = [[] for _ in encoders]
    for first in range(0, total, per_chunk):
        last = min(total, first + per_chunk)
        for k, times in enumerate(stream.feed(signal(np.arange(first, last + 1) * grid))):
            parts[k].append(times)
    return [np.concatenate(p) for p in parts]


def central_snr(signal, values, t, duration):
    middle = tem.central(t, duration)
    return tem.snr_db(signal(t)[middle], values[middle])


def decoders_table():
    print("1. decoders: 0.2 s, 100 Hz multitone (10 tones, seed 0), SNR over 0.02-0.18 s, median of 5 decodes")
    signal = tem.multitone(BANDWIDTH, seed=0)
    t = np.arange(0, 0.2, 1 / 2000)
    cases = [("ideal", [IDEAL]), ("leaky", [LEAKY]),
             ("4 ideal, delta 2 (each alone too sparse)", tem.population(tem.Encoder(3.5, 2.0, 0.01), 4))]
    print(f"   {'encoder':44s} {'spikes':>7s} {'condition':>10s} {'decoder':>12s} {'SNR dB':>8s} {'decode ms':>10s}")
    for name, encoders in cases:
        times = grid_spikes(encoders, signal, 0.2)
        meas = tem.Measurements.from_spikes(encoders, times)
        value = tem.recovery(encoders, BANDWIDTH, signal.peak)["value"]
        for method in tem.DECODERS:
            if method == "vandermonde" and (len(encoders) > 1 or encoders[0].leaky):
                continue
            walls, values = [], None
            for _ in range(5):
                start = time.perf_counter()
                if method == "vandermonde":
                    values = np.concatenate([v for _, v in tem.decode_blocks(
                        meas, BANDWIDTH, 2000.0, len(t), method, *_vandermonde_window(meas))])
                else:
                    values = tem.decode(meas, BANDWIDTH, method)(t)
                walls.append(time.perf_counter() - start)
            print(f"   {name:44s} {sum(map(len, times)):7d} {value:10.3f} {method:>12s} "
                  f"{central_snr(signal, values, t, 0.2):8.1f} {statistics.median(walls) * 1e3:10.1f}")


def _vandermonde_window(meas):
    mean = float(np.mean(meas.end - meas.start))
    return 24 * mean, 5 * mean


def fixed_table():
    print("\n2. fixed-point encoder on the array (ideal, 16-bit input), sinc and spline decoders, 0.2 s")
    signal = tem.multitone(BANDWIDTH, seed=0)
    t = np.arange(0, 0.2, 1 / 2000)
    print(f"   {'step us':>8s} {'steps':>7s} {'sinc dB':>8s} {'spline dB':>10s}")
    for step in (20e-6, 10e-6, 5e-6, 2.5e-6):
        compiled = tem.compile_encoders([IDEAL], step, signal.peak)
        steps = int(round(0.2 / step))
        raster = tem.fixed_spikes(compiled, signal((np.arange(steps) + 0.5) * step))
        meas = tem.Measurements.from_spikes(compiled.encoders, compiled.spike_times(raster))
        snrs = [central_snr(signal, tem.decode(meas, BANDWIDTH, m)(t), t, 0.2) for m in ("sinc", "spline")]
        print(f"   {step * 1e6:8.1f} {steps:7d} {snrs[0]:8.1f} {snrs[1]:10.1f}")


def vandermonde_table():
    print("\n3. Vandermonde decoder, one block from t = 0.1 s: Bjorck-Pereyra (BP) against LAPACK's pivoted LU")
    signal = tem.multitone(BANDWIDTH, seed=0)
    (times,) = grid_spikes([IDEAL], signal, 0.5)
    meas = tem.Measurements.from_spikes([IDEAL], [times])
    first = int(np.searchsorted(times, 0.1))
    print(f"   {'intervals':>9s} {'BP dB':>8s} {'LU dB':>8s} {'BP vs LU dB':>12s}")
    for intervals in (8, 16, 24, 32, 40, 48, 64, 96, 128):
        part = tem.Measurements(*(getattr(meas, k)[first:first + intervals] for k in ("start", "end", "rc", "q")))
        u = np.linspace(part.start[0], part.end[-1], 200)[50:150]
        bp = tem.decode(part, BANDWIDTH, "vandermonde", "bjorck-pereyra")(u)
        lu = tem.decode(part, BANDWIDTH, "vandermonde", "direct")(u)
        print(f"   {intervals:9d} {tem.snr_db(signal(u), bp):8.1f} {tem.snr_db(signal(u), lu):8.1f} "
              f"{tem.snr_db(lu, bp):12.1f}")


def long_table(durations):
    print("\n4. stitched spline decoder (0.25 s windows, 0.05 s overlaps), ideal encoder, 2 kHz output")
    print(f"   {'signal s':>8s} {'spikes':>7s} {'SNR dB':>7s} {'decode s':>9s} {'peak MiB':>9s} "
          f"{'one-block matrices MiB':>23s}")
    signal = tem.multitone(BANDWIDTH, seed=0)
    rate = 2000.0
    for duration in durations:
        (times,) = grid_spikes([IDEAL], signal, duration)
        meas = tem.Measurements.from_spikes([IDEAL], [times])
        samples = int(duration * rate)
        trim = (int(0.1 * samples), int(0.9 * samples))
        power = error = 0.0
        tracemalloc.start()
        start = time.perf_counter()
        for first, values in tem.decode_blocks(meas, BANDWIDTH, rate, samples, "spline", 0.25, 0.05):
            lo, hi = max(first, trim[0]), min(first + len(values), trim[1])
            if hi > lo:
                truth = signal(np.arange(lo, hi) / rate)
                power += float(np.sum(truth ** 2))
                error += float(np.sum((values[lo - first:hi - first] - truth) ** 2))
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        n = len(meas)
        one_block = 7 * n * n * 8 / 2**20  # the Gram matrix (n^2) and the quadrature weights (6 nodes per cell)
        print(f"   {duration:8.0f} {len(times):7d} {10 * np.log10(power / error):7.1f} {wall:9.2f} "
              f"{peak / 2**20:9.1f} {one_block:23.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="long signals up to 6 s only")
    args = parser.parse_args()
    decoders_table()
    fixed_table()
    vandermonde_table()
    long_table((1, 6) if args.quick else (1, 6, 60))


if __name__ == "__main__":
    main()
