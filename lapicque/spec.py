"""The neuron-array description: the one place where widths, shifts, rounding and update order live.

The fixed-point model (`lapicque.golden`), the RTL generator (`lapicque.hdl`) and the scoreboard
(`lapicque.sim`) all read an `ArraySpec`; none of them repeats a width or a rule.

Update rule per neuron and timestep, in this order (codes are integers; rest is code 0)::

    acc   = sum of w[src, n] over the spikes of the previous step            (exact, never overflows)
    i    <- sat_i( decay(i, du) + (acc + ext) << weight_exponent )            (always exponential)
    if ref > 0:                ref <- ref - 1 ; v unchanged ; no spike          (refractory)
    else:
        pull = reset_current if (hysteresis and pulse) else 0
        v  <- sat_v( leak(v, dv) + i + bias - pull )
        normal mode:     spike = v >= theta_hi ; on spike v <- v_reset (absolute) or v - theta_hi
                         (subtract, saturated) and ref <- refractory
        hysteresis mode: a pulse starts when v >= theta_hi; spike = pulse (one spike per step the
                         pulse is high); the pulse ends when v <= theta_lo, then ref <- refractory

    decay(x, d) = trunc(x * (4096 - d) / 4096)          rounding = "toward_zero" (the default): the kept
                                                        part truncated toward zero, so both signs reach rest
                = x - ((x * d) >> 12)                   rounding = "floor" (arithmetic shift; the default
                                                        before issue 17: a small positive state stops short)
    leak(x, d)  = decay(x, d)           if leak_mode == exponential
                = x - d clamped at 0 from above, x + d clamped at 0 from below   if linear

`weight_exponent` (one per array, 0 by default) scales the input, as Loihi's weight exponent does:
weights and external input are codes of 2**weight_exponent current LSBs, so the state and the bias
can resolve finer than the weights (the LCA compiler uses it; the Loihi preset's is 6).

Saturation clamps to the signed range of the width and raises a saturation flag; nothing wraps.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import SpecError

DECAY_SHIFT = 12
"""Exponential decay factors are 12-bit fractions: d / 4096 of the value is lost per step."""
DECAY_ONE = 1 << DECAY_SHIFT

LEAK_MODES = ("exponential", "linear")
#: how every exponential decay (current and membrane) rounds, for the whole array (see the module docstring);
#: toward_zero is the default, floor what every spec meant before issue 17
ROUNDING_MODES = ("floor", "toward_zero")
RESET_MODES = ("absolute", "subtract")
#: the input (weights and external input) enters the current shifted left by weight_exponent bits
MAX_WEIGHT_EXPONENT = 16

#: per-neuron parameter names, in the order the parameter memory packs them
PARAM_NAMES = (
    "bias", "leak", "decay", "theta_hi", "theta_lo", "refractory", "v_reset", "reset_current",
    "leak_mode", "reset_mode", "hysteresis",
)

#: event flags every update reports, in bit order (models, RTL monitor and scoreboard share it)
FLAG_NAMES = (
    "sat_high", "sat_low", "leak_to_rest", "refractory_entry", "refractory_exit", "hysteresis_release",
)

# allowed range of every width, and a sane default
WIDTH_LIMITS = {
    "v": (4, 32, 16),
    "i": (4, 32, 16),
    "w": (2, 16, 8),
    "bias": (2, 32, 16),
    "ext": (1, 16, 8),
    "refractory": (1, 16, 4),
}


def signed_range(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


@dataclass(frozen=True)
class Widths:
    """Bit widths of every stored quantity (all signed except `refractory`, a counter)."""

    v: int = 16
    i: int = 16
    w: int = 8
    bias: int = 16
    ext: int = 8
    refractory: int = 4

    def validate(self) -> None:
        for name, (lo, hi, _) in WIDTH_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or not lo <= value <= hi:
                raise SpecError(f"widths.{name} = {value!r} is out of range; allowed {lo}..{hi}")


@dataclass
class ArraySpec:
    """A neuron array: size, lanes, widths, per-neuron parameters and the weight matrix.

    `params[name]` is an int64 array of length `neurons` for each name in `PARAM_NAMES`;
    `leak_mode`, `reset_mode` and `hysteresis` hold 0/1 (exponential/linear, absolute/subtract,
    off/on). `weights[src, dst]` is the weight added to `dst`'s input when `src` spikes.
    """

    neurons: int
    lanes: int = 1
    widths: Widths = field(default_factory=Widths)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    weights: np.ndarray | None = None
    monitor: bool = True
    rounding: str = "toward_zero"
    weight_exponent: int = 0
    #: one synaptic current per neuron (a `lapicque.network_spec.NetworkSpec` may have several)
    channels: ClassVar[tuple[str, ...]] = ("syn",)

    def __post_init__(self) -> None:
        n = self.neurons
        self.params = dict(self.params)  # never change the caller's dict
        if isinstance(n, int | np.integer) and n > 0:
            defaults = default_params()
            for name in PARAM_NAMES:
                value = self.params.get(name, defaults[name])
                self.params[name] = _broadcast(name, value, n)
            if self.weights is None:
                self.weights = np.zeros((n, n), dtype=np.int64)
            self.weights = np.asarray(self.weights)
        self.validate()

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Neurons per lane (the depth of each lane's state and parameter memories)."""
        return self.neurons // self.lanes

    @property
    def acc_bits(self) -> int:
        """Width of the synaptic input accumulator: holds the sum of all N weights without overflow."""
        return self.widths.w + max(1, (self.neurons - 1).bit_length()) + 1

    @property
    def leak_bits(self) -> int:
        """Width of the leak/decay amount field (a 13-bit decay factor, or a linear leak up to v_max)."""
        return max(DECAY_SHIFT + 1, self.widths.v - 1)

    def param_range(self, name: str) -> tuple[int, int]:
        return param_range(name, self.widths)

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> None:
        n, lanes = self.neurons, self.lanes
        if self.rounding not in ROUNDING_MODES:
            raise SpecError(f"rounding = {self.rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
        e = self.weight_exponent
        if isinstance(e, bool) or not isinstance(e, int | np.integer) or not 0 <= e <= MAX_WEIGHT_EXPONENT:
            raise SpecError(f"weight_exponent = {e!r} is out of range; allowed 0..{MAX_WEIGHT_EXPONENT}")
        if not isinstance(n, int | np.integer) or not 1 <= n <= 65536:
            raise SpecError(f"neurons = {n!r} is out of range; allowed 1..65536")
        if not isinstance(lanes, int | np.integer) or not 1 <= lanes <= 64:
            raise SpecError(f"lanes = {lanes!r} is out of range; allowed 1..64")
        if n % lanes:
            raise SpecError(f"neurons = {n} is not a multiple of lanes = {lanes}; choose lanes that divide neurons")
        if not isinstance(self.widths, Widths):
            raise SpecError("widths must be a lapicque.spec.Widths")
        self.widths.validate()
        check_params(self.params, self.widths)
        w = self.weights
        if w.shape != (n, n):
            raise SpecError(f"weights has shape {w.shape}; expected ({n}, {n}) for {n} neurons")
        if not np.issubdtype(w.dtype, np.integer):
            if not np.all(np.isfinite(w)) or not np.all(w == np.round(w)):
                raise SpecError("weights must be integer codes; quantise them first (lapicque.units)")
        self.weights = w.astype(np.int64)
        lo, hi = signed_range(self.widths.w)
        bad = np.argwhere((self.weights < lo) | (self.weights > hi))
        if bad.size:
            s, d = (int(x) for x in bad[0])
            raise SpecError(
                f"weights[{s}, {d}] = {int(self.weights[s, d])} does not fit widths.w = {self.widths.w}; "
                f"allowed {lo}..{hi}"
            )

    # -- (de)serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "neurons": int(self.neurons),
            "lanes": int(self.lanes),
            "monitor": bool(self.monitor),
            "rounding": self.rounding,
            "weight_exponent": int(self.weight_exponent),
            "widths": dataclasses.asdict(self.widths),
            "params": {k: self.params[k].tolist() for k in PARAM_NAMES},
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ArraySpec:
        return _spec_from_mapping(data, source="spec")

    def with_lanes(self, lanes: int) -> ArraySpec:
        return dataclasses.replace(self, lanes=lanes, params=dict(self.params), weights=self.weights.copy())


def param_range(name: str, widths: Widths) -> tuple[int, int]:
    """The codes parameter `name` may take at these widths (a linear leak up to v's maximum, an exponential one
    a 12-bit fraction up to 4096: `check_params` applies the narrower where the neuron's leak is exponential)."""
    v_lo, v_hi = signed_range(widths.v)
    return {
        "bias": signed_range(widths.bias),
        "leak": (0, max(DECAY_ONE, v_hi)),
        "decay": (0, DECAY_ONE),
        "theta_hi": (v_lo, v_hi),
        "theta_lo": (v_lo, v_hi),
        "refractory": (0, (1 << widths.refractory) - 1),
        "v_reset": (v_lo, v_hi),
        "reset_current": (0, v_hi),
        "leak_mode": (0, 1),
        "reset_mode": (0, 1),
        "hysteresis": (0, 1),
    }[name]


def check_params(params: dict[str, np.ndarray], widths: Widths, where: str = "") -> None:
    """A one-line SpecError for the first per-neuron code out of its range (`where` prefixes the name, e.g. a
    population's "populations.exc.")."""
    for name in (name for name in PARAM_NAMES if name in params):  # in the memory's order, whatever the caller's
        values = params[name]
        lo, hi = param_range(name, widths)
        if name == "leak":
            # an exponential leak is a 12-bit fraction; a linear one is a code amount
            hi_each = np.where(params["leak_mode"] == 0, DECAY_ONE, hi)
            bad = np.flatnonzero((values < lo) | (values > hi_each))
            if bad.size:
                k = int(bad[0])
                mode = LEAK_MODES[int(params["leak_mode"][k])]
                raise SpecError(
                    f"{where}leak[{k}] = {int(values[k])} is out of range for {mode} leak; "
                    f"allowed {lo}..{int(hi_each[k])}"
                )
            continue
        bad = np.flatnonzero((values < lo) | (values > hi))
        if bad.size:
            k = int(bad[0])
            raise SpecError(f"{where}{name}[{k}] = {int(values[k])} is out of range; allowed {lo}..{hi}")
    hyst = params["hysteresis"] == 1
    bad = np.flatnonzero(hyst & (params["theta_lo"] >= params["theta_hi"]))
    if bad.size:
        k = int(bad[0])
        raise SpecError(
            f"{where}theta_lo[{k}] = {int(params['theta_lo'][k])} must be below "
            f"{where}theta_hi[{k}] = {int(params['theta_hi'][k])} for a hysteresis neuron"
        )


def default_params() -> dict[str, int]:
    return {
        "bias": 0, "leak": 256, "decay": 1024, "theta_hi": 1000, "theta_lo": 0, "refractory": 0,
        "v_reset": 0, "reset_current": 0, "leak_mode": 0, "reset_mode": 0, "hysteresis": 0,
    }


_ENUMS = {"leak_mode": LEAK_MODES, "reset_mode": RESET_MODES}


def _broadcast(name: str, value, n: int) -> np.ndarray:
    if name in _ENUMS:
        names = _ENUMS[name]

        def code(x):
            if isinstance(x, str):
                if x not in names:
                    raise SpecError(f"{name} = {x!r} is not one of {', '.join(names)}")
                return names.index(x)
            return x

        value = [code(x) for x in value] if isinstance(value, list | tuple) else code(value)
    if isinstance(value, bool):
        value = int(value)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged lists, nested tables, numbers past 64 bits
        raise SpecError(f"{name} must be one whole number or a list of {n} whole numbers") from None
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise SpecError(f"{name} has {arr.size} values; expected 1 or {n} (one per neuron)")
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise SpecError(f"{name} must hold integer codes")
    return arr.astype(np.int64)


_TOP_KEYS = {"neurons", "lanes", "monitor", "rounding", "weight_exponent", "widths", "params", "weights", "preset"}


DENSE_NEURONS = 8192  # weights are held as a dense N x N matrix: 8192 neurons are 512 MiB of int64 codes


def _whole(value, name: str, source: str, low: int, high: int) -> int:
    """A TOML integer in [low, high] (not a boolean, not a float), or a one-line SpecError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{source}: {name} = {value!r} must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise SpecError(f"{source}: {name} = {value} is out of range; allowed {low}..{high}")
    return value


def _table(value, name: str, source: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{source}: {name} must be a table ([{name}] with one key per line), not {value!r}")
    return value


def _spec_from_mapping(data: dict, source: str) -> ArraySpec:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpecError(f"{source}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    if "neurons" not in data:
        raise SpecError(f"{source}: missing key 'neurons'")
    n = _whole(data["neurons"], "neurons", source, 1, 65536)
    if n > DENSE_NEURONS:
        raise SpecError(f"{source}: neurons = {n} needs a dense {n} x {n} weight matrix; specs hold at most "
                        f"{DENSE_NEURONS} neurons")
    lanes = _whole(data.get("lanes", 1), "lanes", source, 1, 64)
    monitor = data.get("monitor", True)
    if not isinstance(monitor, bool):
        raise SpecError(f"{source}: monitor = {monitor!r} must be true or false")
    if "preset" in data:  # the platform's parameter names; the preset fixes widths and rounding
        from .presets import spec_from_preset

        return spec_from_preset(data["preset"], data, source, n, lanes, monitor)
    rounding = data.get("rounding", "toward_zero")
    if rounding not in ROUNDING_MODES:
        raise SpecError(f"{source}: rounding = {rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
    weight_exponent = _whole(data.get("weight_exponent", 0), "weight_exponent", source, 0, MAX_WEIGHT_EXPONENT)
    widths = _table(data.get("widths", {}), "widths", source)
    bad = set(widths) - set(WIDTH_LIMITS)
    if bad:
        raise SpecError(f"{source}: unknown width {sorted(bad)[0]!r}; allowed: {', '.join(WIDTH_LIMITS)}")
    for name, value in widths.items():  # the range is Widths.validate's
        if isinstance(value, bool) or not isinstance(value, int):
            low, high, _ = WIDTH_LIMITS[name]
            raise SpecError(f"{source}: widths.{name} = {value!r} must be a whole number from {low} to {high}")
    params = dict(_table(data.get("params", {}), "params", source))
    bad = set(params) - set(PARAM_NAMES)
    if bad:
        raise SpecError(f"{source}: unknown parameter {sorted(bad)[0]!r}; allowed: {', '.join(PARAM_NAMES)}")
    weights = weights_from_file(data.get("weights"), n, source)
    return ArraySpec(neurons=n, lanes=lanes, widths=Widths(**widths), params=params, weights=weights,
                     monitor=monitor, rounding=rounding, weight_exponent=weight_exponent)


def weights_from_file(weights, n: int, source: str) -> np.ndarray | None:
    """The file's `weights`: a table of random-matrix options, a matrix, or absent (None)."""
    if isinstance(weights, dict):
        return random_weights(n, **_weights_options(weights, source))
    if weights is not None:
        return _weight_matrix(weights, n, source)
    return None


def _weight_matrix(value, n: int, source: str) -> np.ndarray:
    """`weights = [[...], ...]`: an n x n matrix of whole numbers, or a one-line SpecError."""
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise SpecError(f"{source}: weights must be a table of options or a matrix [[...], ...] of {n} rows")
    if len(value) != n or any(len(row) != n for row in value):
        raise SpecError(f"{source}: weights must be {n} rows of {n} whole numbers (w[src][dst])")
    if any(isinstance(x, bool) or not isinstance(x, int) for row in value for x in row):
        raise SpecError(f"{source}: weights must hold whole numbers (codes)")
    try:
        return np.array(value, dtype=np.int64)
    except OverflowError:
        raise SpecError(f"{source}: a weight does not fit 64 bits; weights are codes of widths.w bits") from None


def _weights_options(table: dict, source: str) -> dict:
    allowed = {"density", "low", "high", "seed"}
    bad = set(table) - allowed
    if bad:
        raise SpecError(f"{source}: unknown weights option {sorted(bad)[0]!r}; allowed: {', '.join(sorted(allowed))}")
    options = {}
    if "density" in table:
        density = table["density"]
        if isinstance(density, bool) or not isinstance(density, int | float):
            raise SpecError(f"{source}: weights.density = {density!r} must be a number from 0 to 1")
        if not 0.0 <= density <= 1.0:
            raise SpecError(f"weights.density = {density} is out of range; allowed 0..1")
        options["density"] = float(density)
    for name in ("low", "high"):
        if name in table:
            options[name] = _whole(table[name], f"weights.{name}", source, -(1 << 31), (1 << 31) - 1)
    if options.get("low", -8) > options.get("high", 8):
        raise SpecError(f"{source}: weights.low = {options.get('low', -8)} is above weights.high = "
                        f"{options.get('high', 8)}")
    if "seed" in table:
        options["seed"] = _whole(table["seed"], "weights.seed", source, 0, 2**32 - 1)
    return options


def random_weights(n: int, density: float = 0.1, low: int = -8, high: int = 8, seed: int = 0) -> np.ndarray:
    """A sparse random weight matrix of integer codes in [low, high], no self-connections."""
    if not 0.0 <= density <= 1.0:
        raise SpecError(f"weights.density = {density} is out of range; allowed 0..1")
    rng = np.random.default_rng(seed)
    w = rng.integers(low, high + 1, size=(n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(w, 0)
    return w.astype(np.int64)


def spec_toml(spec: ArraySpec) -> str:
    """`spec` as a spec file that `load_spec` reads back to the same codes (one line per parameter and per
    weight row)."""
    import json

    import tomli_w

    data = spec.to_dict()
    weights, widths, params = data.pop("weights"), data.pop("widths"), data.pop("params")
    rows = ",\n".join(f"    {json.dumps(row)}" for row in weights)  # a JSON list of ints is a TOML array
    lines = "\n".join(f"{name} = {json.dumps(values)}" for name, values in params.items())
    return (tomli_w.dumps(data) + f"# w[src][dst]\nweights = [\n{rows},\n]\n\n[widths]\n" + tomli_w.dumps(widths)
            + f"\n[params]\n{lines}\n")


def read_toml(path: str | Path, what: str = "spec file") -> dict:
    """A TOML file's tables, or a one-line SpecError (unreadable, not UTF-8, not TOML) naming `what` it is."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text; a {what} is TOML (see examples/)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None


def load_spec(path: str | Path) -> ArraySpec:
    """Load a spec from a TOML file (see examples/)."""
    return _spec_from_mapping(read_toml(path), source=str(path))


def random_spec(neurons: int, lanes: int = 1, seed: int = 0, widths: Widths | None = None,
                rounding: str = "toward_zero", weight_exponent: int = 0) -> ArraySpec:
    """A spec that exercises every rule: both leak modes, both resets, hysteresis, refractory.

    Parameters are drawn so that the array is active (most neurons fire every few steps) and every
    saturation edge is reachable with the stimulus of `lapicque.sim.stimulus`. Every parameter
    range a mutant of the RTL could get wrong is drawn somewhere in a few dozen neurons: decay and
    leak factors that are not multiples of 256 (every bit of the multiplier), negative thresholds,
    refractory periods of 8 and more (the counter's top bit), and the range's ends.
    """
    rng = np.random.default_rng(seed)
    widths = widths or Widths()
    n = neurons
    scale = 1 << (widths.v - 6)  # thresholds sit well inside the range, saturation stays reachable

    def some(fraction: float) -> np.ndarray:
        """Exactly round(fraction x n) neurons (at least one), drawn: a range is never left out by chance."""
        chosen = np.zeros(n, dtype=bool)
        chosen[rng.permutation(n)[:max(1, round(fraction * n))]] = True
        return chosen

    hyst = some(0.2).astype(np.int64)

    # a few neurons have a threshold below rest: they fire whenever they are not refractory
    theta_hi = np.where(some(0.1), -rng.integers(1, max(2, scale // 4), n), rng.integers(scale // 2, scale * 4, n))
    ref_max = (1 << widths.refractory) - 1
    refractory = np.where(some(0.2), rng.integers(min(8, ref_max), ref_max + 1, n),
                          rng.integers(0, min(6, ref_max) + 1, n))
    params = {
        "bias": rng.integers(-scale // 16, scale // 4, n),
        "leak_mode": (rng.random(n) < 0.4).astype(np.int64),
        "decay": np.where(some(0.5), rng.choice([0, 256, 1024, 2048, 4096], n), rng.integers(1, 4096, n)),
        "theta_hi": theta_hi,
        "theta_lo": np.minimum(theta_hi // 4, theta_hi - 1) - rng.integers(0, scale, n),
        "refractory": refractory,
        "v_reset": rng.integers(-scale // 2, scale // 4, n),
        "reset_current": rng.integers(scale // 8, scale, n),
        "reset_mode": (rng.random(n) < 0.5).astype(np.int64),
        "hysteresis": hyst,
    }
    params["leak"] = np.where(
        params["leak_mode"] == 0,
        np.where(rng.random(n) < 0.5, rng.choice([0, 64, 300, 1000, 4096], n), rng.integers(1, 4096, n)),
        rng.integers(0, scale // 8 + 1, n)
    )
    w_lo, w_hi = signed_range(widths.w)
    weights = random_weights(n, density=min(1.0, 8.0 / n), low=w_lo, high=w_hi, seed=seed + 1)
    return ArraySpec(neurons, lanes, widths, params, weights, rounding=rounding, weight_exponent=weight_exponent)
