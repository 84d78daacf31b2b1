"""NIR graphs onto the array and back: the mapping, its quantisation, and what it changes.

A NIR graph (the Neuromorphic Intermediate Representation, PyPI `nir`) is continuous-time: LIF, CubaLIF
and IF nodes joined by Affine, Linear and Scale nodes, fed by Input nodes and read by Output nodes. The
import (`compile_graph`) makes every spiking node a population of the array and writes each population's
equations, discretised at `dt`, in the array's contract (`lapicque.spec`):

    i <- decay(i) + (acc + ext) << weight_exponent      v <- leak(v) + i + bias      spike when v >= theta_hi

with the membrane counted from the node's `v_leak` in codes of one LSB per population. Per step the input
u (what the Affine/Linear/Scale chain into a node delivers) enters as

    discretisation "euler" (snnTorch, Norse: forward Euler, the current updated before the membrane):
        LIF     v <- (1 - dt/tau) v + (dt/tau) r u                       leak = dt/tau, no current state
        CubaLIF I <- (1 - dt/tau_syn) I + (dt/tau_syn) w_in u ;  v <- (1 - dt/tau_mem) v + (dt/tau_mem) r I
        IF      v <- v + dt r u
    discretisation "exact" (exact propagators): the same with 1 - exp(-dt/tau) for dt/tau; an LIF's input is
        held over the step; a CubaLIF's input is an impulse of area dt u into I at the step's start, after
        which I and v evolve exactly (v's gain on I is P21 = r tau_syn / (tau_syn - tau_mem) (a_syn - a_mem)).

The current is stored in the membrane's units (times the gain on I), so the array's `v += i` holds.
Connections from Input nodes become the external input `ext`, computed on the host per step; connections
between spiking nodes become the weight matrix. The array delays every connection by one step, where a
feed-forward framework delivers a layer's spikes in the same step: a node at depth d (its longest chain of
spiking nodes from the input) spikes d - 1 steps later on the array, so its input is delayed by as much and
its output is read d - 1 steps later (`Compiled.align`). A recurrent connection (a node back to itself)
takes one step in the frameworks and on the array alike.

NIR fires on v > v_threshold, the array on v >= theta_hi: the import sets theta_hi = floor(threshold) + 1
in codes (the float model: the next float above the threshold), so both fire exactly when NIR would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lapicque.errors import LapicqueError
from lapicque.spec import DECAY_ONE, DENSE_NEURONS, ArraySpec, Widths, signed_range

DISCRETISATIONS = ("euler", "exact")
#: the threshold's largest share of the membrane's positive range (the LSB is a power of two: between half
#: and all of it): room for inhibition to drive the membrane 16 to 32 thresholds below rest
THRESHOLD_SHARE = 1 / 16
MAX_DEPTH = 64


class GraphError(LapicqueError):
    """A graph, a node or a parameter the array cannot implement (one line: node, type, what is needed)."""


def read_graph(path):
    """The NIR graph in `path` (nir.read), or a one-line GraphError."""
    import nir

    try:
        return nir.read(str(path))
    except FileNotFoundError:
        raise GraphError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GraphError(f"{path}: a folder; give the .nir file") from None
    except PermissionError:
        raise GraphError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise GraphError(f"{path}: not a NIR file (HDF5) ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # nir.read raises what its node constructors raise: KeyError, ValueError, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GraphError(f"{path}: NIR's reader refuses the graph ({reason}); re-export it with a NIR "
                         f"1.0-conformant writer") from None


# -- the graph, flattened ----------------------------------------------------------------------------------

def _kind(node) -> str:
    return type(node).__name__


def _flatten(graph, prefix: str = "") -> tuple[dict, list]:
    """Nodes and edges with every nested graph inlined (its Input and Output nodes become pass-throughs)."""
    import nir

    nodes, edges = {}, []
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges = _flatten(node, full + ".")
            for inner, n in inner_nodes.items():
                if inner.count(".") == full.count(".") + 1 and isinstance(n, nir.Input | nir.Output):
                    inner_nodes[inner] = _Pass(n)
            nodes.update(inner_nodes)
            edges.extend(inner_edges)
            nodes[full] = _Subgraph(node, full)
        else:
            nodes[full] = node
    for a, b in graph.edges:
        edges.append((prefix + a, prefix + b))
    # edges that name a nested graph connect to its Input / from its Output
    resolved = []
    for a, b in edges:
        if isinstance(nodes.get(a), _Subgraph):
            a = nodes[a].port(nir.Output)
        if isinstance(nodes.get(b), _Subgraph):
            b = nodes[b].port(nir.Input)
        resolved.append((a, b))
    return {k: v for k, v in nodes.items() if not isinstance(v, _Subgraph)}, resolved


@dataclass
class _Pass:
    node: object


@dataclass
class _Subgraph:
    graph: object
    name: str

    def port(self, kind) -> str:
        names = [k for k, v in self.graph.nodes.items() if isinstance(v, kind)]
        if len(names) != 1:
            raise GraphError(f"node {self.name!r} (NIRGraph) has {len(names)} {kind.__name__} nodes; the mapping "
                             f"needs one to connect it")
        return f"{self.name}.{names[0]}"


_SPIKING = ("LIF", "CubaLIF", "IF")
_LINEAR = ("Affine", "Linear", "Scale")
_NEEDS = {
    "LI": "a leaky integrator's membrane as an output signal (the array's neurons signal by spikes)",
    "CubaLI": "a leaky integrator's membrane as an output signal (the array's neurons signal by spikes)",
    "I": "an integrator's value as an output signal (the array's neurons signal by spikes)",
    "Delay": "axonal delays (every connection of the array takes exactly one step)",
    "Threshold": "a stateless threshold unit (every array neuron has a membrane)",
    "Conv1d": "the convolution unrolled into a dense Affine node (the array's connectivity is a dense matrix)",
    "Conv2d": "the convolution unrolled into a dense Affine node (the array's connectivity is a dense matrix)",
    "SumPool2d": "the pooling unrolled into a dense Linear node",
    "AvgPool2d": "the pooling unrolled into a dense Linear node",
}


def _size(node, name: str) -> int:
    """Neurons in a spiking node: its largest parameter (a parameter of one value holds for all)."""
    sizes = [np.asarray(getattr(node, attr)).size for attr in _NODE_PARAMS[_kind(node)] if hasattr(node, attr)]
    if not sizes:
        raise GraphError(f"node {name!r} ({_kind(node)}) has no parameters to size it")
    return int(max(sizes))


class _Eye:
    """The identity on n values without its n x n matrix: w @ _Eye(n) is w (a node of thousands of neurons
    would otherwise cost a dense identity and a cubic product per chain)."""

    __array_ufunc__ = None  # numpy defers w @ eye to __rmatmul__

    def __init__(self, n: int):
        self.shape = (n, n)

    def __rmatmul__(self, w):
        return w


def _dense(m) -> np.ndarray:
    return np.eye(m.shape[0]) if isinstance(m, _Eye) else m


def _array(node, attr: str, size: int, name: str) -> np.ndarray:
    value = np.asarray(getattr(node, attr), dtype=np.float64).reshape(-1)
    if value.size == 1:
        value = np.full(size, value.item())
    if value.size != size:
        raise GraphError(f"node {name!r} ({_kind(node)}): {attr} has {value.size} values for {size} neurons")
    unbounded = np.isposinf(value) if attr in _MAY_BE_INFINITE else np.zeros(value.shape, dtype=bool)
    if not np.all(np.isfinite(value) | unbounded):
        raise GraphError(f"node {name!r} ({_kind(node)}): {attr} is not finite; the array needs finite values")
    return value


@dataclass
class Population:
    """One spiking node of the graph: its neurons' place in the array and its parameters."""

    name: str
    kind: str
    start: int
    size: int
    depth: int = 1
    nir: dict = field(default_factory=dict)  # the node's parameters, one value per neuron

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


