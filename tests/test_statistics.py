"""minibert.training.statistics: Student's t quantiles (closed forms where they exist, the printed table elsewhere)
and the paired seed-by-seed interval the experiments are read with."""
import math
import statistics

import numpy as np
import pytest

from minibert.training.statistics import paired_difference, t_quantile

TABLE_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
             20: 2.086, 30: 2.042}


@pytest.mark.parametrize("df, value", TABLE_975.items())
def test_the_printed_table(df, value):
    assert round(t_quantile(0.975, df), 3) == value


@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 1 - 0.05 / 16, 0.9999])
def test_closed_forms_for_one_and_two_degrees_of_freedom(p):
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-7)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-7)
    # four degrees of freedom have one too (through a cosine)
    alpha = 4 * p * (1 - p)
    q = math.cos(math.acos(math.sqrt(alpha)) / 3) / math.sqrt(alpha)
    assert t_quantile(p, 4) == pytest.approx(2 * math.sqrt(q - 1), rel=1e-7)


def test_many_degrees_of_freedom_approach_the_normal():
    assert t_quantile(0.975, 1000) == pytest.approx(1.962, abs=1e-3)


@pytest.mark.parametrize("p, df, message", [(0.5, 4, "p must be"), (1.0, 4, "p must be"), (0.3, 4, "p must be"),
                                            (0.975, 0, "df must be"), (0.975, 2.0, "df must be"),
                                            (0.975, True, "df must be")])
def test_bad_quantile_arguments(p, df, message):
    with pytest.raises(ValueError, match=message):
        t_quantile(p, df)


def test_paired_difference_by_hand():
    a, b = [0.82, 0.85, 0.80, 0.84, 0.83], [0.80, 0.81, 0.80, 0.82, 0.80]
    result = paired_difference(a, b)
    d = np.subtract(a, b)
    half = 2.7764451 * d.std(ddof=1) / math.sqrt(5)
    assert result["by_seed"] == pytest.approx(d.tolist())
    assert result["mean"] == pytest.approx(d.mean()) and result["sd"] == pytest.approx(statistics.stdev(d))
    assert result["interval"] == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-6)
    assert result["resolved"] is True  # the interval [0.0067, 0.0373] excludes 0
    # what the seeds share cancels: adding a per-seed offset to both changes nothing
    offset = [0.1, -0.2, 0.3, 0.0, 0.05]
    shifted = paired_difference(np.add(a, offset), np.add(b, offset))
    assert shifted["interval"] == pytest.approx(result["interval"])
    # a difference that changes sign across seeds is not resolved, and 99% is wider than 95%
    mixed = paired_difference([1.0, 2.0, 3.0], [1.5, 1.0, 3.1])
    assert mixed["resolved"] is False
    wide = paired_difference(a, b, confidence=0.99)
    assert wide["interval"][0] < result["interval"][0] and wide["interval"][1] > result["interval"][1]


@pytest.mark.parametrize("a, b, confidence, message", [([1.0], [0.0], 0.95, "same length >= 2"),
                                                       ([1.0, 2.0], [0.0], 0.95, "same length >= 2"),
                                                       ([1.0, 2.0], [0.0, 1.0], 1.5, "confidence must be")])
def test_bad_paired_arguments(a, b, confidence, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(a, b, confidence)
