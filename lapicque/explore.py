"""`lapicque explore`: a single neuron's response under sliders for its parameters and input.

A matplotlib window: the membrane trace under a step of current (on at 20 % of the window), the
spike times and the rate in the title, and one slider per parameter plus the current. Moving a
slider re-simulates (`lapicque.golden.models.simulate`). `--save FILE.png` renders the same figure
without a window (for headless machines and documentation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lapicque.golden.models import Model, get_model, simulate

DEFAULT_CURRENT = {"izhikevich": 10.0, "fitzhugh-nagumo": 0.5, "hodgkin-huxley": 10.0}


def slider_range(name: str, value: float) -> tuple[float, float]:
    """A sensible slider span around a default: voltages +-30 mV, positive quantities x0.2..x5."""
    if name.startswith(("v_", "e_")) or value < 0:
        return value - 30.0, value + 30.0
    if value == 0:
        return 0.0, 10.0
    return value * 0.2, value * 5.0


@dataclass
class Explorer:
    model_name: str
    figure: object
    sliders: dict
    line: object
    duration: float
    dt: float

    def params(self) -> dict:
        return {k: float(s.val) for k, s in self.sliders.items() if k != "current"}

    def simulate(self) -> tuple[Model, np.ndarray, np.ndarray, np.ndarray]:
        model = get_model(self.model_name, **self.params())
        steps = int(round(self.duration / self.dt))
        onset = int(steps * 0.2)
        current = np.zeros((steps, 1))
        current[onset:] = float(self.sliders["current"].val)
        result = simulate(model, current, self.duration, self.dt, neurons=1, record=[0])
        return model, result.t, result.trace[:, 0, 0], result.spike_times

    def update(self, _=None) -> None:
        model, t, v, spikes = self.simulate()
        self.line.set_data(t, v)
        ax = self.line.axes
        ax.relim()
        ax.autoscale_view()
        on = self.duration * 0.8 / 1000.0
        ax.set_title(f"{model.name}: {len(spikes)} spikes, {len(spikes) / on:.1f} Hz while the current is on",
                     fontsize=10)
        self.figure.canvas.draw_idle()


def build(model_name: str, duration: float = 500.0, dt: float = 0.05, current: float | None = None,
          window: bool = False) -> Explorer:
    """The explorer's figure, sliders wired, first trace drawn; `window` puts it in a pyplot window."""
    from matplotlib.figure import Figure
    from matplotlib.widgets import Slider

    model = get_model(model_name)
    names = [k for k, v in model.p.items() if isinstance(v, int | float)]
    size = (9, 4 + 0.28 * (len(names) + 1))
    if window:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size)
    else:
        fig = Figure(figsize=size)
    height = 0.28 * (len(names) + 1) / fig.get_figheight()
    ax = fig.add_axes((0.08, height + 0.12, 0.88, 0.78 - height))
    (line,) = ax.plot([], [], lw=1)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(model.state[0])
    sliders = {}
    rows = [("current", DEFAULT_CURRENT.get(model.name, 800.0) if current is None else current)]
    rows += [(k, float(model.p[k])) for k in names]
    for row, (name, value) in enumerate(rows):
        lo, hi = slider_range(name, value) if name != "current" else (min(0.0, value * 2), max(value * 2, 1.0))
        slot = fig.add_axes((0.25, height + 0.02 - (row + 1) * 0.28 / fig.get_figheight(), 0.6,
                             0.2 / fig.get_figheight()))
        sliders[name] = Slider(slot, name, lo, hi, valinit=value)
    explorer = Explorer(model.name, fig, sliders, line, duration, dt)
    for s in sliders.values():
        s.on_changed(explorer.update)
    explorer.update()
    return explorer


def has_display() -> bool:
    """Whether matplotlib can open a window here."""
    import os
    import sys

    import matplotlib

    backend = matplotlib.get_backend().lower()
    if backend in ("agg", "pdf", "ps", "svg", "cairo", "template") or "inline" in backend:
        return False
    return sys.platform != "linux" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
