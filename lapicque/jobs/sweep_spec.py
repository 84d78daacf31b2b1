"""A sweep file: the workload, the axes to explore, the stages every point runs and the objectives.

    name = "lca-widths"
    stages = ["model", "rtl", "board"]

    [workload]
    kind = "lca"                 # lca | tem | verify
    problem = "random"
    atoms = 64
    seeds = [0, 1, 2]            # every seed-dependent stage runs once per seed; figures are medians over them

    [axes]                       # a list per parameter; the points are every combination
    weight_bits = [4, 6, 8, 10]
    lanes = [1, 2]
    board = ["icebreaker", "ulx3s-85f"]

    [objectives]                 # figure = "min" | "max"
    rel_gap = "min"
    luts = "min"

Every parameter of a workload can be fixed in [workload] or swept in [axes], not both. Each parameter
says which stages it changes (`Param.stages`): a stage's task is keyed by those parameters only, so
points that differ only in what a stage does not read share that stage's task (one board build per
distinct array, one model run per distinct quantisation). Everything here is checked before any task
runs (`load_sweep`): a bad file is one LapicqueError naming the key and what is allowed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lapicque.errors import LapicqueError

STAGES = ("model", "rtl", "board")
DIRECTIONS = ("min", "max")
#: the most points one sweep file may expand to (a typo such as a range of 1000 values is caught early)
MAX_POINTS = 10_000


def _integer(low: int, high: int) -> Callable[[object], str | None]:
    def check(value):
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a whole number from {low} to {high}"
    return check


def _real(low: float, high: float, *, open_low: bool = False) -> Callable[[object], str | None]:
    def check(value):
        ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
              and (low < value if open_low else low <= value) and value <= high)
        return None if ok else f"a number {'above' if open_low else 'from'} {low:g} {'and up' if open_low else 'to'} " \
                               f"{high:g}"
    return check


def _one_of(*choices) -> Callable[[object], str | None]:
    def check(value):
        return None if value in choices and not isinstance(value, bool) else "one of " + ", ".join(map(str, choices))
    return check


def _boolean(value) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _board(value) -> str | None:
    from lapicque.boards.board import all_boards

    names = [b.name for b in all_boards()]
    return None if value in names else "one of " + ", ".join(names)


def _or_default(check: Callable[[object], str | None], word: str) -> Callable[[object], str | None]:
    """`check`, or the word that asks for the job's own default (TOML has no null)."""
    def either(value):
        return None if value == word else (None if check(value) is None else f"{check(value)}, or \"{word}\"")
    return either


def _text(value) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


@dataclass(frozen=True)
class Param:
    """A workload's parameter: what it allows, its default, and the stages whose results it changes."""

    check: Callable[[object], str | None]
    default: object
    stages: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    """What a workload runs: its parameters, its stages and the figures each stage gives, the stages a stage
    reads (the board build reads the array the model compiled), and the figures made from several stages."""

    params: dict[str, Param]
    figures: dict[str, tuple[str, ...]]
    reads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)  # figure -> stages it needs
    seeded: tuple[str, ...] = ("model", "rtl")  # the stages that run once per seed


def _rounding(value) -> str | None:
    from lapicque.spec import ROUNDING_MODES

    return _one_of(*ROUNDING_MODES)(value)


_SIMULATOR = Param(_one_of("verilator", "icarus"), "verilator", ("rtl",))
_BOARD = Param(_board, "ulx3s-85f", ("board",))
_CLOCK = Param(_or_default(_real(1.0, 400.0), "default"), "default", ("board",))
_LANES = Param(_integer(1, 64), 1, ("rtl", "board"))
BOARD_FIGURES = ("luts", "ebr", "spram", "dsp", "fmax_mhz", "clock_mhz", "timing_met")

