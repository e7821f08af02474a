r"""Reading a few seeds honestly: two recipes run on the same seeds, compared seed by seed.

For :math:`n` seeds the paired differences :math:`d_s = a_s - b_s` (same initialisation, same data order, same
held-out set) cancel what the seeds share. Their mean has the Student-:math:`t` interval

.. math::  \bar d \pm t_{1 - \alpha/2,\ n-1}\ \frac{s_d}{\sqrt n}

An interval that excludes 0 is a difference beyond the seeds' noise; one that includes 0 shows nothing, whatever
the sign of :math:`\bar d`. Running :math:`k` comparisons, each at level :math:`\alpha / k` (Bonferroni) keeps the
chance of any false alarm below :math:`\alpha`. The experiment scripts and chapters 07, 08, 10 and 11 use these.
"""
from __future__ import annotations

import math
import statistics

import numpy as np

__all__ = ["t_quantile", "paired_difference"]


def _t_tail_mass(x: float, df: int) -> float:
    """P(0 < T < x) for Student's t with ``df`` degrees of freedom, by Simpson's rule on its density. The variable
    is u = sinh(v): even points in v crowd near 0, where the density is peaked, and still reach far tails."""
    v = np.linspace(0.0, math.asinh(x), 20_001)
    u = np.sinh(v)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    density = np.exp(log_norm - (df + 1) / 2 * np.log1p(u * u / df)) * np.cosh(v)  # du = cosh(v) dv
    h = v[1] - v[0]
    return float(h / 3 * (density[0] + density[-1] + 4 * density[1:-1:2].sum() + 2 * density[2:-1:2].sum()))


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``p`` in (0.5, 1)), e.g.
    ``t_quantile(0.975, 4)`` = 2.776, the bound of a two-sided 95% test on five seeds."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be an integer >= 1 (the number of seeds minus one), got {df!r}")
    if not 0.5 < p < 1:
        raise ValueError(f"p must be between 0.5 and 1 (e.g. 0.975 for a two-sided 95% bound), got {p!r}")
    low, high = 0.0, 1.0
    while _t_tail_mass(high, df) < p - 0.5:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_tail_mass(middle, df) < p - 0.5 else (low, middle)
    return (low + high) / 2


def paired_difference(a, b, confidence: float = 0.95) -> dict:
    """``a - b`` seed by seed (``a[i]`` and ``b[i]`` from the same seed): ``by_seed``, ``mean``, ``sd``, the
    two-sided ``interval`` of the mean at ``confidence`` and ``resolved`` (the interval excludes 0)."""
    a, b = [float(x) for x in a], [float(x) for x in b]
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"paired_difference needs two lists of the same length >= 2 (one value per seed), got "
                         f"{len(a)} and {len(b)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    d = [x - y for x, y in zip(a, b)]
    mean, sd = statistics.fmean(d), statistics.stdev(d)
    half = t_quantile(1 - (1 - confidence) / 2, len(d) - 1) * sd / math.sqrt(len(d))
    interval = (mean - half, mean + half)
    return {"by_seed": d, "mean": mean, "sd": sd, "interval": interval, "resolved": interval[0] > 0 or interval[1] < 0}