@dataclass
class Compiled:
    """A graph compiled onto the array: the spec, the unquantised float values, the input and output maps."""

    spec: ArraySpec
    float_params: dict
    float_weights: np.ndarray
    populations: list
    input_size: int
    input_nodes: list  # (name, size) of each Input node, in the graph's order: the input's columns side by side
    input_matrix: np.ndarray  # [inputs, neurons]: ext (in weight codes) per unit of each input, unquantised
    input_bias: np.ndarray  # [neurons]: constant ext per step, unquantised
    outputs: np.ndarray  # neuron indices of the output nodes, in order
    depth: np.ndarray  # [neurons]: each neuron's depth (1 for a node fed by the input)
    lsb: np.ndarray  # [neurons]: NIR's membrane units per code
    dt: float
    discretisation: str
    refractory: dict  # node name -> steps, for nodes that have any
    parameters: list
    differences: list
    exported: bool = False  # a lapicque export: its widths, exponent, rounding and extensions came back

    @property
    def latency(self) -> int:
        """Steps the deepest node lags its framework on the array (depth - 1)."""
        return int(self.depth.max()) - 1

    def ext(self, x: np.ndarray, fixed: bool) -> np.ndarray:
        """External input for every array step: the input [steps, inputs] mapped, delayed to each neuron's
        depth and padded by the latency; codes (rounded) for the fixed model and the RTL."""
        x = np.asarray(x, dtype=np.float64)
        steps = x.shape[0]
        drive = x @ self.input_matrix + self.input_bias  # [steps, neurons]
        total = steps + self.latency
        ext = np.zeros((total, self.spec.neurons))
        for d in np.unique(self.depth):
            cols = self.depth == d
            ext[d - 1:d - 1 + steps, cols] = drive[:, cols]
            ext[:d - 1, cols] = 0.0  # the input has not reached this depth yet
            ext[d - 1 + steps:, cols] = self.input_bias[cols]
        if not fixed:
            return ext
        codes = np.round(ext)
        lo, hi = signed_range(self.spec.widths.ext)
        bad = np.argwhere((codes < lo) | (codes > hi))
        if bad.size:
            step, neuron = (int(v) for v in bad[0])
            raise LapicqueError(f"the input drives neuron {neuron} with {int(codes[step, neuron])} ext codes at step "
                                f"{step}; widths.ext = {self.spec.widths.ext} holds {lo}..{hi}: weaken the input, or "
                                f"import with fewer --v-bits (a coarser membrane)")
        return codes.astype(np.int64)

    def align(self, spikes: np.ndarray, steps: int) -> np.ndarray:
        """The output neurons' spikes [steps, outputs] at the framework's steps (each read depth - 1 later)."""
        out = np.zeros((steps, self.outputs.size), dtype=np.int8)
        for k, n in enumerate(self.outputs):
            d = int(self.depth[n]) - 1
            out[:, k] = spikes[d:d + steps, n]
        return out


def _discrete(kind: str, p: dict, dt: float, how: str, name: str):
    """Per-neuron (membrane leak fraction, current decay fraction, gain of u on v through the current)."""
    size = next(iter(p.values())).size
    one = np.ones(size)

    def frac(tau, what):
        if np.any(tau <= 0):
            raise GraphError(f"node {name!r} ({kind}): {what} must be positive; got {tau[tau <= 0][0]:g}")
        if how == "euler":
            a = dt / tau
            if np.any(a > 1):
                k = int(np.argmax(a))
                raise GraphError(
                    f"node {name!r} ({kind}): {what} = {tau[k]:g} s is below --dt {dt:g}: forward Euler at this dt "
                    f"is unstable (dt/tau = {a[k]:.3g} > 1); give the dt the graph was exported at (snnTorch: 1e-4; "
                    f"Norse 1.1 writes tau = dt * tau: divide by its dt)")
            return a
        return -np.expm1(-dt / tau)

    def per_tau(x, tau):
        # x / tau, with r = tau / dt kept at tau = inf (snnTorch's convention, lapicque's export) as 1 / dt
        with np.errstate(invalid="ignore"):
            return np.where(np.isinf(x) & np.isinf(tau), 1 / dt, x / tau)

    if kind == "LIF":
        a = frac(p["tau"], "tau")
        g = dt * per_tau(p["r"], p["tau"]) if how == "euler" else a * p["r"]
        return a, one, g
    if kind == "IF":
        return 0 * one, one, dt * p["r"]
    a_m, a_s = frac(p["tau_mem"], "tau_mem"), frac(p["tau_syn"], "tau_syn")
    if how == "euler":
        k = dt * per_tau(p["r"], p["tau_mem"])  # the current in membrane units: i = k I
        return a_m, a_s, k * dt * per_tau(p["w_in"], p["tau_syn"])
    keep_s, keep_m = 1 - a_s, 1 - a_m
    same = np.isclose(p["tau_syn"], p["tau_mem"], rtol=1e-12, atol=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isinf(p["tau_syn"]), 1.0, p["tau_syn"] / (p["tau_syn"] - p["tau_mem"]))
        p21 = np.where(same, p["r"] * dt / p["tau_mem"] * keep_m, p["r"] * ratio * (keep_s - keep_m))
    if np.any(keep_s == 0):
        raise GraphError(f"node {name!r} (CubaLIF): tau_syn is so far below --dt that the current is gone within "
                         f"a step; use a smaller dt")
    return a_m, a_s, p21 * dt * p["w_in"] / p["tau_syn"]


