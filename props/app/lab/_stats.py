"""Means over seeds with 95% confidence intervals, and comparisons worded from them.

The interval is Student's t-interval over the per-seed values: mean ± t(0.975,
n−1) · s / √n, with s the sample standard deviation.  It treats the seeds
(initialisation, data order, augmentation draws) as independent repetitions;
the split of the data is the same for every seed, so the interval says
nothing about another split.  With one seed there is no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: t(0.975, df) for df = 1..30; beyond, 1.96 + 2.4/df is within 0.005 of it
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)

INTERVAL_METHOD = ("mean over seeds ± Student's t-interval (95%, n−1 degrees of freedom, sample standard "
                   "deviation); seeds vary initialisation, mini-batch order and augmentation draws, the data split "
                   "is fixed")


def t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom.

    >>> t_quantile(2), round(t_quantile(100), 3)
    (4.303, 1.984)
    """
    if df < 1:
        raise ValueError(f"df={df} must be at least 1")
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.4 / df


def summary(values: Sequence[float]) -> dict:
    """``{"mean", "ci95", "values", "n"}``: ``ci95`` is ``[low, high]``, or None for a single value.

    >>> summary([1.0, 2.0, 3.0])["ci95"]
    [-0.4843, 4.484]
    """
    values = [float(v) for v in values]
    n = len(values)
    if not n:
        raise ValueError("no values to summarise")
    mean = sum(values) / n
    interval = None
    if n > 1:
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        half = t_quantile(n - 1) * sd / math.sqrt(n)
        interval = [_round(mean - half), _round(mean + half)]
    return {"mean": _round(mean), "ci95": interval, "values": [_round(v) for v in values], "n": n}


def _round(value: float) -> float:
    """Four significant digits: the seeds do not support more, and the JSON stays readable."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.4g}")


def fmt(stat: dict, percent: bool = False) -> str:
    """``0.912 [0.90, 0.93]``, or the mean alone for one seed.

    >>> fmt(summary([0.9, 0.92, 0.94]), percent=True), fmt(summary([0.96, 0.99, 1.0]), percent=True)
    ('92.0% [87.0, 97.0]', '98.3% [93.2, 100.0]')
    """
    def one(v):
        if percent:
            return f"{100 * v:.1f}"
        return f"{v:.3g}"
    text = one(stat["mean"]) + ("%" if percent else "")
    if stat["ci95"] is not None:
        low, high = stat["ci95"]
        if percent:  # a share lies in [0, 1]: the t-interval is shown clipped to it (results.json keeps it whole)
            low, high = max(low, 0.0), min(high, 1.0)
        text += f" [{one(low)}, {one(high)}]"
    return text


def differ(a: dict, b: dict) -> bool:
    """Whether two summaries' intervals are disjoint (with one seed: whether the means differ at all).

    A conservative reading: disjoint 95% intervals imply a difference; overlapping ones do not rule one out.
    """
    if a["ci95"] is None or b["ci95"] is None:
        return a["mean"] != b["mean"]
    return a["ci95"][1] < b["ci95"][0] or b["ci95"][1] < a["ci95"][0]


def ratio(a: dict, b: dict) -> float:
    """``a`` over ``b`` by their means (inf when b is 0 and a is not, 1 when both are)."""
    if b["mean"] == 0:
        return 1.0 if a["mean"] == 0 else math.inf
    return a["mean"] / b["mean"]


def change(before: dict, after: dict, *, percent: bool = False, lower_is: str = "lower") -> str:
    """How ``after`` compares with ``before``, in words the numbers support.

    >>> change(summary([1.0, 1.1, 0.9]), summary([0.1, 0.12, 0.08]))
    'fell from 1 [0.752, 1.25] to 0.1 [0.0503, 0.15] (×0.1, intervals disjoint)'
    """
    numbers = f"from {fmt(before, percent)} to {fmt(after, percent)}"
    if not differ(before, after):
        reason = "one seed" if before["ci95"] is None else "intervals overlap"
        return f"did not change measurably ({numbers}; {reason})"
    verb = "fell" if after["mean"] < before["mean"] else "rose"
    factor = ratio(after, before)
    scale = "" if percent else f"×{factor:.2g}, "
    note = "one seed: no interval" if before["ci95"] is None else "intervals disjoint"
    return f"{verb} {numbers} ({scale}{note})"
