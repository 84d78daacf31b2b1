"""Run an array on a programmed board over its UART and check it against the bit-exact model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lapicque.boards.board import DEFAULT_BAUD
from lapicque.errors import LapicqueError
from lapicque.spec import ArraySpec

from .build import board_spec
from .folders import owned, quiet


def watch_list(watch: str | Sequence[int], neurons: int) -> list[int]:
    """Neuron numbers to stream back, from "0,5,9" or a sequence, each within the array."""
    if isinstance(watch, str):
        try:
            watch = [int(x) for x in watch.split(",") if x.strip()]
        except ValueError:
            raise LapicqueError(f"--watch takes neuron numbers separated by commas, not {watch!r}") from None
    bad = [n for n in watch if not 0 <= n < neurons]
    if bad:
        raise LapicqueError(f"--watch neuron {bad[0]} is out of range; the array has {neurons} neurons")
    return list(watch)


def run_on_board(*, board: str, port: str, spec: Path | str | ArraySpec | None = None, neurons: int | None = None,
                 lanes: int | None = None, weight_bits: int | None = None, rounding: str | None = None,
                 no_watch: bool = False, seed: int = 0,
                 steps: int = 100, watch: str | Sequence[int] = "", baud: int = DEFAULT_BAUD,
                 out: Path | str | None = None, status=None) -> dict:
    """Load an array onto a board programmed by `lapicque build` (docs/protocol.md), run `steps` timesteps and
    compare the spikes and watched states with the bit-exact model.

    spec: a TOML file (`lanes`, `weight_bits` and `no_watch` override it; default: a random array of the
    board's build shape, `neurons` x `lanes` with `weight_bits`-bit weights, default 8, and `rounding`,
    seeded by `seed`; they must be the bitstream's);
    watch: neurons whose states stream back; out: results folder (summary.json, spikes.npy).
    Returns the summary (`matches_model`, `problems`, ...).
    """
    from dataclasses import replace

    from lapicque.boards.board import get_board
    from lapicque.boards.host import ArrayLink, compare_runs, model_run
    from lapicque.files import write_json, write_npy
    from lapicque.sim.stimulus import initial_state
    from lapicque.spec import random_spec

    target = get_board(board)
    shape = board_spec(target, neurons, lanes, weight_bits, no_watch, spec, rounding)
    array = shape if spec is not None else replace(random_spec(shape.neurons, shape.lanes, seed=seed,
                                                               widths=shape.widths, rounding=shape.rounding),
                                                   monitor=shape.monitor)
    watched = watch_list(watch, array.neurons)
    state = initial_state(array, seed)
    link = ArrayLink.open(port, array, baud=baud)  # the port and the bitstream's identity: input, checked first
    with owned(out, "run") as folder:
        say = quiet(status)
        say("loading parameters, state and weights")
        link.load(state)
        link.watch(watched)
        say(f"running {steps} timesteps")
        got = link.run(steps)
        problems = compare_runs(got, model_run(array, state, steps, watched))
        summary = {"board": target.name, "port": port, "neurons": array.neurons, "steps": steps,
                   "spikes": int(len(got.spikes)), "watched": watched, "matches_model": not problems,
                   "problems": problems, "busy_cycles": got.busy_cycles}
        if folder is not None:
            write_npy(folder / "spikes.npy", got.spikes)
            write_json(folder / "summary.json", summary)
        return summary
