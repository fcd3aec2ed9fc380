"""What a claim means on tensors: the comparisons it quantifies over, and its check on one input batch.

The claim names themselves (``translation-equivariant[stride=2]`` …) are
defined in :mod:`._vocabulary`, which every part of the project shares.  A
claim becomes a list of :class:`Check` — each a set of group elements acting
on inputs of one shape, an output action, and optionally one input per
element (zero-fill shifts) — and every verdict is a statement about those:

- ``translation`` (circular): every circular shift, or every shift in
  ``stride·Z^d``;
- ``translation[boundary=zero]``: every zero-fill shift that keeps some
  content inside, each acting on the input with the content it would push off
  the grid (or closer than ``border`` to an edge, before or after the shift)
  removed — content *anywhere* such a shift keeps it inside;
- ``rot90``: C4; ``flip``: the mirror flips (and rot180);
- ``scale``: upscaling by every factor 2, 3, 4, and by every divisor ``d ≥ 2``
  of the input size from an input ``d`` times smaller, so both the stated
  shape and smaller ones are covered;
- ``rotation``: rotations by :data:`ROTATION_ANGLES` (bilinear, approximate only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._actions import Dihedral, Rotation, Upscale, ZeroShift
from ._errors import InvalidArgument, require_spatial
from ._groups import FiniteGroup, Translations, c4, flips
from ._layer_calls import call_layer
from ._orbit import DEFAULT_MEMORY_BUDGET, describe_claim, evaluate
from ._output_actions import OutputAction, RegularC4, Same, Strided, Trivial
from ._vocabulary import CLAIM_NAMES, Claim

__all__ = ["CLAIM_NAMES", "Check", "Claim", "check_claim", "claim_checks", "validate_claim", "validate_output"]

#: continuous rotations a rotation claim tries (degrees, counter-clockwise): every 5° of the circle in both senses
#: (quarter turns are the rot90 claim's), 30° and 45° first.  A few fixed angles would let a layer be judged where
#: it happens to be good: one built on a 24-step angular grid (log-polar sampling, averaging over 24 turns) is
#: exact at multiples of 15°, and one that errs only on shallow or only on clockwise turns exists too
ROTATION_ANGLES = (30.0, 45.0) + tuple(sorted((float(a) for a in range(-175, 181, 5) if a % 90 and a not in (30, 45)),
                                              key=lambda a: (abs(a), a)))
#: the upscaling factors a scale claim always tries
UPSCALE_FACTORS = (2, 3, 4)


@dataclass(frozen=True)
class Check:
    """One family of comparisons: elements acting on inputs of ``sample_shape`` (C, *S), their output action,
    and, for zero-fill claims, ``masks`` (G, *S): where each element's input may hold content (the drawn batch
    is multiplied by its element's mask)."""

    name: str
    sample_shape: tuple
    group: FiniteGroup
    output_action: OutputAction
    masks: torch.Tensor | None = None

    @property
    def elements(self) -> tuple:
        return self.group.elements()


def _zero_fill_mask(shape, shift, border):
    """True where content may sit for a zero-fill shift by ``shift``: ≥ border from every edge, before and
    after the shift (so none of it is pushed off the grid)."""
    masks = []
    for n, t in zip(shape, shift):
        p = torch.arange(n)
        masks.append((p >= border) & (p < n - border) & (p + t >= border) & (p + t < n - border))
    mask = masks[0]
    for m in masks[1:]:
        mask = mask[..., None] & m
    return mask


def _zero_fill_check(claim, sample_shape, rho):
    spatial = tuple(sample_shape[1:])
    reach = [n - 1 - 2 * claim.border for n in spatial]  # ≥ 0: validate_claim checked the border
    ranges = [range(-r, r + 1) for r in reach]
    shifts = [tuple(t) for t in (torch.cartesian_prod(*[torch.tensor(list(r)) for r in ranges]).reshape(-1, len(spatial))
                                 .tolist())]
    shifts = [t for t in shifts if all(c % claim.stride == 0 for c in t)]
    shifts.sort(key=lambda t: (sum(abs(c) for c in t), t))  # the identity, then the smallest shifts first
    masks = {t: _zero_fill_mask(spatial, t, claim.border) for t in shifts}
    shifts = [t for t in shifts if bool(masks[t].any())]
    group = FiniteGroup(f"zero-fill shifts{'' if claim.border == 0 else f' (border {claim.border})'}",
                        [ZeroShift(t) for t in shifts])
    return Check("zero-fill shifts", tuple(sample_shape), group, rho, torch.stack([masks[t] for t in shifts]))


