"""A `NetworkSpec` as executable models: bit-exact fixed point and float64 (the contract of
`lapicque.network_spec`: populations, projections with delays, one synaptic current per channel).

Each projection is realised once as a CSR matrix (rows = the source population's neurons, columns = global
target indices, int64 codes): dense and list projections from their codes, procedural ones from the
counter-based rows of `lapicque.golden.connectivity` (the rows the hardware regenerates per spike). A step
reads the accumulators due now from a ring of `max_delay + 1` banks per channel, updates every neuron by
`lapicque.golden.neuron.array_step` (the same function the array's models run), then adds each spiking
source's row into the bank `delay` steps ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from lapicque.network_spec import NetworkSpec, Projection
from lapicque.spec import FLAG_NAMES

from .connectivity import (
    SKIP_BITS,
    bernoulli_rows,
    fixed_in_degree_rows,
    fixed_out_degree_rows,
    row_key,
    skip_table,
)
from .external import external_counts
from .neuron import State, StepResult, array_step

SATURATION_FLAGS = (1 << FLAG_NAMES.index("sat_high")) | (1 << FLAG_NAMES.index("sat_low"))


@dataclass
class Compiled:
    """A realised projection: rows of its source population, global target columns."""

    name: str
    source_offset: int
    source_size: int
    channel: int
    delay: int
    rows: sparse.csr_matrix
    procedural: Procedural | None = None  # what hardware that regenerates the rows needs (`hardware_rows`)


@dataclass
class Procedural:
    """A Bernoulli projection's rows as hardware regenerates them: each source's row key, the skip table, the
    weight (one code or one per source) and the target population's first global index and size."""

    keys: np.ndarray
    table: list[int]
    weight: np.ndarray
    target_offset: int
    target_size: int


def realise(net: NetworkSpec, projection: Projection) -> sparse.csr_matrix:
    """The projection's connections as a (source size) x (target size) int64 CSR matrix of codes, every connection
    an entry of its source's row in the rule's order: a multapse (the fixed-degree rules, a repeated list entry)
    is several entries, which add up where they arrive, as the hardware delivers them one by one."""
    s, t = net.populations[projection.source].size, net.populations[projection.target].size
    w = projection.weight
    if projection.rule == "dense":
        matrix = sparse.csr_matrix(np.broadcast_to(w, (s, t)).astype(np.int64))
        matrix.eliminate_zeros()
        return matrix
    if projection.rule == "list":
        src, dst = projection.pre, projection.post
        weights = np.broadcast_to(w, src.shape)
    else:
        index = net.projection_index(projection.name)
        if projection.rule == "bernoulli":
            src, dst = bernoulli_rows(s, t, projection.p, projection.seed, index, SKIP_BITS)
        elif projection.rule == "fixed_out_degree":
            src, dst = fixed_out_degree_rows(s, t, projection.degree, projection.seed, index)
        else:
            src, dst = fixed_in_degree_rows(s, t, projection.degree, projection.seed, index)
        weights = w[src] if w.ndim else np.broadcast_to(w, src.shape)
    keep = weights != 0
    src, dst, weights = src[keep], dst[keep], weights[keep]
    order = np.argsort(src, kind="stable")  # rows in source order, each in the rule's order
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=s))])
    # built from its arrays, a CSR matrix keeps repeated columns (from coordinates, scipy would add them up)
    return sparse.csr_matrix((weights[order].astype(np.int64), dst[order].astype(np.int64), indptr), shape=(s, t))


def compile_network(net: NetworkSpec) -> list[Compiled]:
    offsets, n = net.offsets, net.neurons
    compiled = []
    for pr in net.projections.values():
        rows = realise(net, pr)
        t0 = offsets[pr.target]
        # shift the columns to global target indices
        wide = sparse.csr_matrix((rows.data, rows.indices + t0, rows.indptr), shape=(rows.shape[0], n))
        compiled.append(Compiled(pr.name, offsets[pr.source], rows.shape[0], net.channels.index(pr.channel),
                                 pr.delay, wide))
    return compiled


def hardware_rows(net: NetworkSpec) -> list[Compiled]:
    """`compile_network`'s rows, with what a core needs to regenerate the Bernoulli projections' rows instead of
    storing them (`Compiled.procedural`): the rows it then draws are these, by the contract."""
    compiled = compile_network(net)
    for part, projection in zip(compiled, net.projections.values(), strict=True):
        if projection.rule == "bernoulli":
            index = net.projection_index(projection.name)
            part.procedural = Procedural(
                row_key(projection.seed, index, np.arange(part.source_size)).astype(np.int64),
                skip_table(projection.p, SKIP_BITS).tolist(), projection.weight,
                net.offsets[projection.target], net.populations[projection.target].size)
    return compiled