WORKLOADS: dict[str, Workload] = {
    "lca": Workload(
        params={
            "problem": Param(_one_of("identity", "zero", "competition", "excitation", "bars", "random", "patches"),
                             "random", ("model", "rtl", "board")),
            "atoms": Param(_integer(1, 4096), 64, ("model", "rtl", "board")),
            "dim": Param(_integer(1, 4096), 32, ("model", "rtl", "board")),
            "sparsity": Param(_integer(1, 4096), 4, ("model", "rtl", "board")),
            "lam": Param(_real(0.0, 1e6, open_low=True), 0.1, ("model", "rtl", "board")),
            "nonnegative": Param(_boolean, False, ("model", "rtl", "board")),
            "steps": Param(_integer(1, 65535), 1000, ("model", "rtl")),
            "rate": Param(_real(0.0, 1.0, open_low=True), 0.25, ("model", "rtl", "board")),
            "target_gap": Param(_or_default(_real(0.0, 1.0, open_low=True), "none"), "none",
                                ("model", "rtl", "board")),  # it chooses the weight exponent when that is "auto"
            "weight_bits": Param(_integer(2, 16), 8, ("model", "rtl", "board")),
            "weight_exponent": Param(_or_default(_integer(0, 16), "auto"), "auto", ("model", "rtl", "board")),
            "rounding": Param(_rounding, "toward_zero", ("model", "rtl", "board")),
            # the testbench's back-pressure on the RTL run (`lca --backpressure`): 0 counts the array's own cycles
            "backpressure": Param(_real(0.0, 0.99), 0.02, ("rtl",)),
            "lanes": _LANES, "sim": _SIMULATOR, "board": _BOARD, "clock": _CLOCK,
        },
        figures={
            "model": ("rel_gap", "steps_to_1pct_gap", "predicted_gap", "weight_exponent", "neurons", "spikes"),
            "rtl": ("verified", "bit_exact_mismatches", "cycles_per_step", "cycles_to_1pct_gap"),
            "board": BOARD_FIGURES,
        },
        reads={"board": ("model",)},
        derived={"time_to_1pct_gap_us": ("rtl", "board")},
        seeded=("model",),  # the RTL verifies and times the first seed's problem (bit-exact to its model run)
    ),
    "tem": Workload(
        params={
            "bandwidth": Param(_real(0.0, 1e6, open_low=True), 100.0, ("model", "rtl")),
            "duration": Param(_real(0.0, 60.0, open_low=True), 0.1, ("model", "rtl")),
            "tones": Param(_integer(1, 1000), 10, ("model", "rtl")),
            "neuron": Param(_one_of("ideal", "leaky"), "ideal", ("model", "rtl")),
            "bias": Param(_real(0.0, 1e6, open_low=True), 3.5, ("model", "rtl")),
            "delta": Param(_real(0.0, 1e6, open_low=True), 0.7, ("model", "rtl")),
            "kappa": Param(_real(0.0, 1e6, open_low=True), 0.01, ("model", "rtl")),
            "encoders": Param(_integer(1, 256), 1, ("model", "rtl")),
            "decoder": Param(_one_of("spline", "sinc", "vandermonde"), "spline", ("model", "rtl")),
            "step_us": Param(_real(0.0, 1e6, open_low=True), 10.0, ("model", "rtl")),
            "lanes": _LANES, "sim": _SIMULATOR,
        },
        figures={"model": ("snr_db", "spikes", "recoverable"),
                 "rtl": ("verified", "bit_exact_mismatches")},
    ),
    "verify": Workload(
        params={
            "spec": Param(_or_default(_text, "random"), "random", ("rtl", "board")),
            "neurons": Param(_integer(1, 8192), 64, ("rtl", "board")),
            "steps": Param(_integer(1, 1_000_000), 500, ("rtl",)),
            "backpressure": Param(_real(0.0, 0.99), 0.02, ("rtl",)),
            "rounding": Param(_rounding, "toward_zero", ("rtl", "board")),
            "lanes": _LANES, "sim": _SIMULATOR, "board": _BOARD, "clock": _CLOCK,
        },
        figures={"rtl": ("passed", "bit_exact_mismatches", "float_bound_violations", "max_float_error_lsb",
                         "cycles_per_step", "cycles_per_step_bound", "coverage_missed"),
                 "board": BOARD_FIGURES},
        seeded=("rtl",),  # the board build reads the shape and widths only, not the random weights
    ),
}


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file: every point's parameters, the stages, the objectives."""

    name: str
    path: Path
    kind: str
    fixed: dict
    axes: dict[str, list]
    seeds: tuple[int, ...]
    stages: tuple[str, ...]
    objectives: dict[str, str]

    @property
    def workload(self) -> Workload:
        return WORKLOADS[self.kind]

    def points(self) -> list[dict]:
        """Every combination of the axes (in the file's order) over the fixed parameters and the defaults."""
        base = {name: p.default for name, p in self.workload.params.items()} | self.fixed
        names = list(self.axes)
        return [base | dict(zip(names, values, strict=True)) for values in itertools.product(*self.axes.values())]

    def figures(self) -> tuple[str, ...]:
        """The figures this sweep's stages give."""
        w = self.workload
        given = [f for stage in self.stages for f in w.figures[stage]]
        given += [f for f, needs in w.derived.items() if set(needs) <= set(self.stages)]
        return tuple(dict.fromkeys(given))


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}"


