"""External Poisson input drawn from a counter-based hash: part of the network contract (issue 20).

Brunel's model A drives every neuron with C_E external Poisson neurons: per step, a Poisson count of mean
C_E nu_ext dt inputs of weight J. A population with an `External` (mean per step, weight code, seed) receives
exactly that, drawn so that the models and the hardware draw the same counts from the same integers:

    base   = hash32(seed ^ EXTERNAL_TAG)                     (hash32: lowbias32, `golden.connectivity`)
    x      = (base + t N + n) mod 2**32                      step t, global neuron n, N neurons in the network
    u      = hash32(x) >> (32 - UNIFORM_BITS)                a 24-bit uniform number
    count  = #{k : u >= C[k]}                                C = `poisson_table(mean)`
    ext    = count * weight                                  into channel 0 (the contract's ext)

C[k] = round(2**24 P(X <= k)) for X ~ Poisson(mean), keeping the entries below 2**24: inverse-CDF sampling on
a 24-bit grid, so the realised distribution differs from Poisson(mean) only by that rounding (probabilities
within 2**-24 of the exact ones; `realised_mean` reports the mean it draws). The hardware compares u with
every entry at once: the table has at most `MAX_TABLE` entries, which caps the mean (about 10.5 per step).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lapicque.errors import SpecError

from .connectivity import MASK, hash32

UNIFORM_BITS = 24
MAX_TABLE = 32
EXTERNAL_TAG = 0x45585431  # "EXT1": keeps the input's stream apart from the rows' keys of the same seed


@dataclass(frozen=True)
class External:
    """A population's external input: a count of mean `mean` per step, each input adding `weight` codes."""

    mean: float
    weight: int
    seed: int = 0

    def table(self) -> np.ndarray:
        return poisson_table(self.mean)

    @property
    def base(self) -> int:
        return external_base(self.seed)


def poisson_table(mean: float) -> np.ndarray:
    """C[k] = round(2**24 P(X <= k)), X ~ Poisson(mean), the entries below 2**24 (int64); a one-line SpecError
    for a mean the table cannot hold."""
    if isinstance(mean, bool) or not (isinstance(mean, int | float) and np.isfinite(mean) and mean > 0):
        raise SpecError(f"external.mean = {mean!r} must be a positive number (inputs per step)")
    return _poisson_table(float(mean)).copy()


@lru_cache(maxsize=64)
def _poisson_table(mean: float) -> np.ndarray:
    from scipy import stats  # here: importing scipy.stats costs half a second, which every testbench would pay

    one = 1 << UNIFORM_BITS
    k = np.arange(4 * MAX_TABLE)
    table = np.round(stats.poisson.cdf(k, mean) * one).astype(np.int64)
    table = table[table < one]
    if table.size > MAX_TABLE:
        raise SpecError(f"external.mean = {mean} inputs per step needs a table of {table.size} entries; the "
                        f"hardware compares at most {MAX_TABLE} (a mean up to about 10.5): raise the weight and lower "
                        "the mean, or split the input over two populations")
    return table


def realised_mean(table: np.ndarray) -> float:
    """The mean count the table draws: sum over k of P(count > k) on the 24-bit grid."""
    one = 1 << UNIFORM_BITS
    return float(np.sum(one - np.asarray(table, dtype=np.float64)) / one)


def external_base(seed: int) -> int:
    return int(hash32(np.uint64((int(seed) ^ EXTERNAL_TAG) & 0xFFFFFFFF)))


def external_counts(external: External, step: int, network_neurons: int, offset: int, size: int) -> np.ndarray:
    """The counts of the population's `size` neurons (global indices offset ..) at step `step`."""
    n = np.arange(offset, offset + size, dtype=np.uint64)
    x = (np.uint64(external.base) + np.uint64((int(step) * int(network_neurons)) & 0xFFFFFFFF) + n) & MASK
    u = (hash32(x) >> np.uint64(32 - UNIFORM_BITS)).astype(np.int64)
    return np.searchsorted(external.table(), u, side="right").astype(np.int64)