class NetworkModel:
    """The whole network with its own state and its ring of delayed input.

    `fixed=True` is the bit-exact contract; `fixed=False` the same equations in float64 without rounding.
    `state.i` is [channels, neurons]; the membrane starts at the populations' `v0`.
    """

    def __init__(self, net: NetworkSpec, fixed: bool = True, compiled: list[Compiled] | None = None):
        self.net = net
        self.fixed = fixed
        self.params = net.params()
        self.compiled = compile_network(net) if compiled is None else compiled
        n, c = net.neurons, len(net.channels)
        dtype = np.int64 if fixed else np.float64
        self.state = State(net.v0().astype(dtype), np.zeros((c, n), dtype), np.zeros(n, np.int64),
                           np.zeros(n, np.int64))
        self.ring = np.zeros((net.max_delay + 1, c, n), dtype)
        self.timestep = 0
        offsets = net.offsets
        self.externals = [(pop.external, offsets[name], pop.size) for name, pop in net.populations.items()
                          if pop.external is not None]

    def external_input(self, step: int) -> np.ndarray:
        """The populations' external input at `step` (codes into channel 0; `lapicque.golden.external`)."""
        ext = np.zeros(self.net.neurons, np.int64)
        for external, offset, size in self.externals:
            counts = external_counts(external, step, self.net.neurons, offset, size)
            ext[offset:offset + size] = counts * external.weight
        return ext

    @property
    def synapses(self) -> int:
        """Realised connections (every connection of a multapse counted)."""
        return int(sum(p.rows.nnz for p in self.compiled))

    def step(self, ext=None) -> StepResult:
        slots = self.ring.shape[0]
        now = self.timestep % slots
        acc = self.ring[now].copy()
        self.ring[now] = 0
        ext = 0 if ext is None else np.asarray(ext, dtype=np.int64 if self.fixed else np.float64)
        if self.externals:  # the same counts in both models: the float one adds them without rounding anything
            ext = ext + self.external_input(self.timestep)
        result = array_step(self.net, self.state, acc, ext, self.fixed, self.params, channels=True)
        self.state = result.state
        fired = np.flatnonzero(result.spike)
        if fired.size:
            for pr in self.compiled:
                local = fired[(fired >= pr.source_offset) & (fired < pr.source_offset + pr.source_size)]
                if local.size:
                    rows = pr.rows[local - pr.source_offset]
                    bank = self.ring[(self.timestep + pr.delay) % slots, pr.channel]
                    np.add.at(bank, rows.indices, rows.data)
        self.timestep += 1
        return result

    def run(self, steps: int, ext=None, record=(), progress=None) -> dict[str, np.ndarray]:
        """Run `steps` steps (`ext`: None, or [steps, neurons] codes into channel 0, added to the populations'
        own external input). Returns the spikes as
        `spike_steps` / `spike_neurons` (step index from 0, global neuron) and, for the `record` neurons,
        `v` and `i` traces ([steps, recorded] and [steps, channels, recorded]), and `saturated`, the number of
        updates that hit a rail (sat_high or sat_low)."""
        record = np.asarray(list(record), dtype=np.int64)
        v_trace = np.zeros((steps, record.size), self.state.v.dtype)
        i_trace = np.zeros((steps, self.state.i.shape[0], record.size), self.state.i.dtype)
        spike_steps, spike_neurons = [], []
        saturated = 0
        for k in range(steps):
            result = self.step(None if ext is None else ext[k])
            saturated += int(np.count_nonzero(result.flags & SATURATION_FLAGS))
            fired = np.flatnonzero(result.spike)
            spike_steps.append(np.full(fired.size, self.timestep - 1, np.int64))
            spike_neurons.append(fired)
            v_trace[k] = result.state.v[record]
            i_trace[k] = result.state.i[:, record]
            if progress is not None and (k + 1) % 1000 == 0:
                progress(k + 1, steps)
        return {"spike_steps": np.concatenate(spike_steps) if steps else np.zeros(0, np.int64),
                "spike_neurons": np.concatenate(spike_neurons) if steps else np.zeros(0, np.int64),
                "v": v_trace, "i": i_trace, "saturated": saturated}
