"""Plots of analysis results as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io


def figure(width: float = 7.0, height: float = 3.2, ncols: int = 1):
    """A matplotlib Figure (no pyplot state, no display) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
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


def raster_png(result, title: str = "", neurons: int = 500) -> bytes:
    """Spike raster of the first `neurons` neurons and the population rate (1 ms bins)."""
    import numpy as np

    fig = figure(8, 4.5)[0]
    fig.clear()
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    shown = result.spike_neurons < neurons
    top.plot(result.spike_times[shown], result.spike_neurons[shown], ".", ms=1, color="k")
    top.set_ylabel("neuron")
    top.set_title(title, fontsize=10)
    t, rate = result.population_rate(1.0)
    bottom.plot(t, rate, lw=0.8)
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("rate (Hz)")
    bottom.set_ylim(0, max(1.0, float(np.max(rate, initial=0)) * 1.1))
    return png_bytes(fig)