_MAY_BE_INFINITE = ("tau", "tau_mem", "tau_syn", "r", "w_in")  # a time constant of inf: no decay
#: what a lapicque export keeps in a node's metadata: the contract's features NIR has no word for
EXTENSIONS = ("bias", "leak_mode", "linear_leak", "reset_mode", "hysteresis", "theta_lo", "reset_current",
              "refractory")
_NODE_PARAMS = {
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "IF": ("r", "v_threshold", "v_reset"),
}


def _tau_from(fraction: np.ndarray, dt: float, how: str) -> np.ndarray:
    with np.errstate(divide="ignore"):
        if how == "euler":
            return np.where(fraction > 0, dt / np.where(fraction > 0, fraction, 1), np.inf)
        return np.where((fraction > 0) & (fraction < 1), -dt / np.log1p(-np.clip(fraction, 0, 1 - 1e-300)),
                        np.where(fraction == 0, np.inf, 0.0))


def compile_graph(graph, dt: float, discretisation: str = "euler", v_bits: int = 16, w_bits: int = 8,
                  refractory: int | dict[str, int] = 0, lanes: int = 1) -> Compiled:
    """The array for `graph` at time step `dt` (seconds, the graph's time unit); raises GraphError for what the
    array cannot implement.

    refractory: steps after each spike in which the membrane holds (NIR has none): one number for every
    spiking node, or {node name: steps} (snnTorch's Synaptic, RLeaky and RSynaptic with reset 'zero' behave
    as 1; its Leaky does not).
    """
    import nir

    if discretisation not in DISCRETISATIONS:
        raise LapicqueError(f"--discretisation {discretisation!r} is not one of {', '.join(DISCRETISATIONS)}")
    if not (math.isfinite(dt) and dt > 0):
        raise LapicqueError(f"--dt {dt} must be a positive number of seconds")
    nodes, edges = _flatten(graph)
    for name, node in nodes.items():
        kind = _kind(node)
        if isinstance(node, _Pass) or kind in ("Identity", "Flatten", "Input", "Output") + _SPIKING + _LINEAR:
            continue
        need = _NEEDS.get(kind, "a node type the mapping does not know")
        raise GraphError(f"node {name!r} ({kind}) cannot be mapped onto the array: it would need {need}")
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise GraphError(f"edge ({a!r}, {b!r}) names {end!r}, which is not a node of the graph")
    # pass-throughs out of the way: a -> pass -> b becomes a -> b
    passing = {n for n, node in nodes.items() if isinstance(node, _Pass) or _kind(node) in ("Identity", "Flatten")}
    for p in sorted(passing):
        ins = [a for a, b in edges if b == p]
        outs = [b for a, b in edges if a == p]
        edges = [(a, b) for a, b in edges if p not in (a, b)] + [(a, b) for a in ins for b in outs]
    inputs = [n for n, node in nodes.items() if n not in passing and isinstance(node, nir.Input)]
    outputs = [n for n, node in nodes.items() if n not in passing and isinstance(node, nir.Output)]
    spiking = [n for n, node in nodes.items() if _kind(node) in _SPIKING]
    if not spiking:
        raise GraphError("the graph has no spiking node (LIF, CubaLIF or IF) to map onto the array")
    per_node = refractory if isinstance(refractory, dict) else dict.fromkeys(spiking, refractory)
    for name, steps in per_node.items():
        if name not in spiking:
            raise GraphError(f"--refractory names {name!r}, which is not a spiking node of the graph; its spiking "
                             f"nodes: {', '.join(spiking)}")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 255:
            raise GraphError(f"--refractory {name}={steps!r} must be a whole number of steps from 0 to 255")
    if not outputs:
        raise GraphError("the graph has no Output node: nothing to read out")
    preds = {n: [a for a, b in edges if b == n] for n in nodes}

    # populations, in the graph's order
    populations, start = {}, 0
    for name in spiking:
        node = nodes[name]
        size = _size(node, name)
        params = {attr: _array(node, attr, size, name) for attr in _NODE_PARAMS[_kind(node)]}
        if "v_leak" not in params:
            params["v_leak"] = np.zeros(size)
        populations[name] = Population(name, _kind(node), start, size, nir=params)
        start += size
    n_total = start
    if n_total > DENSE_NEURONS:
        raise GraphError(f"the graph's spiking nodes hold {n_total} neurons; an array spec holds at most "
                         f"{DENSE_NEURONS} (its weights are one dense matrix)")
    input_sizes = {n: int(np.prod(np.asarray(nodes[n].input_type["input"]).reshape(-1))) for n in inputs}
    input_offset, offset = {}, 0
    for n in inputs:
        input_offset[n] = offset
        offset += input_sizes[n]

    # what flows into each spiking node: (source, matrix [size, source size], bias [size]) through linear chains
    memo, visiting = {}, set()

    def contributions(name):
        if name in memo:
            return memo[name]
        if name in visiting:
            raise GraphError(f"node {name!r} ({_kind(nodes[name])}) is on a cycle of Affine/Linear/Scale nodes "
                             f"without a neuron; the mapping needs every cycle to pass through a spiking node")
        visiting.add(name)
        node, kind = nodes[name], _kind(nodes[name])
        if not preds[name]:
            raise GraphError(f"node {name!r} ({kind}) has no input edge")
        if kind == "Scale":  # elementwise; one value scales every element of what comes in
            scale = np.asarray(node.scale, dtype=np.float64).reshape(-1)
            if scale.size == 1:
                scale = np.full(incoming(preds[name][0])[0][1].shape[0], scale.item())
            w = np.diag(scale)
        else:
            w = np.asarray(node.weight, dtype=np.float64)
        if w.ndim != 2:
            raise GraphError(f"node {name!r} ({kind}) has a weight of {w.ndim} dimensions; the mapping needs a matrix")
        b = np.asarray(node.bias, dtype=np.float64).reshape(-1) if kind == "Affine" else np.zeros(w.shape[0])
        if b.size == 1:
            b = np.full(w.shape[0], b.item())
        if b.size != w.shape[0]:
            raise GraphError(f"node {name!r} (Affine) has {b.size} biases for {w.shape[0]} outputs")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise GraphError(f"node {name!r} ({kind}) has weights or biases that are not finite")
        result = []
        for p in preds[name]:
            for src, m, c in incoming(p):
                if m.shape[0] != w.shape[1]:
                    raise GraphError(f"node {name!r} ({kind}) takes {w.shape[1]} values but {p!r} gives {m.shape[0]}")
                result.append((src, w @ m, w @ c))
        result.append((None, np.zeros((w.shape[0], 0)), b))
        visiting.discard(name)
        memo[name] = result
        return result

    def incoming(name):
        """What `name` delivers, as contributions from spiking nodes and inputs."""
        kind = _kind(nodes[name])
        if name in populations:
            size = populations[name].size
            return [(name, _Eye(size), np.zeros(size))]
        if name in input_sizes:
            size = input_sizes[name]
            return [(name, _Eye(size), np.zeros(size))]
        if kind in _LINEAR:
            return contributions(name)
        raise GraphError(f"node {name!r} ({kind}) feeds another node; only neurons, inputs and Affine/Linear/Scale "
                         f"nodes can")

    feeds = {}
    for name, pop in populations.items():
        total = []
        for p in preds[name]:
            for src, m, c in incoming(p):
                if m.shape[0] != pop.size:
                    raise GraphError(f"node {name!r} ({pop.kind}) has {pop.size} neurons but {p!r} delivers "
                                     f"{m.shape[0]} values")
                total.append((src, m, c))
        feeds[name] = total

    # depths: feed-forward edges between spiking nodes take the same step in the frameworks, one on the array
    for name in populations:
        for src, _, _ in feeds[name]:
            if src in populations and src != name and _reaches(name, src, feeds):
                raise GraphError(f"nodes {src!r} and {name!r} are on one cycle; the mapping supports recurrence "
                                 f"of a node onto itself (its spikes back to its own input), not across nodes")

    def depth(name, seen=()):
        pop = populations[name]
        if pop.depth > 1 or name in seen:
            return pop.depth
        sources = {src for src, _, _ in feeds[name] if src in populations and src != name}
        pop.depth = 1 + max((depth(s, (*seen, name)) for s in sources), default=0)
        return pop.depth

    for name in populations:
        depth(name)
    for name, pop in populations.items():
        for src, _, _ in feeds[name]:
            if src in populations and src != name and populations[src].depth != pop.depth - 1:
                raise GraphError(
                    f"node {name!r} ({pop.kind}) takes spikes from {src!r} at depth {populations[src].depth} and from "
                    f"a node at depth {pop.depth - 1}: the array delays every connection by one step, so a "
                    f"connection that skips {pop.depth - 1 - populations[src].depth} layer(s) would need that many "
                    f"steps of axonal delay")
    if max(p.depth for p in populations.values()) > MAX_DEPTH:
        raise GraphError(f"the graph is more than {MAX_DEPTH} spiking layers deep")

    out_neurons = []
    for name in outputs:
        for p in preds[name]:
            if p not in populations:
                raise GraphError(f"Output {name!r} reads {p!r} ({_kind(nodes[p])}): the array's outputs are spikes; "
                                 f"read out a spiking node (LIF, CubaLIF or IF)")
            out_neurons.extend(range(populations[p].start, populations[p].start + populations[p].size))

    meta = export_metadata(graph)
    exported = meta is not None  # a lapicque export: its scales and the contract's extras come back
    if exported:
        v_bits, i_bits, w_bits, bias_bits, ext_bits, _ = meta["widths"]
    else:
        i_bits, bias_bits, ext_bits = v_bits, v_bits, 16
    # per neuron: discretised dynamics, in NIR's membrane units
    leak = np.zeros(n_total)
    decay = np.zeros(n_total)
    gain = np.zeros(n_total)
    threshold = np.zeros(n_total)
    reset = np.zeros(n_total)
    lsb = np.zeros(n_total)
    limit = 2 ** (v_bits - 1) - 1
    for name, pop in populations.items():
        p = pop.nir
        a_m, a_s, g = _discrete(pop.kind, p, dt, discretisation, name)
        s = pop.slice
        leak[s], decay[s], gain[s] = a_m, a_s, g
        threshold[s] = p["v_threshold"] - p["v_leak"]
        reset[s] = p["v_reset"] - p["v_leak"]
        if not exported and np.any(threshold[s] <= 0):
            raise GraphError(f"node {name!r} ({pop.kind}): v_threshold must be above v_leak; the array's threshold "
                             f"is above rest")
        scale = max(float(np.max(np.abs(threshold[s]))), float(np.max(np.abs(reset[s]))))
        # a power of two: round values (a threshold of 1.0, an input of 0.5) stay exact in codes and floats
        lsb[s] = 1.0 if exported else 2.0 ** math.ceil(math.log2(scale / (THRESHOLD_SHARE * limit)))

    # weights between spiking nodes, constant drives, and the input map: all in membrane codes
    w_float = np.zeros((n_total, n_total))
    input_matrix = np.zeros((offset, n_total))
    constant = np.zeros(n_total)
    for name, pop in populations.items():
        s = pop.slice
        per = gain[s] / lsb[s]  # membrane codes per unit of u
        for src, m, c in feeds[name]:
            constant[s] += c * per
            if src in populations:
                w_float[populations[src].slice, s] += (_dense(m) * per[:, None]).T
            elif src in input_sizes:
                o = input_offset[src]
                input_matrix[o:o + input_sizes[src], s] += (_dense(m) * per[:, None]).T
    for what, values in (("weights", w_float), ("input's weights", input_matrix), ("biases", constant)):
        if not np.all(np.isfinite(values)):
            raise GraphError(f"the {what} times the nodes' gains (r, w_in, dt / tau) overflow: not finite in "
                             f"membrane codes; scale the graph's weights or r down")
    w_max = 2 ** (w_bits - 1) - 1
    biggest = float(np.max(np.abs(w_float))) if w_float.size else 0.0
    exponent = max(0, math.ceil(math.log2(biggest / w_max))) if biggest > w_max else 0
    # and the external input must hold the largest drive of inputs in [0, 1] (spikes) in ext codes
    ext_max = 2 ** (ext_bits - 1) - 1
    drive = float(np.max(np.abs(input_matrix).sum(axis=0) + np.abs(constant))) if n_total else 0.0
    if drive > ext_max:
        exponent = max(exponent, math.ceil(math.log2(drive / ext_max)))
    if exported:
        exponent = meta["weight_exponent"]
    if exponent > 16:
        raise GraphError(f"the weights span {biggest:.3g} membrane codes: beyond {w_bits}-bit codes shifted by 16; "
                         f"use more --w-bits or fewer --v-bits")
    unit = float(2 ** exponent)
    def per_neuron(value) -> np.ndarray:
        """A value of each population, repeated for each of its neurons."""
        return np.repeat([value(pop) for pop in populations.values()], [pop.size for pop in populations.values()])

    cuba = per_neuron(lambda pop: pop.kind) == "CubaLIF"
    # a constant drive of a first-layer LIF or IF goes to its bias (finer than ext); a CubaLIF's enters the
    # current, and a deeper node's must wait until the input reaches it: both through ext, which is delayed
    depths = per_neuron(lambda pop: pop.depth).astype(np.int64)
    in_bias = ~cuba & (depths == 1)
    bias_float = np.where(in_bias, constant, 0.0)
    input_bias = np.where(in_bias, 0.0, constant) / unit

    theta_codes = threshold / lsb
    refractory_steps = per_neuron(lambda pop: per_node.get(pop.name, 0)).astype(np.int64)
    float_params = {
        "bias": bias_float,
        "leak": DECAY_ONE * leak,
        "decay": DECAY_ONE * decay,
        "theta_hi": np.nextafter(theta_codes, np.inf),  # v > threshold, in float
        "theta_lo": np.zeros(n_total),
        "refractory": refractory_steps,
        "v_reset": reset / lsb,
        "reset_current": np.zeros(n_total),
        "leak_mode": np.zeros(n_total, dtype=np.int64),
        "reset_mode": np.zeros(n_total, dtype=np.int64),
        "hysteresis": np.zeros(n_total, dtype=np.int64),
    }
    codes = {
        "bias": np.round(bias_float), "leak": np.round(DECAY_ONE * leak), "decay": np.round(DECAY_ONE * decay),
        "theta_hi": np.floor(theta_codes) + 1, "theta_lo": np.zeros(n_total), "refractory": refractory_steps,
        "v_reset": np.round(reset / lsb), "reset_current": np.zeros(n_total),
        "leak_mode": np.zeros(n_total), "reset_mode": np.zeros(n_total), "hysteresis": np.zeros(n_total),
    }
    codes = {k: v.astype(np.int64) for k, v in codes.items()}
    rounding = meta["rounding"] if exported else "toward_zero"
    if exported:
        _apply_extensions(nodes, populations, codes, float_params)
        refractory_steps = codes["refractory"]
    for name, pop in populations.items():
        s = pop.slice
        if np.any((codes["leak"][s] == 0) & (leak[s] > 0)):
            raise GraphError(f"node {name!r} ({pop.kind}): its membrane time constant is so long against --dt {dt:g} "
                             f"that the 12-bit leak rounds to 0; use a larger dt")
        if np.any((codes["decay"][s] == 0) & (decay[s] > 0)):
            raise GraphError(f"node {name!r} ({pop.kind}): tau_syn is so long against --dt {dt:g} that the 12-bit "
                             f"current decay rounds to 0; use a larger dt")
    refractory_bits = (meta["widths"][5] if exported
                       else max(1, int(refractory_steps.max()).bit_length()))
    widths = Widths(v=v_bits, i=i_bits, w=w_bits, bias=bias_bits, ext=ext_bits, refractory=refractory_bits)
    w_codes = np.round(w_float / unit).astype(np.int64)
    try:
        spec = ArraySpec(neurons=n_total, lanes=lanes, widths=widths, params=codes, weights=w_codes,
                         weight_exponent=exponent, rounding=rounding)
    except LapicqueError as exc:
        raise GraphError(f"the graph's codes do not fit the array: {exc}") from None
    compiled = Compiled(
        spec=spec, float_params=float_params, float_weights=w_float / unit, populations=list(populations.values()),
        input_size=offset, input_nodes=[(n, input_sizes[n]) for n in inputs], input_matrix=input_matrix / unit,
        input_bias=input_bias,
        outputs=np.array(out_neurons, dtype=np.int64), depth=depths,
        lsb=lsb, dt=dt, discretisation=discretisation, refractory={n: s for n, s in per_node.items() if s},
        parameters=[], differences=[], exported=exported)
    compiled.parameters = _parameter_table(compiled, gain, feeds, input_sizes)
    compiled.differences = _differences(compiled)
    return compiled