def load_sweep(path: Path | str) -> SweepSpec:
    """The sweep file at `path`, checked whole: a LapicqueError names the first problem and what is allowed."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise LapicqueError(f"sweep file {path} does not exist; give the path of a .toml sweep file "
                            "(examples/sweeps/)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LapicqueError(f"cannot read sweep file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LapicqueError(f"{path} is not valid TOML ({exc}); fix the file") from None
    unknown = set(data) - {"name", "stages", "workload", "axes", "objectives"}
    if unknown:
        raise LapicqueError(f"{_where(path, sorted(unknown)[0])}: unknown key; a sweep file holds name, stages, "
                            "[workload], [axes] and [objectives]")
    workload = data.get("workload")
    if not isinstance(workload, dict) or "kind" not in workload:
        raise LapicqueError(f"{path}: [workload] with kind = one of {', '.join(WORKLOADS)} is required")
    kind = workload["kind"]
    if not isinstance(kind, str) or kind not in WORKLOADS:
        raise LapicqueError(f"{_where(path, 'workload.kind')} = {kind!r} is unknown; choose one of "
                            f"{', '.join(WORKLOADS)}")
    w = WORKLOADS[kind]
    name = data.get("name", path.stem)
    if _text(name):
        raise LapicqueError(f"{_where(path, 'name')} must be {_text(name)}")

    stages = data.get("stages", [s for s in STAGES if s in w.figures][:1])
    if not isinstance(stages, list) or not stages:
        raise LapicqueError(f"{_where(path, 'stages')} must be a non-empty list of {', '.join(w.figures)}")
    for stage in stages:
        if not isinstance(stage, str) or stage not in w.figures:
            raise LapicqueError(f"{_where(path, 'stages')}: {stage!r} is not a stage of a {kind} sweep; choose from "
                                f"{', '.join(w.figures)}")
    if len(set(stages)) != len(stages):
        raise LapicqueError(f"{_where(path, 'stages')} names a stage twice")
    for stage in stages:
        for needed in w.reads.get(stage, ()):
            if needed not in stages:
                raise LapicqueError(f"{_where(path, 'stages')}: the {stage} stage reads the {needed} stage's results; "
                                    f"add \"{needed}\"")
    stages = tuple(s for s in STAGES if s in stages)  # run order

    seeds = workload.get("seeds", [workload["seed"]] if "seed" in workload else [0])
    if "seed" in workload and "seeds" in workload:
        raise LapicqueError(f"{path}: give workload.seed or workload.seeds, not both")
    if not isinstance(seeds, list) or not seeds or any(_integer(0, 2**32 - 1)(s) for s in seeds):
        raise LapicqueError(f"{_where(path, 'workload.seeds')} must be a non-empty list of whole numbers from 0 to "
                            "4294967295")
    if len(set(seeds)) != len(seeds):
        raise LapicqueError(f"{_where(path, 'workload.seeds')} lists a seed twice")

    fixed = {k: v for k, v in workload.items() if k not in ("kind", "seed", "seeds")}
    axes = data.get("axes", {})
    if not isinstance(axes, dict):
        raise LapicqueError(f"{_where(path, 'axes')} must be a table of lists")
    for section, values in (("workload", fixed), ("axes", axes)):
        for key in values:
            if key not in w.params:
                raise LapicqueError(f"{_where(path, f'{section}.{key}')}: unknown parameter of a {kind} sweep; "
                                    f"known: {', '.join(w.params)}")
    for key in axes:
        if key in fixed:
            raise LapicqueError(f"{_where(path, key)} is both fixed in [workload] and swept in [axes]; keep one")
    for key, value in fixed.items():
        problem = w.params[key].check(value)
        if problem:
            raise LapicqueError(f"{_where(path, f'workload.{key}')} = {value!r} is out of range; allowed: {problem}")
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise LapicqueError(f"{_where(path, f'axes.{key}')} must be a non-empty list of values (an empty axis "
                                "leaves no points)")
        for value in values:
            problem = w.params[key].check(value)
            if problem:
                raise LapicqueError(f"{_where(path, f'axes.{key}')}: {value!r} is out of range; allowed: {problem}")
        if len({json.dumps(v) for v in values}) != len(values):
            raise LapicqueError(f"{_where(path, f'axes.{key}')} lists a value twice")
    count = math.prod(len(v) for v in axes.values())
    if count > MAX_POINTS:
        raise LapicqueError(f"{path}: the axes make {count:,} points; at most {MAX_POINTS:,} (split the sweep)")

    objectives = data.get("objectives", {})
    if not isinstance(objectives, dict) or not objectives:
        raise LapicqueError(f"{path}: [objectives] must name at least one figure = \"min\" or \"max\"")
    spec = SweepSpec(name, path, kind, fixed, axes, tuple(seeds), stages, dict(objectives))
    produced = spec.figures()
    for figure, direction in objectives.items():
        if figure not in produced:
            makers = [s for s, figs in w.figures.items() if figure in figs] or list(w.derived.get(figure, ()))
            fix = (f"add the stage {' and '.join(makers)}" if makers else
                   f"a {kind} sweep's stages give {', '.join(f for s in w.figures for f in w.figures[s])}")
            raise LapicqueError(f"{_where(path, f'objectives.{figure}')}: no stage of this sweep gives it; {fix}")
        if direction not in DIRECTIONS:
            raise LapicqueError(f"{_where(path, f'objectives.{figure}')} = {direction!r}; choose \"min\" or \"max\"")
    if kind == "verify":
        files = [v for v in axes.get("spec", [fixed.get("spec", "random")]) if v != "random"]
        if files and ("neurons" in fixed or "neurons" in axes):
            raise LapicqueError(f"{_where(path, 'workload.neurons')} is for the random array; a spec file gives its "
                                "own size: drop neurons")
        for name in files:
            if not (path.parent / name).is_file():
                raise LapicqueError(f"{_where(path, 'spec')}: {path.parent / name} does not exist (a spec path is "
                                    "relative to the sweep file)")
    return spec


def task_key(kind: str, stage: str, params: dict, seed: int | None, versions: dict) -> str:
    """The content hash that names a stage's task: everything that determines its result."""
    text = json.dumps({"kind": kind, "stage": stage, "params": params, "seed": seed, "versions": versions},
                      sort_keys=True, separators=(",", ":"))
    return f"{stage}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def pareto(points: list[dict], first: str, second: str, directions: dict[str, str]) -> list[int]:
    """Indices of the non-dominated points for the objectives `first` and `second` (points without both
    figures, or with a NaN, take no part), ordered along `first`."""
    def value(point, name):
        x = point["figures"].get(name)
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            return None
        return x if directions[name] == "min" else -x

    scored = [(i, value(p, first), value(p, second)) for i, p in enumerate(points) if p["status"] == "done"]
    scored = [s for s in scored if s[1] is not None and s[2] is not None]
    front = []
    for i, a, b in scored:
        dominated = any((a2 <= a and b2 <= b) and (a2 < a or b2 < b) for _, a2, b2 in scored)
        if not dominated:
            front.append((a, b, i))
    return [i for _, _, i in sorted(front)]
