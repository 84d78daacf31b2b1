"""Plots of analysis results as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io

import numpy as np


def blank_figure(width: float = 7.0, height: float = 3.2):
    """A matplotlib Figure without axes (no pyplot state, no display), for layouts of one's own."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def figure(width: float = 7.0, height: float = 3.2, ncols: int = 1):
    """A matplotlib Figure (no pyplot state, no display) and its axes."""
    fig = blank_figure(width, height)
    axes = fig.subplots(1, ncols) if ncols > 1 else fig.subplots()
    return fig, axes


def png_bytes(fig, dpi: int = 90) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def fi_png(summary: dict) -> bytes:
    """The f-I curve of `lapicque fi`'s summary, with the closed form where there is one."""
    fig, ax = figure(6, 3.6)
    ax.plot(summary["currents"], summary["rates_hz"], "o-", ms=3, label=f"{summary['model']} ({summary['method']})")
    if summary.get("closed_form_rates_hz"):
        ax.plot(summary["currents"], summary["closed_form_rates_hz"], "k--", lw=1, label="closed form")
    if summary.get("rheobase") is not None:
        ax.axvline(summary["rheobase"], color="grey", ls=":", lw=0.8, label="rheobase")
    ax.set_xlabel("input current")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"f-I curve, dt {summary['dt_ms']:g} ms", fontsize=10)
    ax.legend(fontsize=8)
    return png_bytes(fig)


def noise_png(summary: dict) -> bytes:
    """`lapicque fi --sigma`: the f-I curve with noise (Siegert against simulation, and the noiseless
    closed form), and the linear response's gain and phase against frequency."""
    noise = summary["noise"]
    fig, (left, middle, right) = figure(11, 3.4, 3)
    left.plot(summary["currents"], summary["closed_form_rates_hz"], "k--", lw=1, label="no noise (closed form)")
    left.plot(summary["currents"], noise["siegert_rates_hz"], lw=1.5, label="Siegert")
    left.plot(summary["currents"], noise["simulated_rates_hz"], "o", ms=3,
              label=f"simulated ({noise['simulated_neurons']} neurons)")
    left.set_xlabel("input current (pA)")
    left.set_ylabel("rate (Hz)")
    left.set_title(f"f-I with noise, sigma {noise['sigma_mv']:g} mV", fontsize=10)
    left.legend(fontsize=7)
    middle.loglog(noise["response_frequencies_hz"], noise["response_gain_hz_per_mv"])
    middle.set_xlabel("modulation frequency (Hz)")
    middle.set_ylabel("gain |chi| (Hz / mV)")
    middle.set_title(f"linear response at mu {noise['response_mu_mv']:.3g} mV", fontsize=10)
    right.semilogx(noise["response_frequencies_hz"], noise["response_phase_rad"])
    right.set_xlabel("modulation frequency (Hz)")
    right.set_ylabel("phase (rad)")
    return png_bytes(fig)


def raster_png(result, title: str = "", neurons: int = 500) -> bytes:
    """A network run at a glance: spike raster of the first `neurons` neurons, the population rate
    (1 ms bins), the interspike-interval histogram and the population rate's power spectrum."""
    from lapicque.golden.inputs import spike_train_spectrum

    fig = blank_figure(9, 6.5)
    grid = fig.add_gridspec(3, 2, height_ratios=[3, 1.2, 1.6])
    raster = fig.add_subplot(grid[0, :])
    rate_ax = fig.add_subplot(grid[1, :], sharex=raster)
    isi_ax, spec_ax = fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1])
    shown = result.spike_neurons < neurons
    raster.plot(result.spike_times[shown], result.spike_neurons[shown], ".", ms=1, color="k")
    raster.set_ylabel("neuron")
    raster.set_title(title, fontsize=10)
    t, rate = result.population_rate(1.0)
    rate_ax.plot(t, rate, lw=0.8)
    rate_ax.set_xlabel("time (ms)")
    rate_ax.set_ylabel("rate (Hz)")
    rate_ax.set_ylim(0, max(1.0, float(np.max(rate, initial=0)) * 1.1))
    order = np.lexsort((result.spike_times, result.spike_neurons))
    same = result.spike_neurons[order][1:] == result.spike_neurons[order][:-1]
    isi = np.diff(result.spike_times[order])[same]
    if isi.size:
        isi_ax.hist(isi, bins=50, color="grey")
    isi_ax.set_xlabel("interspike interval (ms)")
    isi_ax.set_ylabel("count")
    if result.spike_times.size:
        freqs, power = spike_train_spectrum(result.spike_times, result.duration, 1.0)
        keep = (freqs > 0) & (freqs <= 200)
        spec_ax.semilogy(freqs[keep], power[keep] / result.neurons, lw=0.8)
    spec_ax.set_xlabel("frequency (Hz)")
    spec_ax.set_ylabel("population power / N")
    fig.set_layout_engine("constrained")
    return png_bytes(fig)


