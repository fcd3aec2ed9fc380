"""Claims by name — ``translation-equivariant[stride=2]`` — and the check each name stands for.

A claim is a symmetry (translation, rot90, flip, scale, rotation), a relation
(equivariant or invariant) and qualifiers in brackets:

- ``boundary=circular|zero``: circular shifts (the default), or zero-fill
  shifts of content on an empty background;
- ``stride=s``: only shifts in ``s·Z^d``, the output moving by ``t/s`` when
  it is ``s`` times smaller;
- ``margin=m``: compare only at distance ≥ m from the output border;
- ``channels=regular``: output channels permute as the regular
  representation of C4 (P4 group convolutions).

The same names are used by the API, the CLI, the JSON reports and the
``models`` registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._actions import Dihedral, Rotation, Upscale, ZeroShift
from ._errors import InvalidArgument, require_spatial
from ._groups import FiniteGroup, Translations, c4, flips
import torch

from ._orbit import DEFAULT_MEMORY_BUDGET, call_layer, describe_claim, evaluate
from ._output_actions import OutputAction, RegularC4, Same, Strided, Trivial

SYMMETRY_NAMES = ("translation", "rot90", "flip", "scale", "rotation")
CLAIM_NAMES = tuple(f"{s}-{r}" for s in SYMMETRY_NAMES for r in ("equivariant", "invariant"))
QUALIFIERS = {"boundary": ("circular", "zero"), "stride": "positive int", "margin": "non-negative int",
              "channels": ("regular",)}
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


_PATTERN = re.compile(r"^\s*([a-z0-9]+)-(equivariant|invariant)\s*(?:\[(.*)\])?\s*$")


@dataclass(frozen=True)
class Claim:
    """A parsed claim.  ``str(claim)`` gives back its canonical name.

    >>> Claim.parse("translation-equivariant[stride=2]")
    Claim('translation-equivariant[stride=2]')
    >>> Claim.parse("rot90-invariant").output_action((1, 3, 5, 5), (1, 3))
    trivial_action()
    """

    symmetry: str
    relation: str
    boundary: str = "circular"
    stride: int = 1
    margin: int = 0
    channels: str = ""

    @classmethod
    def parse(cls, text):
        if isinstance(text, Claim):
            return text
        if not isinstance(text, str):
            raise InvalidArgument(f"claim={text!r} must be a string such as 'translation-equivariant[stride=2]'")
        match = _PATTERN.match(text)
        if not match or f"{match.group(1)}-{match.group(2)}" not in CLAIM_NAMES:
            raise InvalidArgument(
                f"claim={text!r} is not a known claim; valid claims are {', '.join(CLAIM_NAMES)}, "
                f"optionally with qualifiers in brackets: boundary=circular|zero, stride=S, margin=M, "
                f"channels=regular (e.g. 'translation-equivariant[stride=2]')"
            )
        symmetry, relation, qualifiers = match.groups()
        options = {}
        for item in filter(None, (q.strip() for q in (qualifiers or "").split(","))):
            key, _, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if key not in QUALIFIERS:
                raise InvalidArgument(f"claim={text!r}: unknown qualifier {key!r}; valid qualifiers are {', '.join(QUALIFIERS)}")
            if key in ("stride", "margin"):
                if not value.isdigit() or (key == "stride" and int(value) < 1):
                    raise InvalidArgument(f"claim={text!r}: {key}={value!r} must be a {QUALIFIERS[key]}")
                options[key] = int(value)
            else:
                if value not in QUALIFIERS[key]:
                    raise InvalidArgument(f"claim={text!r}: {key}={value!r} must be one of {QUALIFIERS[key]}")
                options[key] = value
        claim = cls(symmetry, relation, **options)
        if claim.channels and symmetry != "rot90":
            raise InvalidArgument(f"claim={text!r}: channels=regular applies to rot90 claims only")
        if (claim.stride > 1 or claim.boundary != "circular") and symmetry != "translation":
            raise InvalidArgument(f"claim={text!r}: stride and boundary qualify translation claims only")
        return claim

    def __str__(self):
        qualifiers = []
        if self.boundary != "circular":
            qualifiers.append(f"boundary={self.boundary}")
        if self.stride > 1:
            qualifiers.append(f"stride={self.stride}")
        if self.margin:
            qualifiers.append(f"margin={self.margin}")
        if self.channels:
            qualifiers.append(f"channels={self.channels}")
        name = f"{self.symmetry}-{self.relation}"
        return name + (f"[{','.join(qualifiers)}]" if qualifiers else "")

    def __repr__(self):
        return f"Claim({str(self)!r})"

    # --- what the claim means for a given input ------------------------------------------------

    def elements(self, input_shape):
        """The group elements the claim quantifies over, for inputs of ``input_shape`` (N, C, *S)."""
        spatial = tuple(input_shape[2:])
        if self.symmetry == "translation":
            if self.boundary == "zero":
                steps = range(-ZERO_FILL_SHIFT, ZERO_FILL_SHIFT + 1)
                grid = [(t,) for t in steps] if len(spatial) == 1 else [(a, b) for a in steps for b in steps]
                return FiniteGroup("zero-fill shifts", [ZeroShift(t) for t in grid if all(c % self.stride == 0 for c in t)])
            bad = [n for n in spatial if n % self.stride]
            if bad:
                raise InvalidArgument(
                    f"input_shape={tuple(input_shape)}: {self} needs spatial sizes divisible by {self.stride}"
                )
            return Translations(spatial, stride=self.stride)
        if self.symmetry == "rot90":
            return c4()
        if self.symmetry == "flip":
            if len(spatial) == 1:
                return FiniteGroup("flips", [Dihedral(0), Dihedral(0, True)])
            return flips()
        if self.symmetry == "scale":
            return FiniteGroup("upscalings", [Upscale(s) for s in SCALE_FACTORS])
        return FiniteGroup("rotations", [Rotation(a) for a in ROTATION_ANGLES])

    def output_action(self, input_shape, output_shape) -> OutputAction:
        """ρ for this claim, given the shapes the layer maps between."""
        if self.relation == "invariant":
            return Trivial()
        if self.channels == "regular":
            return RegularC4()
        if self.stride > 1 and len(output_shape) == len(input_shape) and all(
            i == o * self.stride for i, o in zip(input_shape[2:], output_shape[2:])
        ):
            return Strided(self.stride)
        return Same()


def check_claim(f, x, claim, *, mode="auto", memory_budget=DEFAULT_MEMORY_BUDGET, progress=False):
    """Check one claim on one input batch; return the :class:`~props.OrbitResult` over the claim's elements.

    >>> import torch
    >>> result = check_claim(torch.nn.AvgPool2d(2), torch.randint(0, 9, (1, 1, 4, 4)).float(),
    ...                      "translation-equivariant[stride=2]")
    >>> len(result.elements), result.holds
    (4, True)
    """
    claim = Claim.parse(claim)
    group = claim.elements(tuple(x.shape))
    require_spatial(x, "x")
    group.validate(tuple(x.shape), "x")
    with torch.no_grad():
        output_shape = tuple(call_layer(f, x[:1], "f(x)").shape)
    rho = claim.output_action(tuple(x.shape), output_shape)
    return evaluate(
        f, x, group.elements(), output_action=rho, claim=f"{claim}: {describe_claim(rho)}", group=group,
        margin=claim.margin or None, mode=mode, memory_budget=memory_budget, progress=progress,
    )
