"""`lapicque tem`: encode a band-limited signal with integrate-and-fire neurons, decode it, score the SNR.

Backends:

- `float`: the golden encoders on a fine grid (1 us default): spike times exact to O(grid^2);
- `fixed`: the bit-exact model of the array (one neuron per encoder, the signal as external input,
  `lapicque.golden.tem.compile_encoders`); spike times are step centres, within half a step;
- `rtl`: the same spec on the RTL array in cocotb, every state update checked against the bit-exact
  model (`lapicque.sim.verify`); the RTL's spikes are compared with the fixed model's and decoded.

Writes `OUT/summary.json`, `OUT/signal.npz` (output times, signal, reconstruction, error, each encoder's
spike times) and `OUT/tem.png`, each to a temporary name first.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.files import read_array, write_atomic, write_json, write_npz
from lapicque.golden import tem
from lapicque.golden.neuron import zero_state
from lapicque.provenance import provenance

BACKENDS = ("float", "fixed", "rtl")
OUT_BAND_LIMIT = 0.01  # a file with more of its energy above the band needs --lowpass
SNR_TRIM = 0.1  # the SNR ignores this fraction of the duration at each end (decoders lose the edges)
SAMPLES_PER_BAND = 20  # output samples per Hz of bandwidth (10 per Nyquist interval)
MIN_OUTPUT_SAMPLES = 40  # the decoders and the SNR window need a few band periods
VANDERMONDE_BLOCK = 24  # intervals per window: Bjorck-Pereyra is exact there (docs/tem.md)
ONE_BLOCK_LIMIT = 1500  # measurements up to which sinc and spline decode in one block
MIN_POINTS, MAX_POINTS = 100, 100_000_000  # encoder grid points or array steps: a resolution, a memory bound


def make_signal(source: str, bandwidth: float, duration: float | None, *, tones: int = 10, peak: float = 1.0,
                seed: int = 0, rate: float | None = None, lowpass: bool = False):
    """The signal to encode and its description: a seeded multitone, or a .npy / .wav file band-limited to
    `bandwidth` and scaled so that its peak |u| is `peak`."""
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise LapicqueError(f"--bandwidth = {bandwidth} Hz must be a positive number")
    if not (math.isfinite(peak) and peak > 0):
        raise LapicqueError(f"--peak = {peak} must be a positive number")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise LapicqueError(f"--duration = {duration} s must be a positive number")
    if duration is not None and duration * bandwidth * SAMPLES_PER_BAND < MIN_OUTPUT_SAMPLES:
        raise LapicqueError(f"--duration {duration:g} s holds {duration * bandwidth:.3g} periods of a {bandwidth:g} Hz "
                            f"band; give at least {MIN_OUTPUT_SAMPLES / SAMPLES_PER_BAND / bandwidth:.3g} s")
    if source == "multitone":
        signal = tem.multitone(bandwidth, tones, peak, seed)
        return signal, duration or 0.2, {"kind": "multitone", "tones": tones, "seed": seed, "peak_bound": peak,
                                         "frequencies_hz": signal.frequencies.tolist()}
    path = Path(source)
    samples, rate = _read_samples(path, rate)
    if rate < 2 * bandwidth:
        raise LapicqueError(f"{path}: its sample rate {rate:g} Hz cannot carry --bandwidth {bandwidth:g} Hz "
                            f"(needs at least {2 * bandwidth:g} Hz); lower --bandwidth")
    if duration is not None:
        samples = samples[: int(round(duration * rate))]
    if len(samples) < 16:
        raise LapicqueError(f"{path}: {len(samples)} samples are too few to encode; give a longer signal")
    limited, removed = tem.band_limit(samples, rate, bandwidth)
    if removed > OUT_BAND_LIMIT and not lowpass:
        raise LapicqueError(f"{path}: {removed:.1%} of its energy lies above --bandwidth {bandwidth:g} Hz, so it "
                            "is not band-limited to it; raise --bandwidth or pass --lowpass to filter it")
    top = float(np.max(np.abs(limited)))
    if top == 0:
        raise LapicqueError(f"{path}: the signal is zero within the band; nothing to encode")
    scaled = limited * (peak / top)
    signal = tem.Sampled(scaled, rate, bandwidth, removed)
    return signal, signal.duration, {"kind": "file", "path": str(path), "rate_hz": rate,
                                     "band_limited": "FFT brick wall at the bandwidth",
                                     "removed_energy_fraction": removed, "scaled_to_peak": peak}


def _read_samples(path: Path, rate: float | None) -> tuple[np.ndarray, float]:
    if not path.is_file():
        raise LapicqueError(f"--signal {path}: no such file (or give 'multitone')")
    if path.suffix.lower() == ".wav":
        from scipy.io import wavfile

        try:
            rate, data = wavfile.read(path)
        except Exception as exc:  # scipy raises ValueError, EOFError, struct.error, ... for bad bytes
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LapicqueError(f"--signal {path}: not a readable WAV file ({reason})") from None
        if data.ndim not in (1, 2) or not np.issubdtype(data.dtype, np.number) or data.size == 0:
            raise LapicqueError(f"--signal {path}: expected mono or multi-channel samples, got shape {data.shape} "
                                f"of {data.dtype}")
        data = np.asarray(data, dtype=np.float64)
        if not np.all(np.isfinite(data)):
            raise LapicqueError(f"--signal {path}: the WAV file holds NaN or infinite samples; clean it first")
        if not rate > 0:
            raise LapicqueError(f"--signal {path}: the WAV file says its sample rate is {rate} Hz")
        return (data.mean(axis=1) if data.ndim == 2 else data), float(rate)
    if path.suffix.lower() == ".npy":
        data = read_array(path, "signal")
        if isinstance(data, dict):
            raise LapicqueError(f"--signal {path}: an .npz archive; give one .npy array of samples")
        if data.ndim != 1 or not np.issubdtype(data.dtype, np.number) or np.iscomplexobj(data):
            raise LapicqueError(f"--signal {path}: expected a 1-D numeric array, got shape {data.shape} "
                                f"of {data.dtype}")
        if not np.all(np.isfinite(data)):
            raise LapicqueError(f"--signal {path}: contains NaN or infinite samples")
        if rate is None or not rate > 0:
            raise LapicqueError(f"--signal {path}: a .npy signal needs its sample rate: pass --rate HZ")
        return data.astype(np.float64), float(rate)
    raise LapicqueError(f"--signal {path}: unknown format {path.suffix!r}; give a .wav or .npy file, or 'multitone'")


def default_block(method: str, meas: tem.Measurements, duration: float) -> tuple[float, float] | None:
    """(window, overlap) in seconds, or None for one block: Vandermonde decodes VANDERMONDE_BLOCK intervals per
    window; sinc and spline decode in one block up to ONE_BLOCK_LIMIT measurements, else in 0.25 s windows."""
    mean = float(np.mean(meas.end - meas.start))
    if method == "vandermonde":
        return VANDERMONDE_BLOCK * mean, 5 * mean
    if len(meas) <= ONE_BLOCK_LIMIT:
        return None
    return 0.25, 0.05


def reconstruct(meas: tem.Measurements, bandwidth: float, rate: float, samples: int, method: str,
                block: tuple[float, float] | None) -> np.ndarray:
    out = np.empty(samples)
    if block is None:
        return tem.decode(meas, bandwidth, method)(np.arange(samples) / rate)
    for first, values in tem.decode_blocks(meas, bandwidth, rate, samples, method, *block):
        out[first:first + len(values)] = values
    return out


def run(signal, duration: float, encoders: list[tem.Encoder], backend: str, decoder: str, out: Path, *,
        description: dict | None = None, grid: float = 1e-6, step: float = 1e-5, block: tuple | None = None,
        lanes: int = 1, sim: str = "verilator", seed: int = 0, status=None) -> dict:
    """Encode `signal` over `duration` s on `backend`, decode it with `decoder`; writes OUT, returns the summary."""
    if backend not in BACKENDS:
        raise LapicqueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if decoder not in tem.DECODERS:
        raise LapicqueError(f"unknown decoder {decoder!r}; choose one of {', '.join(tem.DECODERS)}")
    if decoder == "vandermonde" and (len(encoders) > 1 or encoders[0].leaky):
        raise LapicqueError("the vandermonde decoder takes one ideal encoder; use --decoder sinc or spline")

    def say(text):
        if status is not None:
            status(text)

    wall0 = time.perf_counter()
    bandwidth = signal.bandwidth
    peak = signal.peak
    tem.check_encoders(encoders)
    points = duration / (grid if backend == "float" else step)
    if not MIN_POINTS <= points <= MAX_POINTS:
        option, value = ("--grid-us", grid) if backend == "float" else ("--step-us", step)
        raise LapicqueError(f"{option} {value * 1e6:g} makes {points:,.0f} samples of {duration:g} s; allowed "
                            f"{MIN_POINTS}..{MAX_POINTS:,}: choose {option} accordingly")
    condition = tem.recovery(encoders, bandwidth, peak)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = {}
    if backend == "float":
        n = int(round(duration / grid))
        say(f"encoding {duration:g} s on a {grid * 1e6:g} us grid with {len(encoders)} encoder(s)")
        times = tem.encode(encoders, signal(np.arange(n + 1) * grid), grid)
        decoding = encoders
    else:
        compiled = tem.compile_encoders(encoders, step, peak, lanes=lanes)
        steps = int(round(duration / step))
        u_mid = signal((np.arange(steps) + 0.5) * step)
        say(f"fixed-point encoder: {steps:,} steps of {step * 1e6:g} us")
        raster = tem.fixed_spikes(compiled, u_mid)
        decoding = compiled.encoders
        condition = tem.recovery(decoding, bandwidth, peak)
        extra["quantisation"] = compiled.quantisation
        extra["encoders_as_compiled"] = [e.describe() for e in decoding]
        if backend == "rtl":
            from .verify import verify

            say(f"RTL encoder on {compiled.spec.neurons} neuron(s)")
            checked = verify(compiled.spec, steps, out / "rtl", seed=seed, sim=sim, status=say,
                             state=zero_state(compiled.spec.neurons), ext=compiled.inputs(u_mid))
            rtl = np.load(out / "rtl" / "sim" / "traces.npz")["spike"].astype(bool)
            equal = rtl.shape == raster.shape and bool(np.all(rtl == raster))
            fixed_times = compiled.spike_times(raster)
            extra.update({
                "bit_exact_mismatches": checked["bit_exact_mismatches"],
                "updates_checked": checked["updates_checked"],
                "rtl_spikes_equal_fixed": equal,
                "verified": bool(checked["passed"]) and equal,
                "simulator": sim,
                "verification": str(out / "rtl" / "summary.json"),
            })
            raster = rtl
        times = compiled.spike_times(raster)
    spikes = [int(len(t)) for t in times]
    meas = tem.Measurements.from_spikes(decoding, times)
    if len(meas) < 2:
        raise LapicqueError(f"{sum(spikes)} spikes: too few to decode; lengthen the signal or raise the bias")

    rate = SAMPLES_PER_BAND * bandwidth
    samples = int(math.floor(duration * rate))
    t_out = np.arange(samples) / rate
    truth = signal(t_out)
    chosen = block if block is not None else default_block(decoder, meas, duration)
    say(f"decoding {len(meas):,} measurements ({decoder})")
    decode0 = time.perf_counter()
    recon = reconstruct(meas, bandwidth, rate, samples, decoder, chosen)
    decode_s = time.perf_counter() - decode0
    middle = tem.central(t_out, duration, SNR_TRIM)
    snr = tem.snr_db(truth[middle], recon[middle])
    if backend == "rtl":
        fixed_meas = tem.Measurements.from_spikes(decoding, fixed_times)
        fixed_recon = reconstruct(fixed_meas, bandwidth, rate, samples, decoder, chosen)
        extra["fixed_snr_db"] = tem.snr_db(truth[middle], fixed_recon[middle])

    warning = None if condition["satisfied"] else (
        f"the recovery condition fails ({condition['value']:.3g} >= {condition['bound']:.3g}): the spikes may be "
        "too sparse for this bandwidth; raise the bias or lower the threshold")
    one = len(encoders) == 1
    summary = {
        "backend": backend,
        "signal": description or {},
        "bandwidth_hz": bandwidth,
        "duration_s": duration,
        "neuron": decoding[0].describe() if one else [e.describe() for e in decoding],
        "encoders": len(encoders),
        "spikes": spikes[0] if one else spikes,
        "recoverable": condition,
        "recovery_warning": warning,
        "decoder": decoder,
        "block": None if chosen is None else {"window_s": chosen[0], "overlap_s": chosen[1]},
        "snr_db": snr,
        "snr_window_s": [SNR_TRIM * duration, (1 - SNR_TRIM) * duration],
        "output_rate_hz": rate,
        "encoder_grid_s": grid if backend == "float" else step,
        **extra,
        "decode_s": decode_s,
        "wall_s": time.perf_counter() - wall0,
        "provenance": provenance(),
    }
    from lapicque.plots import tem_png

    write_npz(out / "signal.npz", t=t_out, signal=truth, reconstruction=recon, error=recon - truth,
              **{f"spikes_{k}": t for k, t in enumerate(times)})
    write_atomic(out / "tem.png", tem_png(t_out, truth, recon, times, summary))
    write_json(out / "summary.json", summary)
    return summary
