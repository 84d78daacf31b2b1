"""A network of populations and projections: the array's contract at the size of the field's benchmarks.

An `ArraySpec` is one population with one dense N x N matrix; a `NetworkSpec` is what CUBA and Brunel's model
need (issue 20): populations with their own parameter codes, projections between them with explicit or
procedural connectivity and an axonal delay, and one synaptic current per *channel* (CUBA's excitatory and
inhibitory currents decay with their own time constants). Per neuron and timestep, the contract of
`lapicque.spec` with the channels made explicit:

    acc_c = sum of w over the connections of channel c whose source spiked `delay` steps ago
    i_c  <- sat_i( decay(i_c, decay_c) + (acc_c + ext [channel 0 only]) << weight_exponent )   every channel
    v_pre = sat_v( leak(v) + sum_c i_c + bias - pull )                           then threshold, reset, refractory

A network of one population, one channel and one dense projection of delay 1 is exactly an `ArraySpec`
(`NetworkSpec.from_array`; the models are tested equal). Delays are 1..MAX_DELAY steps: a spike of step t
reaches its targets' accumulators at step t + delay (delay 1 is the array's "spikes of the previous step").

Projection rules (S sources, T targets):

- `dense`: `weight` is one code (every pair, autapses included) or an S x T matrix w[src][dst] (0: none);
- `list`: explicit `pre` and `post` index lists, `weight` one code or one per connection;
- `bernoulli` (`p`), `fixed_out_degree`, `fixed_in_degree` (`degree`): procedural rows of
  `lapicque.golden.connectivity` from the projection's `seed` and its *index* (its position among the
  projections), regenerated per spike by the hardware; `weight` one code or one per source. Multapses of the
  fixed-degree rules add up.

The spec is declarative: the rows are realised by `lapicque.golden.network_model`, never stored here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SpecError
from .golden.external import MAX_TABLE, External, poisson_table
from .spec import (
    DECAY_ONE,
    DECAY_SHIFT,
    MAX_WEIGHT_EXPONENT,
    PARAM_NAMES,
    ROUNDING_MODES,
    WIDTH_LIMITS,
    ArraySpec,
    Widths,
    _broadcast,
    _table,
    _whole,
    check_params,
    default_params,
    read_toml,
    signed_range,
)

RULES = ("dense", "list", "bernoulli", "fixed_out_degree", "fixed_in_degree")
PROCEDURAL_RULES = ("bernoulli", "fixed_out_degree", "fixed_in_degree")
MAX_DELAY = 64  # steps: a ring of 64 accumulator banks in hardware; Brunel's 1.5 ms at 0.1 ms is 15
MAX_NEURONS = 65536
DEFAULT_CHANNELS = ("syn",)


@dataclass
class Population:
    """`size` neurons sharing a name. `params[name]` is an int64 array of `size` codes for every name of
    `lapicque.spec.PARAM_NAMES` except decay; `decay[channel]` the same for each channel's current; `v0`
    the initial membrane codes (rest, 0, by default); `external` its Poisson input, if any
    (`lapicque.golden.external`: a count of mean `mean` per step, each input `weight` codes into channel 0)."""

    name: str
    size: int
    params: dict[str, np.ndarray]
    decay: dict[str, np.ndarray]
    v0: np.ndarray
    external: External | None = None


@dataclass
class Projection:
    """Connections from population `source` to `target` onto `channel`, delivered `delay` steps after the
    spike. `weight` is a 0-d array (one code), or per source (procedural rules), per connection (list) or
    S x T (dense)."""

    name: str
    source: str
    target: str
    rule: str
    weight: np.ndarray
    channel: str
    delay: int = 1
    seed: int = 0
    p: float | None = None
    degree: int | None = None
    pre: np.ndarray | None = None
    post: np.ndarray | None = None


@dataclass
class NetworkSpec:
    populations: dict[str, Population]
    projections: dict[str, Projection] = field(default_factory=dict)
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    lanes: int = 1
    widths: Widths = field(default_factory=Widths)
    rounding: str = "toward_zero"
    weight_exponent: int = 0

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        self.validate()

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def offsets(self) -> dict[str, int]:
        """Each population's first global neuron index (populations in their order)."""
        starts = np.cumsum([0] + [p.size for p in self.populations.values()])
        return {name: int(start) for name, start in zip(self.populations, starts, strict=False)}

    @property
    def depth(self) -> int:
        """Neurons per lane."""
        return self.neurons // self.lanes

    @property
    def leak_bits(self) -> int:
        return max(DECAY_SHIFT + 1, self.widths.v - 1)

    @property
    def acc_bits(self) -> int:
        """Width of a channel's accumulator: never overflows, whatever spikes (`max_fan_in` weights at most)."""
        return self.widths.w + max(1, (self.max_fan_in - 1).bit_length()) + 1

    @property
    def max_fan_in(self) -> int:
        """A bound on the connections one neuron receives in one step: every source of every projection (a
        fixed out-degree's every draw, a list's every entry), and at least the neurons (the array's bound)."""
        bound = 0
        for pr in self.projections.values():
            s = self.populations[pr.source].size
            bound += {"list": len(pr.pre) if pr.pre is not None else 0,
                      "fixed_out_degree": s * (pr.degree or 0)}.get(pr.rule, s)
        return max(bound, self.neurons)

    @property
    def max_delay(self) -> int:
        return max((p.delay for p in self.projections.values()), default=1)

    def projection_index(self, name: str) -> int:
        """The projection's position: with its seed, what keys its procedural rows."""
        return list(self.projections).index(name)

    def params(self) -> dict[str, np.ndarray]:
        """Every parameter over all neurons (populations in order); `decay` is [channels, neurons]."""
        pops = list(self.populations.values())
        joined = {name: np.concatenate([p.params[name] for p in pops]) for name in PARAM_NAMES if name != "decay"}
        joined["decay"] = np.stack([np.concatenate([p.decay[c] for p in pops]) for c in self.channels])
        return joined

    def v0(self) -> np.ndarray:
        return np.concatenate([p.v0 for p in self.populations.values()])

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> None:
        if self.rounding not in ROUNDING_MODES:
            raise SpecError(f"rounding = {self.rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
        e = self.weight_exponent
        if isinstance(e, bool) or not isinstance(e, int | np.integer) or not 0 <= e <= MAX_WEIGHT_EXPONENT:
            raise SpecError(f"weight_exponent = {e!r} is out of range; allowed 0..{MAX_WEIGHT_EXPONENT}")
        self.widths.validate()
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise SpecError(f"channels = {list(self.channels)} must name at least one channel, each once")
        if not self.populations:
            raise SpecError("a network needs at least one population ([populations.NAME] with a size)")
        n = self.neurons
        if n > MAX_NEURONS:
            raise SpecError(f"the populations hold {n} neurons; a network holds at most {MAX_NEURONS}")
        lanes = self.lanes
        if isinstance(lanes, bool) or not isinstance(lanes, int | np.integer) or not 1 <= lanes <= 64:
            raise SpecError(f"lanes = {lanes!r} is out of range; allowed 1..64")
        if n % lanes:
            raise SpecError(f"the network's {n} neurons are not a multiple of lanes = {lanes}; choose lanes that "
                            f"divide {n}")
        v_lo, v_hi = signed_range(self.widths.v)
        for pop in self.populations.values():
            where = f"populations.{pop.name}."
            params = {**pop.params, "decay": np.zeros(pop.size, np.int64)}
            check_params(params, self.widths, where)
            if set(pop.decay) != set(self.channels):
                raise SpecError(f"{where}decay must give every channel ({', '.join(self.channels)}) a decay")
            for channel, decay in pop.decay.items():
                bad = np.flatnonzero((decay < 0) | (decay > DECAY_ONE))
                if bad.size:
                    raise SpecError(f"{where}decay.{channel}[{bad[0]}] = {int(decay[bad[0]])} is out of range; "
                                    f"allowed 0..{DECAY_ONE}")
            if pop.external is not None:
                self._check_external(pop)
            bad = np.flatnonzero((pop.v0 < v_lo) | (pop.v0 > v_hi))
            if bad.size:
                raise SpecError(f"{where}v0[{bad[0]}] = {int(pop.v0[bad[0]])} does not fit widths.v = "
                                f"{self.widths.v}; allowed {v_lo}..{v_hi}")
        for projection in self.projections.values():
            self._check_projection(projection)

    def _check_external(self, pop: Population) -> None:
        where, e = f"populations.{pop.name}.external", pop.external
        try:
            table = poisson_table(e.mean)
        except SpecError as exc:
            raise SpecError(f"populations.{pop.name}.{exc}") from None
        lo, hi = signed_range(self.widths.ext)
        if isinstance(e.weight, bool) or not isinstance(e.weight, int | np.integer):
            raise SpecError(f"{where}.weight = {e.weight!r} must be a whole number (a code)")
        largest = len(table) * int(e.weight)
        if not lo <= largest <= hi:
            raise SpecError(f"{where}: up to {len(table)} inputs of weight {e.weight} a step ({largest}) do not fit "
                            f"widths.ext = {self.widths.ext} (allowed {lo}..{hi}); widen ext (up to 16 bits)")
        if isinstance(e.seed, bool) or not isinstance(e.seed, int | np.integer) or not 0 <= e.seed <= 2**32 - 1:
            raise SpecError(f"{where}.seed = {e.seed!r} is out of range; allowed 0..{2**32 - 1}")

    def _check_projection(self, pr: Projection) -> None:
        where = f"projections.{pr.name}"
        for end in ("source", "target"):
            if getattr(pr, end) not in self.populations:
                raise SpecError(f"{where}.{end} = {getattr(pr, end)!r} is not a population; the populations are "
                                f"{', '.join(self.populations)}")
        if pr.channel not in self.channels:
            raise SpecError(f"{where}.channel = {pr.channel!r} is not one of the channels "
                            f"({', '.join(self.channels)})")
        if isinstance(pr.delay, bool) or not isinstance(pr.delay, int | np.integer) or not 1 <= pr.delay <= MAX_DELAY:
            raise SpecError(f"{where}.delay = {pr.delay!r} is out of range; allowed 1..{MAX_DELAY} steps")
        if pr.rule not in RULES:
            raise SpecError(f"{where}.rule = {pr.rule!r} is not one of {', '.join(RULES)}")
        s, t = self.populations[pr.source].size, self.populations[pr.target].size
        w = pr.weight
        shapes = {"dense": [(), (s, t)], "list": [(), (0 if pr.pre is None else len(pr.pre),)],
                  "bernoulli": [(), (s,)], "fixed_out_degree": [(), (s,)], "fixed_in_degree": [(), (s,)]}[pr.rule]
        if w.shape not in shapes:
            wanted = " or ".join("one code" if shape == () else " x ".join(map(str, shape)) for shape in shapes)
            raise SpecError(f"{where}.weight has shape {w.shape}; rule {pr.rule} takes {wanted}")
        lo, hi = signed_range(self.widths.w)
        bad = np.flatnonzero((w.ravel() < lo) | (w.ravel() > hi))
        if bad.size:
            raise SpecError(f"{where}.weight = {int(w.ravel()[bad[0]])} does not fit widths.w = {self.widths.w}; "
                            f"allowed {lo}..{hi}")
        if pr.rule == "list":
            if pr.pre is None or pr.post is None or len(pr.pre) != len(pr.post):
                raise SpecError(f"{where}: rule list needs pre and post lists of equal length")
            for end, ids, size in (("pre", pr.pre, s), ("post", pr.post, t)):
                bad = np.flatnonzero((ids < 0) | (ids >= size))
                if bad.size:
                    raise SpecError(f"{where}.{end}[{bad[0]}] = {int(ids[bad[0]])} is out of range; allowed "
                                    f"0..{size - 1}")
        if pr.rule == "bernoulli" and (pr.p is None or not 0.0 < pr.p <= 1.0):
            raise SpecError(f"{where}.p = {pr.p!r} is out of range for rule bernoulli; allowed 0 < p <= 1")
        if pr.rule in ("fixed_out_degree", "fixed_in_degree"):
            limit = t if pr.rule == "fixed_out_degree" else s
            if pr.degree is None or not 1 <= pr.degree <= limit:
                raise SpecError(f"{where}.degree = {pr.degree!r} is out of range for rule {pr.rule}; allowed "
                                f"1..{limit}")
        if pr.rule in PROCEDURAL_RULES and not 0 <= pr.seed <= 2**32 - 1:
            raise SpecError(f"{where}.seed = {pr.seed} is out of range; allowed 0..{2**32 - 1}")

    # -- conversions ------------------------------------------------------------------------------
    @classmethod
    def from_array(cls, spec: ArraySpec, v0=None) -> NetworkSpec:
        """The array as a network: one population `array`, one channel, one dense projection of delay 1."""
        params = {name: spec.params[name].copy() for name in PARAM_NAMES if name != "decay"}
        pop = Population("array", spec.neurons, params, {"syn": spec.params["decay"].copy()},
                         np.zeros(spec.neurons, np.int64) if v0 is None else np.asarray(v0, np.int64))
        proj = Projection("recurrent", "array", "array", "dense", spec.weights.copy(), "syn")
        return cls({"array": pop}, {"recurrent": proj}, DEFAULT_CHANNELS, spec.lanes, spec.widths, spec.rounding,
                   spec.weight_exponent)

    def synapse_count(self) -> dict[str, float]:
        """Each projection's number of connections (expected for bernoulli, exact for the others)."""
        counts = {}
        for pr in self.projections.values():
            s, t = self.populations[pr.source].size, self.populations[pr.target].size
            if pr.rule == "dense":
                counts[pr.name] = float(np.count_nonzero(pr.weight) if pr.weight.ndim else s * t * (pr.weight != 0))
            elif pr.rule == "list":
                counts[pr.name] = float(len(pr.pre))
            elif pr.rule == "bernoulli":
                counts[pr.name] = s * t * pr.p
            else:
                counts[pr.name] = float((s if pr.rule == "fixed_out_degree" else t) * pr.degree)
        return counts

    def with_lanes(self, lanes: int) -> NetworkSpec:
        return dataclasses.replace(self, lanes=lanes)


# -- the TOML file ----------------------------------------------------------------------------------------

_TOP_KEYS = {"lanes", "rounding", "weight_exponent", "channels", "widths", "populations", "projections"}
_POPULATION_KEYS = {"size", "params", "v0", "external"}
_EXTERNAL_KEYS = {"mean", "weight", "seed"}
_PROJECTION_KEYS = {"source", "target", "rule", "weight", "channel", "delay", "seed", "p", "degree", "pre", "post"}


def load_network(path: str | Path) -> NetworkSpec:
    """Read a network spec file ([populations.NAME], [projections.NAME]; docs/networks.md)."""
    return network_from_mapping(read_toml(path, "network file"), source=str(path))


def is_network_file(data: dict) -> bool:
    return "populations" in data


def network_from_mapping(data: dict, source: str = "network") -> NetworkSpec:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpecError(f"{source}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    lanes = _whole(data.get("lanes", 1), "lanes", source, 1, 64)
    rounding = data.get("rounding", "toward_zero")
    if rounding not in ROUNDING_MODES:
        raise SpecError(f"{source}: rounding = {rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
    weight_exponent = _whole(data.get("weight_exponent", 0), "weight_exponent", source, 0, MAX_WEIGHT_EXPONENT)
    channels = data.get("channels", list(DEFAULT_CHANNELS))
    if not isinstance(channels, list) or not channels or not all(isinstance(c, str) and c for c in channels):
        raise SpecError(f"{source}: channels = {channels!r} must be a list of names, e.g. [\"exc\", \"inh\"]")
    if len(set(channels)) != len(channels):
        raise SpecError(f"{source}: channels = {channels} must name at least one channel, each once")
    widths = _table(data.get("widths", {}), "widths", source)
    bad = set(widths) - set(WIDTH_LIMITS)
    if bad:
        raise SpecError(f"{source}: unknown width {sorted(bad)[0]!r}; allowed: {', '.join(WIDTH_LIMITS)}")
    for name, value in widths.items():
        if isinstance(value, bool) or not isinstance(value, int):
            low, high, _ = WIDTH_LIMITS[name]
            raise SpecError(f"{source}: widths.{name} = {value!r} must be a whole number from {low} to {high}")
    populations = {}
    for name, table in _table(data.get("populations", {}), "populations", source).items():
        populations[name] = _population(name, _table(table, f"populations.{name}", source), channels, source)
    if not populations:
        raise SpecError(f"{source}: no populations; add [populations.NAME] with a size")
    projections = {}
    for name, table in _table(data.get("projections", {}), "projections", source).items():
        projections[name] = _projection(name, _table(table, f"projections.{name}", source), populations,
                                        channels, source)
    try:
        return NetworkSpec(populations, projections, tuple(channels), lanes, Widths(**widths), rounding,
                           weight_exponent)
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None


def _population(name: str, table: dict, channels: list[str], source: str) -> Population:
    where = f"populations.{name}"
    bad = set(table) - _POPULATION_KEYS
    if bad:
        raise SpecError(f"{source}: unknown key {where}.{sorted(bad)[0]}; allowed: "
                        f"{', '.join(sorted(_POPULATION_KEYS))}")
    if "size" not in table:
        raise SpecError(f"{source}: {where} needs a size (its number of neurons)")
    size = _whole(table["size"], f"{where}.size", source, 1, MAX_NEURONS)
    given = dict(_table(table.get("params", {}), f"{where}.params", source))
    bad = set(given) - set(PARAM_NAMES)
    if bad:
        raise SpecError(f"{source}: unknown parameter {where}.params.{sorted(bad)[0]}; allowed: "
                        f"{', '.join(PARAM_NAMES)}")
    defaults = default_params()
    try:
        params = {k: _broadcast(k, given.get(k, defaults[k]), size) for k in PARAM_NAMES if k != "decay"}
        decay_given = given.get("decay", defaults["decay"])
        if isinstance(decay_given, dict):  # one decay per channel
            bad = set(decay_given) - set(channels)
            if bad:
                raise SpecError(f"decay.{sorted(bad)[0]} names no channel; the channels are {', '.join(channels)}")
            missing = [c for c in channels if c not in decay_given]
            if missing:
                raise SpecError(f"decay gives no value for channel {missing[0]}")
            decay = {c: _broadcast("decay", decay_given[c], size) for c in channels}
        else:
            decay = {c: _broadcast("decay", decay_given, size) for c in channels}
        v0 = _broadcast("v0", table.get("v0", 0), size)
    except SpecError as exc:
        raise SpecError(f"{source}: {where}.{exc}") from None
    return Population(name, size, params, decay, v0, _external(table.get("external"), f"{where}.external", source))


def _external(value, where: str, source: str) -> External | None:
    if value is None:
        return None
    table = _table(value, where, source)
    bad = set(table) - _EXTERNAL_KEYS
    if bad:
        raise SpecError(f"{source}: unknown key {where}.{sorted(bad)[0]}; allowed: {', '.join(sorted(_EXTERNAL_KEYS))}")
    for key in ("mean", "weight"):
        if key not in table:
            raise SpecError(f"{source}: {where} needs {key} (mean: inputs per step; weight: the code each adds)")
    mean = table["mean"]
    if isinstance(mean, bool) or not isinstance(mean, int | float):
        raise SpecError(f"{source}: {where}.mean = {mean!r} must be a positive number (inputs per step, at most "
                        f"about 10.5: the hardware's table holds {MAX_TABLE} entries)")
    weight = _whole(table["weight"], f"{where}.weight", source, -(2**15), 2**15 - 1)
    return External(float(mean), weight, _whole(table.get("seed", 0), f"{where}.seed", source, 0, 2**32 - 1))


def _projection(name: str, table: dict, populations: dict[str, Population], channels: list[str],
                source: str) -> Projection:
    where = f"projections.{name}"
    bad = set(table) - _PROJECTION_KEYS
    if bad:
        raise SpecError(f"{source}: unknown key {where}.{sorted(bad)[0]}; allowed: "
                        f"{', '.join(sorted(_PROJECTION_KEYS))}")
    for key in ("source", "target", "rule", "weight"):
        if key not in table:
            raise SpecError(f"{source}: {where} needs {key}")
    for key in ("source", "target", "rule", "channel"):
        if key in table and not isinstance(table[key], str):
            raise SpecError(f"{source}: {where}.{key} = {table[key]!r} must be a name (a string)")
    p = table.get("p")
    if p is not None and (isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p)):
        raise SpecError(f"{source}: {where}.p = {p!r} must be a number with 0 < p <= 1")
    degree = None if "degree" not in table else _whole(table["degree"], f"{where}.degree", source, 1, MAX_NEURONS)
    pre = post = None
    if "pre" in table or "post" in table:
        pre, post = (_index_list(table.get(end), f"{where}.{end}", source) for end in ("pre", "post"))
    return Projection(
        name, table["source"], table["target"], table["rule"], _weight(table["weight"], f"{where}.weight", source),
        table.get("channel", channels[0]), _whole(table.get("delay", 1), f"{where}.delay", source, 1, MAX_DELAY),
        _whole(table.get("seed", 0), f"{where}.seed", source, 0, 2**32 - 1), None if p is None else float(p),
        degree, pre, post)


def _index_list(value, name: str, source: str) -> np.ndarray:
    if not isinstance(value, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in value):
        raise SpecError(f"{source}: {name} must be a list of whole numbers (neuron indices within the population)")
    return np.array(value, dtype=np.int64)


def _weight(value, name: str, source: str) -> np.ndarray:
    """One code, a list of codes or a matrix of codes (whole numbers), or a one-line SpecError."""
    def whole(x):
        return not isinstance(x, bool) and isinstance(x, int) and -(2**31) <= x < 2**31

    if whole(value):
        return np.array(value, dtype=np.int64)
    if isinstance(value, list) and all(whole(x) for x in value):
        return np.array(value, dtype=np.int64)
    if (isinstance(value, list) and value and all(isinstance(row, list) for row in value)
            and len({len(row) for row in value}) == 1 and all(whole(x) for row in value for x in row)):
        return np.array(value, dtype=np.int64)
    raise SpecError(f"{source}: {name} must be one whole number (a code), a list of them or a matrix [[...], ...]")