def claim_checks(claim: Claim, sample_shape: tuple, output_shape: tuple | None = None) -> list[Check]:
    """The comparisons ``claim`` stands for, on inputs of per-sample shape ``sample_shape`` (C, *S).

    Raises :class:`InvalidArgument` when the claim cannot act on that shape (rot90 on a non-square image, a
    stride that does not divide the size).  ``output_shape`` (per sample, without the batch axis) picks the
    output action of strided claims; without it the output is assumed to be the input's size divided by the
    stride.

    >>> [c.name for c in claim_checks(Claim.parse("scale-invariant"), (1, 4, 4))]
    ['upscale by 2', 'upscale by 3', 'upscale by 4', 'upscale by 2 from 2×2', 'upscale by 4 from 1×1']
    """
    claim = Claim.parse(claim)
    sample_shape = tuple(sample_shape)
    spatial = sample_shape[1:]
    validate_claim(claim, sample_shape)
    rho = _output_action(claim, sample_shape, output_shape)
    if claim.symmetry == "translation":
        if claim.boundary == "zero":
            return [_zero_fill_check(claim, sample_shape, rho)]
        return [Check("circular shifts", sample_shape, Translations(spatial, stride=claim.stride), rho)]
    if claim.symmetry == "rot90":
        return [Check("rotations by 90°", sample_shape, c4(), rho)]
    if claim.symmetry == "flip":
        group = FiniteGroup("flips", [Dihedral(0), Dihedral(0, True)]) if len(spatial) == 1 else flips()
        return [Check("flips", sample_shape, group, rho)]
    if claim.symmetry == "scale":
        checks = [Check(f"upscale by {s}", sample_shape, FiniteGroup(f"upscale×{s}", [Upscale(s)]), rho)
                  for s in UPSCALE_FACTORS]
        common = math.gcd(*spatial)
        for d in range(2, common + 1):
            if common % d == 0:
                small = (sample_shape[0],) + tuple(n // d for n in spatial)
                checks.append(Check(f"upscale by {d} from {'×'.join(map(str, small[1:]))}", small,
                                    FiniteGroup(f"upscale×{d}", [Upscale(d)]), rho))
        return checks
    return [Check("rotations", sample_shape, FiniteGroup("rotations", [Rotation(a) for a in ROTATION_ANGLES]), rho)]


def validate_claim(claim: Claim, sample_shape: tuple) -> None:
    """Raise :class:`InvalidArgument` (naming ``input_shape``) when ``claim`` cannot act on inputs of that shape."""
    spatial = tuple(sample_shape[1:])
    shown = f"input_shape={tuple(sample_shape)}"
    if claim.symmetry in ("rot90", "rotation"):
        if len(spatial) != 2:
            raise InvalidArgument(f"{shown}: {claim} rotates images; it needs an input shape (C, H, W)")
        if spatial[0] != spatial[1]:
            raise InvalidArgument(f"{shown}: {claim} needs a square input (H == W), because a quarter turn "
                                  f"changes the shape of a {spatial[0]}×{spatial[1]} image")
    if claim.symmetry == "translation" and claim.stride > 1:
        bad = [n for n in spatial if n % claim.stride]
        if bad:
            raise InvalidArgument(f"{shown}: {claim} needs every spatial size divisible by stride={claim.stride}, "
                                  f"so that shifts in {claim.stride}Z^{len(spatial)} form a group of circular shifts")
        if all(n == claim.stride for n in spatial):
            raise InvalidArgument(f"{shown}: {claim} quantifies over the shifts in {claim.stride}Z^{len(spatial)}, "
                                  f"and on this size that is the identity alone; use a smaller stride")
    if claim.border and any(n - 1 - 2 * claim.border < 0 for n in spatial):
        raise InvalidArgument(
            f"claim={str(claim)!r}: border={claim.border} leaves no room for content in an input of spatial "
            f"shape {spatial}; give a border smaller than half the input size")


def validate_output(claim: Claim, sample_shape: tuple, output_shape: tuple) -> None:
    """Raise :class:`InvalidArgument` when ``claim`` cannot compare outputs of per-sample shape ``output_shape``
    (equivariance of a flat output, a margin that leaves no interior).  The audit and the static certifier
    both ask, so a claim one refuses is never certified by the other."""
    spatial_out = len(output_shape) >= 2
    if claim.relation == "equivariant" and not spatial_out:
        raise InvalidArgument(
            f"claim={str(claim)!r}: the layer's output has shape {output_shape} per sample, a flat vector "
            f"on which {claim.symmetry} cannot act; did you mean {claim.symmetry}-invariant?")
    if claim.relation == "equivariant" and len(output_shape) != len(sample_shape):
        raise InvalidArgument(
            f"claim={str(claim)!r}: the layer's output has shape {output_shape} per sample, the input "
            f"{sample_shape}: equivariance compares them axis by axis as (C, *spatial), so both need a "
            f"channel axis and the same number of spatial axes; if the output drops the channel axis, wrap the "
            f"layer so that it returns y.unsqueeze(1)")
    if claim.margin:
        if not spatial_out or len(output_shape) != len(sample_shape):
            raise InvalidArgument(
                f"claim={str(claim)!r}: margin={claim.margin} needs a spatial output, but the output has shape "
                f"{output_shape} per sample, which has no border; drop the margin")
        if any(2 * claim.margin >= n for n in output_shape[1:]):
            raise InvalidArgument(
                f"claim={str(claim)!r}: margin={claim.margin} leaves no interior on an output of spatial shape "
                f"{output_shape[1:]}; use a margin smaller than half the output size")


def _output_action(claim, sample_shape, output_shape):
    if claim.relation == "invariant":
        return Trivial()
    if claim.channels == "regular":
        return RegularC4()
    if claim.stride > 1:
        if output_shape is None or (len(output_shape) == len(sample_shape) and all(
                i == o * claim.stride for i, o in zip(sample_shape[1:], output_shape[1:]))):
            return Strided(claim.stride)
    return Same()


def check_claim(f, x, claim, *, mode="auto", memory_budget=DEFAULT_MEMORY_BUDGET, progress=None):
    """Check one claim on one input batch; return the :class:`~convnet_invariances.OrbitResult` of its first check.

    For claims made of several checks (scale claims: one per factor) use :func:`claim_checks`.

    >>> import torch
    >>> result = check_claim(torch.nn.AvgPool2d(2), torch.randint(0, 9, (1, 1, 4, 4)).float(),
    ...                      "translation-equivariant[stride=2]")
    >>> len(result.elements), result.holds
    (4, True)
    """
    claim = Claim.parse(claim)
    require_spatial(x, "x")
    with torch.no_grad():
        output_shape = tuple(call_layer(f, x[:1], "f(x)").shape[1:])
    check = claim_checks(claim, tuple(x.shape[1:]), output_shape)[0]
    return run_check(f, x, check, claim, mode=mode, memory_budget=memory_budget, progress=progress)


def run_check(f, x, check: Check, claim: Claim, *, mode="auto", memory_budget=DEFAULT_MEMORY_BUDGET, progress=None,
              elements: tuple | None = None, label="the layer"):
    """Evaluate one check on ``x`` (optionally a subset ``elements`` of its group)."""
    chosen = check.elements if elements is None else tuple(elements)
    sources = None
    if check.masks is not None:
        position = {g: i for i, g in enumerate(check.elements)}
        masks = check.masks[[position[g] for g in chosen]].to(device=x.device)

        def sources(indices):
            # each element's input: x with the content its shift would push off the grid removed
            return x.unsqueeze(0) * masks[indices].unsqueeze(1).unsqueeze(1).to(x.dtype)
    return evaluate(f, x, chosen, output_action=check.output_action,
                    claim=f"{claim}: {describe_claim(check.output_action)}", group=check.group if elements is None
                    else None, margin=claim.margin or None, mode=mode, memory_budget=memory_budget, progress=progress,
                    sources=sources, label=label)