def export_metadata(graph) -> dict | None:
    """A lapicque export's graph metadata (dt, discretisation, widths, weight exponent, rounding, lanes),
    checked; None for a graph lapicque did not write."""
    from lapicque.spec import ROUNDING_MODES

    meta = dict(getattr(graph, "metadata", None) or {})
    if "lapicque_widths" not in meta:
        return None

    def whole(key, count=None):
        try:
            values = np.asarray(meta[key]).reshape(-1)
            if values.dtype.kind not in "iu" or (count is not None and values.size != count):
                raise ValueError
            return [int(v) for v in values] if count is not None else int(values.item())
        except (KeyError, ValueError, TypeError):
            raise GraphError(f"the graph's metadata {key} is missing or malformed; it should be what `lapicque nir "
                             f"export` writes") from None

    def text(key, allowed):
        value = meta.get(key)
        value = value.decode() if isinstance(value, bytes) else value
        if value not in allowed:
            raise GraphError(f"the graph's metadata {key} = {value!r} is not one of {', '.join(allowed)}")
        return value

    try:
        dt = float(np.asarray(meta["lapicque_dt"]).item())
    except (KeyError, ValueError, TypeError):
        dt = math.nan
    if not (math.isfinite(dt) and dt > 0):
        raise GraphError("the graph's metadata lapicque_dt is missing or not a positive number of seconds")
    return {"dt": dt, "discretisation": text("lapicque_discretisation", DISCRETISATIONS),
            "widths": whole("lapicque_widths", 6), "weight_exponent": whole("lapicque_weight_exponent"),
            "rounding": text("lapicque_rounding", ROUNDING_MODES), "lanes": whole("lapicque_lanes")}


