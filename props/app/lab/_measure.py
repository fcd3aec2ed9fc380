"""Every number the lab reports about invariance comes from the suite's own checks, called here.

The functions are looked up on their library modules at call time (``_checks.orbit_error``, not a copy
bound at import), so a test can spy on them and see that the lab's numbers are theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ... import _audit, _checks, _claims, _lie, _worst_case
from ..._actions import Action
from ..._groups import FiniteGroup
from ..._output_actions import Same, Trivial


def _peak(model, x) -> float:
    with torch.inference_mode():
        return float(model(x).abs().max())


def orbit_error(model, x: torch.Tensor, group: FiniteGroup, *, equivariant: bool = False) -> float:
    """``max_g max |f(g·x) − ρ(g)·f(x)|`` over the orbit and the batch, relative to ``max |f(x)|``
    (:func:`convnet_invariances.orbit_error`; ρ trivial for invariance, ρ = g for equivariance)."""
    result = _checks.orbit_error(model, x, group, output_action=Same() if equivariant else Trivial())
    peak = _peak(model, x)
    return float(result.errors.max()) / peak if peak > 0 else float(result.errors.max())


def invariance_error(model, x: torch.Tensor, g: Action) -> float:
    """``max |f(g·x) − f(x)|`` relative to ``max |f(x)|`` (:func:`convnet_invariances.invariance_error`)."""
    measurement = _checks.invariance_error(model, x, g)
    peak = _peak(model, x)
    return measurement.max_error / peak if peak > 0 else measurement.max_error


def lie_derivative(model, x: torch.Tensor, generator: _lie.Generator, *, equivariant: bool = False) -> float:
    """Mean over samples of the relative Lie derivative (:func:`convnet_invariances.lie_derivative`)."""
    values = _lie.lie_derivative(model, x, generator, output_action="equivariant" if equivariant else "invariant")
    return float(values.mean())


#: transformed inputs per forward pass of a worst case: small chunks keep the activations of a 256-shift orbit of
#: 64 images (16,384 forward passes) within tens of megabytes instead of gigabytes, and in the CPU's caches
WORST_CASE_BUDGET = 2 * 2**20


def worst_case(model, x: torch.Tensor, y: torch.Tensor, group: FiniteGroup):
    """:func:`convnet_invariances.worst_case_accuracy` over ``group``."""
    return _worst_case.worst_case_accuracy(model, x, y, group, memory_budget=WORST_CASE_BUDGET)


def mean_accuracy(result, elements: Sequence[int]) -> float:
    """Mean accuracy of a worst-case result over the elements at positions ``elements``."""
    per_element = result.accuracy_per_element
    return float(per_element[list(elements)].mean())


def consistency(model, x: torch.Tensor, *, pairs: int = 4, seed: int = 0) -> float:
    """Zhang's consistency over random pairs of circular shifts (:func:`convnet_invariances.consistency`)."""
    return float(_audit.consistency(model, x, pairs=pairs, seed=seed)["consistency"])


def claim(model, x: torch.Tensor, claim: str) -> tuple[float, float]:
    """``(holds, relative error)`` of the suite's check of ``claim`` on ``x`` (:func:`convnet_invariances.check_claim`,
    float tolerance with the float64 arbiter): holds is 1.0 when no element violates the claim, else 0.0; the error
    is the largest over the orbit and the batch, relative to ``max |f(x)|``."""
    result = _claims.check_claim(model, x, claim)
    peak = _peak(model, x)
    error = float(result.errors.max())
    return (1.0 if result.holds else 0.0), (error / peak if peak > 0 else error)
