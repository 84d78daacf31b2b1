"""Procedural connectivity (golden/connectivity.py): the hash against a plain-integer reference, the rows
deterministic and independent, and the rules' statistics against their distributions."""

import numpy as np
import pytest
from scipy import stats

from lapicque.errors import LapicqueError
from lapicque.golden import connectivity as cn
from lapicque.golden.network import cuba, run


def lowbias32(x: int) -> int:
    """The reference: Python integers, masked by hand at every step."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_the_hash_is_lowbias32_on_every_32_bit_value_class():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(0, 2**32, 5000, dtype=np.uint64),
                             np.array([0, 1, 2**31, 2**32 - 1, 0x9E3779B9], dtype=np.uint64)])
    assert cn.hash32(values).tolist() == [lowbias32(int(v)) for v in values]
    assert cn.hash32(0).item() == 0 and cn.hash32(1).item() != 1  # zero is its fixed point, as lowbias32's
    key = cn.row_key(7, 2, 11).item()
    assert key == lowbias32(lowbias32((7 + 0x9E3779B9 * 3) & 0xFFFFFFFF) ^ 11)
    assert cn.draw(key, 5).item() == lowbias32(key + 5)


def test_rows_are_deterministic_and_each_projection_and_seed_its_own():
    a = cn.bernoulli_rows(300, 500, 0.05, seed=3, projection=0)
    assert all(np.array_equal(x, y) for x, y in zip(a, cn.bernoulli_rows(300, 500, 0.05, 3, 0), strict=True))
    for other in (cn.bernoulli_rows(300, 500, 0.05, 4, 0), cn.bernoulli_rows(300, 500, 0.05, 3, 1)):
        dense_a = np.zeros((300, 500), bool)
        dense_b = np.zeros((300, 500), bool)
        dense_a[a] = True
        dense_b[other] = True
        overlap = (dense_a & dense_b).sum()
        # independent rows share about p^2 of the pairs
        assert abs(overlap - 300 * 500 * 0.05**2) < 5 * np.sqrt(300 * 500 * 0.05**2)


def test_bernoulli_rows_realise_the_skip_tables_probability():
    p, s, t = 0.02, 2000, 4000
    src, dst = cn.bernoulli_rows(s, t, p, seed=1, projection=0)
    q = cn.realised_p(cn.skip_table(p))
    assert abs(q - p) / p < 1e-3  # the 10-bit table's quantisation of p
    n = s * t
    assert abs(src.size - n * q) < 4 * np.sqrt(n * q * (1 - q))
    assert np.all(np.diff(dst)[np.diff(src) == 0] > 0) and dst.min() >= 0 and dst.max() < t  # no multapses
    # targets uniform: the in-degrees are binomial(s, q)
    indegree = np.bincount(dst, minlength=t)
    assert abs(indegree.var() / (s * q * (1 - q)) - 1) < 0.15
    # the skips between a row's targets follow the table: chi-square over its distinct values
    gaps = np.diff(dst)[np.diff(src) == 0] - 1
    table = cn.skip_table(p)
    values, counts = np.unique(table, return_counts=True)
    expected_share = counts / table.size
    bins = np.searchsorted(values, gaps)
    inside = (bins < values.size) & (values[np.minimum(bins, values.size - 1)] == gaps)
    assert inside.mean() > 0.999  # gaps beyond the row end aside, every gap is a table value
    observed = np.bincount(bins[inside], minlength=values.size)
    expected = expected_share * observed.sum()
    keep = expected >= 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


def test_certain_and_impossible_connections():
    src, dst = cn.bernoulli_rows(5, 7, 1.0, seed=0, projection=0)
    assert src.tolist() == np.repeat(np.arange(5), 7).tolist() and dst.tolist() == list(range(7)) * 5
    assert cn.bernoulli_rows(5, 7, 0.0, seed=0, projection=0)[0].size == 0
    with pytest.raises(LapicqueError, match="p = 1.5 is out of range"):
        cn.skip_table(1.5)


@pytest.mark.parametrize("rule", ["fixed_out_degree", "fixed_in_degree"])
def test_fixed_degrees_are_exact_and_uniform(rule):
    m = cn.connections(rule, 400, 300, seed=2, projection=5, weight=0.5, degree=50)
    per = np.asarray(m.sum(axis=1 if rule == "fixed_out_degree" else 0)).ravel() / 0.5
    assert np.all(per == 50)
    other = np.asarray(m.sum(axis=0 if rule == "fixed_out_degree" else 1)).ravel() / 0.5
    size = 300 if rule == "fixed_out_degree" else 400
    chi2 = ((other - other.mean()) ** 2 / other.mean()).sum()
    assert stats.chi2.sf(chi2, size - 1) > 1e-4


def test_unknown_rule_is_named():
    with pytest.raises(LapicqueError, match="unknown connectivity rule 'ring'"):
        cn.connections("ring", 3, 3, 0, 0, 1.0)


def test_cuba_on_procedural_rows_behaves_as_on_random_ones():
    """The same network statistics from the counter-based rows as from numpy's generator: the synapse count
    within the binomial's spread, the mean rate and CV within a few percent (different draws of the same
    random graph)."""
    procedural = cuba(2000, seed=4, connectivity="procedural")
    random = cuba(2000, seed=4)
    n = 2000 * 2000
    assert abs(procedural.synapses - random.synapses) < 6 * np.sqrt(n * 0.02)
    assert procedural.notes["realised_p"] == pytest.approx(0.02, rel=1e-3)
    a, b = run(procedural, 400.0, 0.1), run(random, 400.0, 0.1)
    assert a.rates_hz().mean() == pytest.approx(b.rates_hz().mean(), rel=0.1)
    assert np.mean(a.cvs()) == pytest.approx(np.mean(b.cvs()), rel=0.1)
