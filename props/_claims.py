"""What a claim means on tensors: the group elements it quantifies over, its output action, and its check.

The claim names themselves (``translation-equivariant[stride=2]`` …) are
defined in :mod:`._vocabulary`, which every part of the project shares.
"""

from __future__ import annotations

import torch

from ._actions import Dihedral, Rotation, Upscale, ZeroShift
from ._errors import InvalidArgument, require_spatial
from ._groups import FiniteGroup, Translations, c4, flips
from ._layer_calls import call_layer
from ._orbit import DEFAULT_MEMORY_BUDGET, describe_claim, evaluate
from ._output_actions import OutputAction, RegularC4, Same, Strided, Trivial
from ._vocabulary import CLAIM_NAMES, Claim

__all__ = ["CLAIM_NAMES", "Claim", "check_claim", "claim_group", "claim_output_action", "zero_border"]

#: how far zero-fill claims shift, and the angles continuous rotation claims try
ZERO_FILL_SHIFT = 2
ROTATION_ANGLES = (30.0, 45.0)
SCALE_FACTORS = (2,)


def zero_border(x, border):
    """A copy of x with ``border`` pixels zeroed along every spatial edge: inputs for zero-fill claims, whose
    shifts must move content without pushing any of it off the grid."""
    inside = torch.zeros_like(x)
    index = (...,) + tuple(slice(border, n - border) for n in x.shape[2:])
    inside[index] = x[index]
    return inside


def claim_group(claim: Claim, input_shape: tuple[int, ...]) -> FiniteGroup:
    """The group elements ``claim`` quantifies over, for inputs of ``input_shape`` (N, C, *S).

    >>> claim_group(Claim.parse("translation-equivariant[stride=2]"), (1, 1, 4, 4)).elements()
    (shift(0, 0), shift(0, 2), shift(2, 0), shift(2, 2))
    """
    spatial = tuple(input_shape[2:])
    if claim.symmetry == "translation":
        if claim.boundary == "zero":
            steps = range(-ZERO_FILL_SHIFT, ZERO_FILL_SHIFT + 1)
            grid = [(t,) for t in steps] if len(spatial) == 1 else [(a, b) for a in steps for b in steps]
            return FiniteGroup("zero-fill shifts", [ZeroShift(t) for t in grid if all(c % claim.stride == 0 for c in t)])
        bad = [n for n in spatial if n % claim.stride]
        if bad:
            raise InvalidArgument(
                f"input_shape={tuple(input_shape)}: {claim} needs spatial sizes divisible by {claim.stride}"
            )
        return Translations(spatial, stride=claim.stride)
    if claim.symmetry == "rot90":
        return c4()
    if claim.symmetry == "flip":
        if len(spatial) == 1:
            return FiniteGroup("flips", [Dihedral(0), Dihedral(0, True)])
        return flips()
    if claim.symmetry == "scale":
        return FiniteGroup("upscalings", [Upscale(s) for s in SCALE_FACTORS])
    return FiniteGroup("rotations", [Rotation(a) for a in ROTATION_ANGLES])


def claim_output_action(claim: Claim, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> OutputAction:
    """ρ for ``claim``, given the shapes the layer maps between.

    >>> claim_output_action(Claim.parse("rot90-invariant"), (1, 3, 5, 5), (1, 3))
    trivial_action()
    """
    if claim.relation == "invariant":
        return Trivial()
    if claim.channels == "regular":
        return RegularC4()
    if claim.stride > 1 and len(output_shape) == len(input_shape) and all(
        i == o * claim.stride for i, o in zip(input_shape[2:], output_shape[2:])
    ):
        return Strided(claim.stride)
    return Same()


def check_claim(f, x, claim, *, mode="auto", memory_budget=DEFAULT_MEMORY_BUDGET, progress=None):
    """Check one claim on one input batch; return the :class:`~convnet_invariances.OrbitResult` over the claim's elements.

    >>> import torch
    >>> result = check_claim(torch.nn.AvgPool2d(2), torch.randint(0, 9, (1, 1, 4, 4)).float(),
    ...                      "translation-equivariant[stride=2]")
    >>> len(result.elements), result.holds
    (4, True)
    """
    claim = Claim.parse(claim)
    group = claim_group(claim, tuple(x.shape))
    require_spatial(x, "x")
    group.validate(tuple(x.shape), "x")
    with torch.no_grad():
        output_shape = tuple(call_layer(f, x[:1], "f(x)").shape)
    rho = claim_output_action(claim, tuple(x.shape), output_shape)
    return evaluate(
        f, x, group.elements(), output_action=rho, claim=f"{claim}: {describe_claim(rho)}", group=group,
        margin=claim.margin or None, mode=mode, memory_budget=memory_budget, progress=progress,
    )
