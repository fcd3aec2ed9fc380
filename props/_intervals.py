"""Confidence intervals for metrics that average over samples: Wilson for shares, bootstrap for the rest.

No SciPy: the normal quantile is ``torch.special.ndtri``; the bootstrap is seeded, so an interval is
reproducible for a seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._errors import InvalidArgument

__all__ = ["bootstrap_interval", "wilson_interval"]

#: resamples of the percentile bootstrap: the interval's ends move by well under 1% of its width beyond this
BOOTSTRAP_RESAMPLES = 2000


def _check_confidence(confidence):
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise InvalidArgument(f"confidence={confidence!r} must be a float strictly between 0 and 1 (e.g. 0.95)")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a share ``successes / trials`` (good at 0 and 1, unlike the normal one).

    >>> lo, hi = wilson_interval(0, 20)
    >>> lo, round(hi, 3)
    (0.0, 0.161)
    """
    _check_confidence(confidence)
    if not (isinstance(trials, int) and trials >= 1 and isinstance(successes, int) and 0 <= successes <= trials):
        raise InvalidArgument(f"successes={successes!r}, trials={trials!r}: need integers with 0 ≤ successes ≤ "
                              f"trials and trials ≥ 1")
    z = float(torch.special.ndtri(torch.tensor(0.5 + confidence / 2, dtype=torch.float64)))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    # at 0 and at ``trials`` successes the end is exactly 0 (1); computed, it would carry a rounding residue
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return lo, hi


def bootstrap_interval(values: torch.Tensor, statistic: Callable[[torch.Tensor], torch.Tensor] | None = None,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of ``statistic`` (default: the mean) over the first axis of ``values``.

    ``statistic`` maps a (B, n) batch of resamples to B values.  A single sample gives a zero-width interval
    (nothing to resample) — report the number of samples with it.

    >>> lo, hi = bootstrap_interval(torch.arange(100.0))
    >>> 43 < lo < 49.5 < hi < 56
    True
    """
    _check_confidence(confidence)
    values = torch.as_tensor(values, dtype=torch.float64).flatten()
    if values.numel() == 0:
        raise InvalidArgument("values is empty: an interval needs at least one sample")
    statistic = statistic or (lambda batch: batch.mean(dim=1))
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, values.numel(), (BOOTSTRAP_RESAMPLES, values.numel()), generator=generator)
    stats = statistic(values[picks])
    tail = (1 - confidence) / 2
    lo, hi = torch.quantile(stats, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return lo, hi