def tem_png(t, signal, reconstruction, spikes, summary: dict) -> bytes:
    """`lapicque tem`: the signal and its reconstruction with each encoder's spikes, and the error."""
    fig = blank_figure(9, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top.plot(t, signal, "k", lw=1.2, label="signal")
    top.plot(t, reconstruction, color="tab:orange", lw=1, ls="--", label=f"decoded ({summary['decoder']})")
    low = float(min(signal.min(), reconstruction.min()))
    for k, times in enumerate(spikes):
        top.plot(times, np.full(len(times), low - 0.1 * (k + 1)), "|", ms=4, color=f"C{k % 10}")
    top.set_ylabel("u(t)")
    top.legend(fontsize=8, loc="upper right")
    top.set_title(f"{summary['backend']}: SNR {summary['snr_db']:.1f} dB over "
                  f"{summary['snr_window_s'][0]:g}-{summary['snr_window_s'][1]:g} s", fontsize=10)
    bottom.plot(t, reconstruction - signal, color="tab:red", lw=0.8)
    for edge in summary["snr_window_s"]:
        bottom.axvline(edge, color="grey", ls=":", lw=0.8)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("error")
    return png_bytes(fig)


def density_png(run, summary: dict) -> bytes:
    """`lapicque density`: the population rate over time, and density snapshots over the voltage."""
    fig, (left, right) = figure(11, 3.6, 2)
    left.plot(run.times_ms / 1000.0, run.rate_hz, lw=1, label="Fokker-Planck")
    if summary.get("stationary_rate_hz") is not None:
        left.axhline(summary["stationary_rate_hz"], color="grey", ls="--", lw=0.8, label="stationary")
    left.set_xlabel("time (s)")
    left.set_ylabel("rate (Hz)")
    title = f"mu {summary['mu']:g}, sigma {summary['sigma']:g}, J {summary['coupling']:g}"
    if summary.get("blow_up"):
        title += f": blow-up at {summary['blow_up']['time_ms']:.1f} ms"
        left.set_yscale("log")
    left.set_title(title, fontsize=10)
    left.legend(fontsize=8)
    for t, p in run.snapshots.items():
        right.plot(run.grid.centres, p, lw=1, label=f"{t:g} ms")
    right.set_xlabel("membrane potential (threshold 1, reset 0)")
    right.set_ylabel("density")
    right.legend(fontsize=7)
    return png_bytes(fig)


def fit_png(summary: dict, voltage, model_voltage, model_spikes_ms, dt: float) -> bytes:
    """`lapicque fit`: the kernels with their standard errors (and the truth, when known), and a window of
    the held-out recording against the model's subthreshold voltage and one simulated trial's spikes."""
    fig, (eta_ax, gamma_ax, trace_ax) = figure(13, 3.6, 3)
    p, se, true = summary["params"], summary["kernel_stderr"], summary.get("true") or {}
    for ax, key, unit, err in ((eta_ax, "eta", "pA", "eta_pA"), (gamma_ax, "gamma", "mV", "gamma_mV")):
        edges = np.asarray(p[f"{key}_{unit}"]["edges_ms"])
        values = np.asarray(p[f"{key}_{unit}"]["values"])
        if len(values):
            centres = np.sqrt(edges[:-1] * edges[1:])
            ax.errorbar(centres, values, yerr=2 * np.asarray(se[err]), fmt="o", ms=3, label="fitted (2 s.e.)")
            shown = [values]
            if f"{key}_{unit}" in true:
                ax.plot(centres, true[f"{key}_{unit}"], "k_", ms=12, label="true")
                shown.append(np.asarray(true[f"{key}_{unit}"]))
            # bins the data cannot inform (no spikes possible there) have huge errors: keep the values in view
            low, high = float(np.min(np.concatenate(shown))), float(np.max(np.concatenate(shown)))
            pad = 0.3 * max(high - low, abs(high), 1e-3)
            ax.set_ylim(low - pad, high + pad)
            ax.set_xscale("log")
            ax.legend(fontsize=8)
        ax.set_xlabel("time after spike (ms)")
        ax.set_ylabel(f"{key} ({unit})")
        ax.set_title(f"spike-triggered {'current' if key == 'eta' else 'threshold'}", fontsize=10)
    window = min(len(voltage), int(round(1000.0 / dt)))
    t = np.arange(window) * dt
    trace_ax.plot(t, voltage[:window], "k", lw=0.6, label="recording")
    trace_ax.plot(t, model_voltage[:window], color="tab:orange", lw=0.8, label="model (recorded spikes imposed)")
    shown = model_spikes_ms[model_spikes_ms < t[-1]]
    trace_ax.plot(shown, np.full(len(shown), float(np.nanmax(voltage[:window])) + 5), "|", color="tab:red", ms=8,
                  label="model spikes (one trial)")
    trace_ax.set_xlabel("held-out time (ms)")
    trace_ax.set_ylabel("V (mV)")
    trace_ax.set_title(f"coincidence factor {summary['coincidence_factor']:.2f}", fontsize=10)
    trace_ax.legend(fontsize=7, loc="lower right")
    return png_bytes(fig)
