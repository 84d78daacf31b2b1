"""A neuron model under sliders: the figure, or a PNG of it."""

from __future__ import annotations

from pathlib import Path


def explore(*, model: str = "adex", current: float | None = None, duration: float = 500.0,
            save: Path | str | None = None, window: bool = False):
    """The explorer of `model` (lapicque.explore.Explorer): its membrane trace under a current step of
    `current` (default: the model's) over `duration` ms, a slider for every parameter. With `save`, the
    figure is written to that PNG; `window` puts it in a pyplot window (the command's default)."""
    from lapicque.explore import build
    from lapicque.files import write_atomic
    from lapicque.plots import png_bytes

    explorer = build(model, duration=duration, current=current, window=window)
    if save is not None:
        write_atomic(Path(save), png_bytes(explorer.figure))
    return explorer