def _apply_extensions(nodes: dict, populations: dict, codes: dict, float_params: dict) -> None:
    """A lapicque export's per-neuron extras (node metadata `lapicque_*`) back into the codes and float values."""
    for name, pop in populations.items():
        meta = dict(getattr(nodes[name], "metadata", None) or {})
        s = pop.slice
        for key in EXTENSIONS:
            value = meta.get(f"lapicque_{key}")
            if value is None:
                continue
            value = np.asarray(value, dtype=np.float64).reshape(-1)
            if value.size != pop.size or not np.all(np.isfinite(value)) or not np.all(value == np.round(value)):
                raise GraphError(f"node {name!r} ({pop.kind}): metadata lapicque_{key} must hold {pop.size} whole "
                                 f"numbers")
            if key == "linear_leak":
                linear = codes["leak_mode"][s] == 1
                codes["leak"][s] = np.where(linear, value, codes["leak"][s])
                float_params["leak"][s] = np.where(linear, value, float_params["leak"][s])
                continue
            codes[key][s] = value.astype(np.int64)
            float_params[key][s] = value if key in ("bias", "theta_lo", "reset_current", "refractory") \
                else value.astype(np.int64)


def _reaches(start: str, goal: str, feeds: dict) -> bool:
    """True if spikes of `start` reach `goal` through other spiking nodes (a cycle across nodes)."""
    seen, frontier = set(), [start]
    while frontier:
        node = frontier.pop()
        for target, contribs in feeds.items():
            if target in seen or target == node:
                continue
            if any(src == node for src, _, _ in contribs):
                if target == goal:
                    return True
                seen.add(target)
                frontier.append(target)
    return False


