"""Procedural connectivity: each spike's targets regenerated from a counter-based hash instead of stored.

This is part of the contract (issue 20): the float and fixed network models and, next, the RTL draw the
same rows from the same integers, so a network of 4000 neurons and 320,000 synapses needs no synapse
memory at all. Everything is 32-bit unsigned arithmetic (products reduced mod 2**32), so a hardware
implementation reproduces it bit for bit:

    hash32(x)      = lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
    row_key(seed, projection, source) = hash32(hash32(seed + 0x9e3779b9 * (projection + 1)) ^ source)
    draw(key, k)   = hash32(key + k)                  the k-th number of a source's row (k = 0, 1, ...)

Rules (T targets):

- `bernoulli` (each target with probability p): geometric skipping. The row's position starts at -1; draw
  k moves it by 1 + G[draw >> (32 - bits)], where G is the skip table of p,
  G[j] = floor(ln((j + 1/2) / 2**bits) / ln(1 - p)), j = 0 .. 2**bits - 1; targets are the positions below
  T. The table is what the hardware holds (2**bits entries); its quantisation makes the realised
  probability `realised_p(G)` = 1 / (1 + mean(G)), reported beside p.
- `fixed_out_degree` (k targets per source, with replacement): target = (draw(key, m) * T) >> 32.
- `fixed_in_degree` (k sources per target, with replacement, an explicit list made once): source =
  (draw(row_key(seed, projection, target), m) * S) >> 32.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from lapicque.errors import LapicqueError

MASK = np.uint64(0xFFFFFFFF)
GOLDEN = 0x9E3779B9
SKIP_BITS = 10
RULES = ("bernoulli", "fixed_out_degree", "fixed_in_degree")


def hash32(x) -> np.ndarray:
    """lowbias32 of each value (taken mod 2**32), as uint64 arrays holding 32-bit values."""
    x = np.asarray(x, dtype=np.uint64) & MASK
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & MASK
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & MASK
    return x ^ (x >> np.uint64(16))


def row_key(seed: int, projection: int, source) -> np.ndarray:
    """The key of each source's row in a projection."""
    base = hash32((int(seed) + GOLDEN * (int(projection) + 1)) & 0xFFFFFFFF)
    return hash32(base ^ (np.asarray(source, dtype=np.uint64) & MASK))


def draw(key, k) -> np.ndarray:
    """The k-th 32-bit number of the rows with these keys."""
    return hash32((np.asarray(key, dtype=np.uint64) + np.asarray(k, dtype=np.uint64)) & MASK)


def skip_table(p: float, bits: int = SKIP_BITS) -> np.ndarray:
    """G[j] = floor(ln((j + 1/2) / 2**bits) / ln(1 - p)): the skips geometric skipping draws from."""
    if not 0.0 < p <= 1.0:
        raise LapicqueError(f"connection probability p = {p} is out of range for procedural rows; allowed 0 < p <= 1")
    if not 1 <= bits <= 16:
        raise LapicqueError(f"skip table bits = {bits} is out of range; allowed 1..16")
    if p == 1.0:
        return np.zeros(1 << bits, dtype=np.int64)
    u = (np.arange(1 << bits) + 0.5) / (1 << bits)
    return np.floor(np.log(u) / np.log1p(-p)).astype(np.int64)


def realised_p(table: np.ndarray) -> float:
    """The connection probability a skip table realises on a long row: one target per 1 + mean skip."""
    return 1.0 / (1.0 + float(np.mean(table)))


def row_targets(key: int, length: int, table: np.ndarray) -> list[int]:
    """One Bernoulli row by the definition, number by number: what a hardware generator must emit."""
    bits = (len(table) - 1).bit_length()
    found, position, k = [], -1, 0
    while True:
        u = int(draw(key, k))
        position += 1 + int(table[u >> (32 - bits)])
        if position >= length:
            return found
        found.append(position)
        k += 1


def bernoulli_rows(sources: int, targets: int, p: float, seed: int, projection: int,
                   bits: int = SKIP_BITS) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) of every connection, row by row in increasing target order."""
    if p == 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    table = skip_table(p, bits)
    keys = row_key(seed, projection, np.arange(sources))
    position = np.full(sources, -1, dtype=np.int64)
    active = np.arange(sources)
    found_src, found_dst = [], []
    k = 0
    while active.size:
        u = draw(keys[active], k)
        position[active] += 1 + table[(u >> np.uint64(32 - bits)).astype(np.int64)]
        inside = position[active] < targets
        found_src.append(active[inside])
        found_dst.append(position[active[inside]])
        active = active[inside]
        k += 1
    src, dst = np.concatenate(found_src), np.concatenate(found_dst)
    order = np.lexsort((dst, src))
    return src[order], dst[order]


def _reduced(u: np.ndarray, size: int) -> np.ndarray:
    """(u * size) >> 32: a 32-bit number onto 0 .. size - 1 (multiply-shift range reduction)."""
    return ((u * np.uint64(size)) >> np.uint64(32)).astype(np.int64)


def fixed_out_degree_rows(sources: int, targets: int, degree: int, seed: int,
                          projection: int) -> tuple[np.ndarray, np.ndarray]:
    keys = row_key(seed, projection, np.arange(sources))
    u = draw(keys[:, None], np.arange(degree)[None, :])
    return np.repeat(np.arange(sources), degree), _reduced(u, targets).ravel()


def fixed_in_degree_rows(sources: int, targets: int, degree: int, seed: int,
                         projection: int) -> tuple[np.ndarray, np.ndarray]:
    keys = row_key(seed, projection, np.arange(targets))
    u = draw(keys[:, None], np.arange(degree)[None, :])
    return _reduced(u, sources).ravel(), np.repeat(np.arange(targets), degree)


def connections(rule: str, sources: int, targets: int, seed: int, projection: int, weight: float, *,
                p: float | None = None, degree: int | None = None, bits: int = SKIP_BITS) -> sparse.csr_matrix:
    """The projection's connections as a sources x targets matrix of `weight` (multapses add up)."""
    if rule == "bernoulli":
        if p is None:
            raise LapicqueError("rule bernoulli needs a connection probability p")
        src, dst = bernoulli_rows(sources, targets, p, seed, projection, bits)
    elif rule in ("fixed_out_degree", "fixed_in_degree"):
        if degree is None or degree < 0:
            raise LapicqueError(f"rule {rule} needs a degree of at least 0; got {degree}")
        make = fixed_out_degree_rows if rule == "fixed_out_degree" else fixed_in_degree_rows
        src, dst = make(sources, targets, degree, seed, projection)
    else:
        raise LapicqueError(f"unknown connectivity rule {rule!r}; choose one of {', '.join(RULES)}")
    return sparse.csr_matrix((np.full(src.size, weight, dtype=np.float64), (src, dst)), shape=(sources, targets))
