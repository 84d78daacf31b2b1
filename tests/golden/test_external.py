"""External Poisson input (golden/external.py): the table against Poisson's distribution summed by hand, one
draw against plain integers, the counter's independence of how a population is sliced, and the counts'
statistics against Poisson's."""

import math

import numpy as np
import pytest
from scipy import stats

from lapicque.errors import SpecError
from lapicque.golden import external as ex

from .test_connectivity import lowbias32


def test_the_table_is_the_poisson_cdf_on_a_24_bit_grid():
    for mean in (0.3, 2.0, 7.5):
        table = ex.poisson_table(mean)
        cdf, term = [], math.exp(-mean)
        total = 0.0
        for k in range(len(table) + 1):
            total += term
            cdf.append(total)
            term *= mean / (k + 1)
        assert table.tolist() == [round(c * 2**24) for c in cdf[:len(table)]]
        assert round(cdf[len(table)] * 2**24) == 2**24  # the first entry left out is the grid's top
        assert ex.realised_mean(table) == pytest.approx(mean, rel=1e-6)


def test_one_draw_by_hand():
    external = ex.External(mean=2.0, weight=7, seed=12)
    base = lowbias32(12 ^ ex.EXTERNAL_TAG)
    assert external.base == base
    step, neurons, offset = 37, 500, 100
    counts = ex.external_counts(external, step, neurons, offset, 50)
    table = ex.poisson_table(2.0).tolist()
    for k in (0, 13, 49):
        u = lowbias32(base + step * neurons + offset + k) >> 8
        assert counts[k] == sum(u >= c for c in table)


def test_counts_depend_on_the_neuron_and_step_only():
    external = ex.External(mean=3.0, weight=1, seed=5)
    whole = ex.external_counts(external, 9, 300, 0, 300)
    assert np.array_equal(ex.external_counts(external, 9, 300, 120, 60), whole[120:180])
    assert not np.array_equal(ex.external_counts(external, 10, 300, 0, 300), whole)
    assert not np.array_equal(ex.external_counts(ex.External(3.0, 1, 6), 9, 300, 0, 300), whole)


@pytest.mark.parametrize("mean", [0.5, 2.0, 9.0])
def test_the_counts_are_poisson(mean):
    external = ex.External(mean=mean, weight=1, seed=1)
    counts = np.concatenate([ex.external_counts(external, t, 1000, 0, 1000) for t in range(200)])
    n = counts.size  # 200,000 draws: the sample mean's standard error is sqrt(mean / n)
    assert abs(counts.mean() - mean) < 5 * math.sqrt(mean / n)
    observed = np.bincount(counts, minlength=40)[:40]
    expected = stats.poisson.pmf(np.arange(40), mean) * n
    keep = expected > 20  # Pearson's test where every expected bin is large enough
    chi2 = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


@pytest.mark.parametrize(("mean", "message"), [
    (0.0, "external.mean = 0.0 must be a positive number"),
    (-1.0, "external.mean = -1.0 must be a positive number"),
    (float("nan"), "external.mean = nan must be a positive number"),
    (True, "external.mean = True must be a positive number"),
    (11.0, "needs a table of 33 entries; the hardware compares at most 32"),
])
def test_a_mean_the_table_cannot_hold_is_refused(mean, message):
    with pytest.raises(SpecError) as error:
        ex.poisson_table(mean)
    assert message in str(error.value) and "\n" not in str(error.value)