def _parameter_table(c: Compiled, gain, feeds, input_sizes) -> list[dict]:
    """Per node and parameter: NIR's value, the value the codes realise, and the error (worst neuron)."""
    spec, rows = c.spec, []
    p = spec.params
    unit = 2.0 ** spec.weight_exponent

    def row(node, kind, parameter, want, got, step_of_largest=False):
        """The worst neuron's figures; `step_of_largest`: errors relative to the largest |value| (a weight
        matrix's quantisation step, where a small weight's own relative error says nothing)."""
        want, got = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = np.where(np.isinf(want) & np.isinf(got) & (np.sign(want) == np.sign(got)), 0.0, got - want)
            scale = np.max(np.abs(want)) if step_of_largest else np.abs(want)
            rel = np.where(scale != 0, np.abs(diff) / scale, np.abs(diff))
        rel = np.nan_to_num(rel, nan=np.inf)  # an undefined error is shown as the worst, never hidden
        k = int(np.nanargmax(rel)) if rel.size else 0
        rows.append({"node": node, "type": kind, "parameter": parameter, "nir": float(want.flat[k]),
                     "realised": float(got.flat[k]), "error": float(diff.flat[k]), "relative_error": float(rel.flat[k]),
                     "neurons": int(want.size)})

    for pop in c.populations:
        s, q, name, kind = pop.slice, pop.nir, pop.name, pop.kind
        lsb = c.lsb[s]
        values, gain_realised = _realised(pop, c, spec)
        for parameter in ("tau", "tau_mem", "tau_syn", "v_threshold", "v_reset"):
            if parameter in q:  # the threshold: the middle of the interval the codes decide alike
                row(name, kind, parameter, q[parameter], values[parameter])
        if kind != "IF":
            row(name, kind, "v_leak", q["v_leak"], q["v_leak"])  # exact: the membrane is counted from v_leak
        # every connection into the node: NIR's weights (summed over parallel chains), realised by the codes
        per = gain_realised / lsb  # membrane codes per unit of the node's input, as the codes realise it
        summed = {}
        for src, m, _ in feeds[name]:
            if src is not None:
                summed[src] = summed.get(src, 0) + _dense(m)
        if np.any(per == 0):
            continue  # r or w_in of 0: the node's input has no effect, and no weight is realised
        for src, m in summed.items():
            if src in input_sizes:
                continue  # the host rounds each step's whole drive, not each weight: no weight is quantised
            realised = spec.weights[_slice_of(c, src), s].T * unit / per[:, None]
            nz = (m != 0) | (realised != 0)
            if nz.any():
                row(name, kind, f"weight from {src!r}", m[nz], realised[nz], step_of_largest=True)
        drive = c.float_params["bias"][s]
        bias_exact = np.divide(drive, gain[s] / lsb, out=np.zeros_like(drive), where=gain[s] != 0)
        if np.any(bias_exact != 0):  # a first-layer LIF's Affine bias, as NIR's bias on its input
            row(name, kind, "bias (an Affine's, as the node's bias parameter)", bias_exact, p["bias"][s] / per)
    return rows


def _realised(pop: Population, c: Compiled, spec: ArraySpec) -> tuple[dict, np.ndarray]:
    """The node's NIR parameters as `spec`'s codes realise them, and the gain (membrane units per unit of
    input) those parameters give. r and w_in stay NIR's (only their product with the gain is realised);
    the threshold is the middle of the interval [theta_hi - 1, theta_hi) whose values decide alike."""
    s, q, p = pop.slice, pop.nir, spec.params
    lsb = c.lsb[s]
    values = {k: np.array(v, dtype=np.float64) for k, v in q.items()}
    if pop.kind == "LIF":
        values["tau"] = _tau_from(p["leak"][s] / DECAY_ONE, c.dt, c.discretisation)
    if pop.kind == "CubaLIF":
        values["tau_mem"] = _tau_from(p["leak"][s] / DECAY_ONE, c.dt, c.discretisation)
        values["tau_syn"] = _tau_from(p["decay"][s] / DECAY_ONE, c.dt, c.discretisation)
    values["v_threshold"] = q["v_leak"] + (p["theta_hi"][s] - 0.5) * lsb
    values["v_reset"] = q["v_leak"] + p["v_reset"][s] * lsb
    gain = _discrete(pop.kind, values, c.dt, c.discretisation, pop.name)[2]
    return values, gain


def _slice_of(c: Compiled, name: str) -> slice:
    return next(pop.slice for pop in c.populations if pop.name == name)


def _differences(c: Compiled) -> list[str]:
    """Every way in which the array's equations differ from NIR's for this graph, stated."""
    notes = [
        "threshold: NIR fires on v > v_threshold, the array on v >= theta_hi; theta_hi = floor(threshold / lsb) + 1 "
        "in codes (an integer membrane above the threshold reaches it), the float model's threshold is the next "
        "float above NIR's, so both fire exactly when v > v_threshold",
        f"time: continuous-time equations discretised at dt = {c.dt:g} s by {c.discretisation} "
        + ("(forward Euler, the current updated before the membrane: snnTorch's and Norse's order)"
           if c.discretisation == "euler" else
           "(exact propagators: an LIF's input held over the step, a CubaLIF's input an impulse at the step's start)"),
        "reset: to v_reset (NIR's), in the step the neuron spikes; the framework's own reset may differ (snnTorch's "
        "default subtracts the threshold; its exporter writes v_reset = 0 all the same)",
        "saturation: the fixed model and the RTL clamp v and i to their widths; NIR's membrane is unbounded",
    ]
    if c.exported:
        notes.append("a lapicque export: the widths, weight exponent, rounding and lanes it records were used "
                     "(--v-bits and --w-bits do not apply), and its metadata restored what NIR cannot say (bias, "
                     "linear leak, subtract reset, hysteresis, refractory periods)")
    elif c.refractory:
        steps = ", ".join(f"{name}: {k}" for name, k in c.refractory.items())
        notes.append(f"refractory: steps after each spike in which the membrane holds ({steps}); NIR has none, "
                     f"--refractory adds it (snnTorch's Synaptic, RLeaky and RSynaptic with reset 'zero' behave "
                     f"as 1: they drop the input of the step after a spike)")
    else:
        notes.append("refractory: none (NIR has none)")
    if c.latency:
        notes.append(f"delay: the array delays every connection by one step, where the frameworks deliver a layer's "
                     f"spikes in the same step; a node at depth d spikes d - 1 steps later on the array, its external "
                     f"input is delayed by as much, and outputs are read d - 1 steps later (deepest node: depth "
                     f"{c.latency + 1}); the run is {c.latency} step(s) longer than the input")
    if np.any(c.input_bias):
        notes.append("bias: an Affine bias into a CubaLIF, or into a node deeper than the first layer, enters as "
                     "a constant external input each step from the step the input reaches the node (rounded to "
                     "ext codes with the rest of the step's drive); a first-layer LIF's is its bias parameter")
    recurrent = [pop.name for pop in c.populations
                 if np.any(c.spec.weights[pop.slice, pop.slice])]
    if recurrent:
        notes.append(f"recurrence: {', '.join(recurrent)} feed(s) their own spikes back one step later, as in the "
                     f"frameworks")
    return notes


# -- running ---------------------------------------------------------------------------------------------

def run(c: Compiled, x: np.ndarray, fixed: bool) -> dict:
    """Float or fixed model on input x [steps, inputs]: the array's spikes, v before reset, and the output
    spikes aligned to the input's steps."""
    from .neuron import ArrayModel

    x = np.asarray(x, dtype=np.float64)
    ext = c.ext(x, fixed)
    if fixed:
        model = ArrayModel(c.spec, fixed=True)
    else:
        model = ArrayModel(c.spec, fixed=False, params=c.float_params, weights=c.float_weights)
    spikes = np.zeros(ext.shape, dtype=np.int8)
    v_pre = np.zeros(ext.shape)
    saturated = 0
    for t, e in enumerate(ext):
        result = model.step(e)
        spikes[t] = result.spike
        v_pre[t] = result.v_pre
        saturated += int(np.count_nonzero(result.flags & 0b11))  # sat_high, sat_low
    return {"ext": ext, "spikes": spikes, "v_pre": v_pre, "outputs": c.align(spikes, x.shape[0]),
            "saturated": saturated}


def membrane(c: Compiled, v_pre: np.ndarray, neurons: slice | np.ndarray, steps: int) -> np.ndarray:
    """NIR's membrane (before reset) of `neurons` at the framework's steps, from the array's v_pre codes."""
    idx = np.arange(c.spec.neurons)[neurons]
    out = np.zeros((steps, idx.size))
    for k, n in enumerate(idx):
        d = int(c.depth[n]) - 1
        out[:, k] = v_pre[d:d + steps, n] * c.lsb[n]
    return out


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Per output neuron: spike counts of a and b, and the fraction of spikes that coincide within one step
    (matched greedily in time order; over the larger count, so extra spikes count against it)."""
    a, b = np.asarray(a) != 0, np.asarray(b) != 0
    counts_a, counts_b, fractions = [], [], []
    for k in range(a.shape[1]):
        ta, tb = np.flatnonzero(a[:, k]), np.flatnonzero(b[:, k])
        matched, j = 0, 0
        used = np.zeros(tb.size, dtype=bool)
        for t in ta:
            while j < tb.size and tb[j] < t - 1:
                j += 1
            for m in range(j, min(j + 3, tb.size)):
                if not used[m] and abs(int(tb[m]) - int(t)) <= 1:
                    used[m] = True
                    matched += 1
                    break
        total = max(ta.size, tb.size)
        counts_a.append(int(ta.size))
        counts_b.append(int(tb.size))
        fractions.append(1.0 if total == 0 else matched / total)
    all_total = sum(max(x, y) for x, y in zip(counts_a, counts_b, strict=True))
    all_matched = sum(f * max(x, y) for f, x, y in zip(fractions, counts_a, counts_b, strict=True))
    return {"counts": [counts_a, counts_b], "coincident": fractions,
            "coincident_all": 1.0 if all_total == 0 else all_matched / all_total}


# -- export ----------------------------------------------------------------------------------------------

def export_spec(spec: ArraySpec, dt: float):
    """A NIR graph of `spec` at time step `dt` (seconds), discretised by forward Euler (`euler`): Input (one
    external input per neuron, in ext codes) -> Linear -> CubaLIF (every neuron) -> Output, and the weight
    matrix as a Linear node from the CubaLIF back to itself. The membrane's unit is one code (v_leak = 0,
    v_threshold = theta_hi - 1: NIR's v > v_threshold on integer membranes), tau_mem = dt / (leak / 4096),
    tau_syn = dt / (decay / 4096), r = tau_mem / dt and w_in = tau_syn / dt (the current in membrane codes).
    The contract's features that NIR has no word for (bias, linear leak, subtract reset, hysteresis,
    refractory, widths, rounding) travel in metadata (`lapicque_*`) that `compile_graph` reads back; other
    NIR tools ignore them (`extensions_used` says which neurons need them)."""
    import nir

    if not (math.isfinite(dt) and dt > 0):
        raise LapicqueError(f"--dt {dt} must be a positive number of seconds")
    p, n = spec.params, spec.neurons
    exponential = p["leak_mode"] == 0
    with np.errstate(divide="ignore"):
        tau_mem = np.where(exponential & (p["leak"] > 0), dt * DECAY_ONE / np.maximum(p["leak"], 1), np.inf)
        tau_syn = np.where(p["decay"] > 0, dt * DECAY_ONE / np.maximum(p["decay"], 1), np.inf)
    unit = float(2 ** spec.weight_exponent)
    extras = {
        "lapicque_bias": p["bias"], "lapicque_leak_mode": p["leak_mode"],
        "lapicque_linear_leak": np.where(exponential, 0, p["leak"]), "lapicque_reset_mode": p["reset_mode"],
        "lapicque_hysteresis": p["hysteresis"], "lapicque_theta_lo": p["theta_lo"],
        "lapicque_reset_current": p["reset_current"], "lapicque_refractory": p["refractory"],
    }
    neurons = nir.CubaLIF(
        tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(n),
        v_threshold=(p["theta_hi"] - 1).astype(np.float64), v_reset=p["v_reset"].astype(np.float64),
        w_in=tau_syn / dt, metadata={k: np.asarray(v, dtype=np.int64) for k, v in extras.items()})
    w = spec.widths
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([n])),
            "ext": nir.Linear(weight=np.eye(n) * unit),
            "array": neurons,
            "recurrent": nir.Linear(weight=spec.weights.T.astype(np.float64) * unit),
            "output": nir.Output(output_type=np.array([n])),
        },
        edges=[("input", "ext"), ("ext", "array"), ("array", "recurrent"), ("recurrent", "array"),
               ("array", "output")],
        metadata={
            "lapicque_dt": float(dt), "lapicque_discretisation": "euler",
            "lapicque_widths": np.array([w.v, w.i, w.w, w.bias, w.ext, w.refractory], dtype=np.int64),
            "lapicque_weight_exponent": int(spec.weight_exponent), "lapicque_rounding": spec.rounding,
            "lapicque_lanes": int(spec.lanes),
        })
    return graph


def extensions_used(spec: ArraySpec) -> dict[str, int]:
    """How many neurons use each contract feature that NIR's CubaLIF cannot express (other tools ignore it)."""
    p = spec.params
    used = {
        "bias": int(np.count_nonzero(p["bias"])),
        "linear_leak": int(np.count_nonzero(p["leak_mode"] == 1)),
        "subtract_reset": int(np.count_nonzero(p["reset_mode"] == 1)),
        "hysteresis": int(np.count_nonzero(p["hysteresis"] == 1)),
        "refractory": int(np.count_nonzero(p["refractory"])),
    }
    return {k: v for k, v in used.items() if v}


def realise(graph, compiled: Compiled, spec: ArraySpec):
    """`graph` (the one `compiled` was made from) with every value the array quantises replaced by what
    `spec`'s codes realise, in the graph's own nodes and units: each spiking node's time constants,
    threshold (the middle of the codes' interval) and reset; each Affine/Linear node that joins two spiking
    nodes alone, its weights (and, for a first-layer LIF or IF, its bias). The input's weights stay NIR's:
    the host rounds each step's whole drive, not the weights. Returns (graph, names of the nodes replaced)."""
    import nir

    if spec.neurons != compiled.spec.neurons:
        raise LapicqueError(f"the spec has {spec.neurons} neurons; the graph maps onto {compiled.spec.neurons}")
    nodes, edges = _flatten(graph)
    p, unit = spec.params, 2.0 ** spec.weight_exponent
    pops = {pop.name: pop for pop in compiled.populations}
    replaced, out = [], {}
    gains = {}
    for name, node in nodes.items():
        if isinstance(node, _Pass):
            node = nir.Identity(input_type=node.node.input_type) if isinstance(node.node, nir.Input) \
                else nir.Identity(input_type=node.node.output_type["output"])
        pop = pops.get(name)
        if pop is not None:
            values, gains[name] = _realised(pop, compiled, spec)
            if pop.kind == "IF":
                values.pop("v_leak")
            node = type(node)(**values)
            replaced.append(name)
        out[name] = node
    for name, node in nodes.items():
        if _kind(node) not in ("Affine", "Linear"):
            continue
        sources = [a for a, b in edges if b == name]
        targets = [b for a, b in edges if a == name]
        if len(sources) != 1 or len(targets) != 1 or sources[0] not in pops or targets[0] not in pops:
            continue
        src, dst = pops[sources[0]], pops[targets[0]]
        per = gains[dst.name] / compiled.lsb[dst.slice]  # membrane codes per unit of u
        if np.any(per == 0):
            continue  # r or w_in of 0: the node's input has no effect, and no weight is realised (as in the table)
        weight = spec.weights[src.slice, dst.slice].T * unit / per[:, None]
        if _kind(node) == "Linear":
            out[name] = nir.Linear(weight=weight)
        else:
            bias = np.asarray(node.bias, dtype=np.float64)
            only_feed = [a for a, b in edges if b == dst.name] == [name]
            if only_feed and dst.kind != "CubaLIF" and dst.depth == 1:
                bias = p["bias"][dst.slice] / per
            out[name] = nir.Affine(weight=weight, bias=bias)
        replaced.append(name)
    return nir.NIRGraph(nodes=out, edges=edges, type_check=False), replaced
