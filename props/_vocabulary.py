"""The claim vocabulary shared by every part of the project: symmetries, claims, profile statuses, verdicts.

This module imports nothing but the standard library, so that the reference
layers (``convnet_invariances.models``), the library and the application all
speak one language without depending on each other.

A **claim** is a symmetry, a relation and qualifiers in brackets::

    translation-equivariant[stride=2]
    translation-invariant[boundary=zero]
    rot90-equivariant[channels=regular]

- ``boundary=circular|zero``: circular shifts (the default), or zero-fill
  shifts of content on an empty background (translations only): the claim
  then quantifies over every input and shift that keeps all content inside;
- ``border=b`` (zero-fill claims only): ... and keeps the content at least
  ``b`` pixels from the border, before and after the shift (what a
  zero-padded layer of receptive-field radius ``b`` needs);
- ``stride=s``: only shifts in ``s·Z^d``, the output moving by ``t/s`` when it
  is ``s`` times smaller (translations only);
- ``margin=m``: compare only at distance ≥ m from the output border;
- ``channels=regular``: output channels permute as the regular representation
  of C4 (P4 group convolutions; rot90 only).

A **profile** says, for each *aspect* of a layer (a symmetry, and for
translations also the boundary), how its claim holds: one of
:data:`STATUSES`.  A **verdict** is what the audit concludes about one claim:
one of :data:`VERDICTS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ._errors import InvalidArgument  # stdlib-only at import, like this module

SYMMETRIES = ("translation", "rot90", "flip", "scale", "rotation")
RELATIONS = ("equivariant", "invariant")
BOUNDARIES = ("circular", "zero")
CLAIM_NAMES = tuple(f"{s}-{r}" for s in SYMMETRIES for r in RELATIONS)
QUALIFIERS = {
    "boundary": "circular|zero",
    "border": "a non-negative int",
    "stride": "a positive int",
    "margin": "a non-negative int",
    "channels": "regular",
}
#: the aspects a profile covers, each a (symmetry, boundary) pair: translations come in both boundaries
ASPECTS = (("translation", "circular"), ("translation", "zero"), ("rot90", "circular"), ("flip", "circular"),
           ("scale", "circular"), ("rotation", "circular"))
#: what a profile line can state about an aspect
STATUSES = ("exact", "subgroup", "interior", "approximate", "none")
#: what the audit can conclude about a claim
VERDICTS = ("certified", "holds", "subgroup", "interior", "approximate", "violated", "error", "unknown",
            "inapplicable")
#: verdicts under which a stated claim counts as kept (``certified``: proved; the others: searched, nothing found)
KEPT = ("certified", "holds", "subgroup", "interior")
#: what each verdict means, in one line (reports explain the vocabulary once, from here)
VERDICT_MEANINGS = {
    "certified": "proved, from the layer's graph or by a linear certificate on a graph proved linear",
    "holds": "searched, nothing found: every group element on every input tried, within the tolerance model",
    "subgroup": "holds on the shifts in sZ^d only (the largest such subgroup found)",
    "interior": "holds at distance ≥ margin from the output border only (the smallest margin found)",
    "approximate": "a continuous symmetry that holds only approximately (relative error below the threshold); "
                   "not kept: a stated claim that is only approximate fails",
    "violated": "a counterexample was found (shrunk, with a reproduction)",
    "error": "the layer raised, returned NaN/inf, or is not a function of its input",
    "unknown": "the static certifier met an operation it does not know (the search still runs)",
    "inapplicable": "the symmetry does not act on this input (rot90 on a 1-D signal): there is nothing to check",
}
STATUS_MEANINGS = {
    "exact": "holds on every element of the group",
    "subgroup": "holds on the shifts in sZ^d only",
    "interior": "holds at distance ≥ margin from the output border only",
    "approximate": "holds up to an error that falls at the stated rate",
    "none": "does not hold",
}

Symmetry = Literal["translation", "rot90", "flip", "scale", "rotation"]
Relation = Literal["equivariant", "invariant"]
Boundary = Literal["circular", "zero"]

_DIGITS = re.compile(r"[0-9]+")
_PATTERN = re.compile(r"^\s*([a-z0-9]+)-(equivariant|invariant)\s*(?:\[(.*)\])?\s*$")


@dataclass(frozen=True)
class Claim:
    """A parsed claim.  ``str(claim)`` gives back its canonical name.

    >>> Claim.parse("translation-equivariant[ stride=2 ]")
    Claim('translation-equivariant[stride=2]')
    >>> Claim.parse("rot90-invariant").symmetry
    'rot90'
    >>> Claim.parse("shift-invariant")
    Traceback (most recent call last):
    convnet_invariances._errors.InvalidArgument: claim='shift-invariant' is not a known claim; ...
    """

    symmetry: str
    relation: str
    boundary: str = "circular"
    border: int = 0
    stride: int = 1
    margin: int = 0
    channels: str = ""

    def __post_init__(self) -> None:
        name = f"claim {self.symmetry}-{self.relation}"
        if self.symmetry not in SYMMETRIES:
            raise InvalidArgument(f"{name}: symmetry={self.symmetry!r} must be one of {', '.join(SYMMETRIES)}")
        if self.relation not in RELATIONS:
            raise InvalidArgument(f"{name}: relation={self.relation!r} must be one of {', '.join(RELATIONS)}")
        if self.boundary not in BOUNDARIES:
            raise InvalidArgument(f"{name}: boundary={self.boundary!r} must be one of {', '.join(BOUNDARIES)}")
        for key, low in (("stride", 1), ("margin", 0), ("border", 0)):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidArgument(f"{name}: {key}={value!r} must be {QUALIFIERS[key]}")
        if self.channels not in ("", "regular"):
            raise InvalidArgument(f"{name}: channels={self.channels!r} must be 'regular' or absent")
        if self.channels and self.symmetry != "rot90":
            raise InvalidArgument(f"{name}: channels=regular applies to rot90 claims only")
        if self.channels and self.relation != "equivariant":
            raise InvalidArgument(f"{name}: channels=regular says how the output's channels move, and an invariant "
                                  f"output does not move; use rot90-equivariant[channels=regular]")
        if (self.stride > 1 or self.boundary != "circular") and self.symmetry != "translation":
            raise InvalidArgument(f"{name}: stride and boundary qualify translation claims only")
        if self.border and self.boundary != "zero":
            raise InvalidArgument(f"{name}: border qualifies zero-fill claims only (boundary=zero)")

    @classmethod
    def parse(cls, text: str | Claim) -> Claim:
        """A claim from its name (a :class:`Claim` is returned as it is)."""
        if isinstance(text, Claim):
            return text
        if not isinstance(text, str):
            raise InvalidArgument(f"claim={text!r} must be a string such as 'translation-equivariant[stride=2]'")
        match = _PATTERN.match(text)
        if not match or f"{match.group(1)}-{match.group(2)}" not in CLAIM_NAMES:
            raise InvalidArgument(
                f"claim={text!r} is not a known claim; valid claims are {', '.join(CLAIM_NAMES)}, "
                f"optionally with qualifiers in brackets: "
                + ", ".join(f"{key}={what}" for key, what in QUALIFIERS.items())
                + " (e.g. 'translation-equivariant[stride=2]')"
            )
        symmetry, relation, qualifiers = match.groups()
        options: dict[str, str | int] = {}
        for item in filter(None, (q.strip() for q in (qualifiers or "").split(","))):
            key, equals, value = (part.strip() for part in item.partition("="))
            if key not in QUALIFIERS:
                raise InvalidArgument(
                    f"claim={text!r}: unknown qualifier {key!r}; valid qualifiers are {', '.join(QUALIFIERS)}")
            if key in options:
                raise InvalidArgument(f"claim={text!r}: qualifier {key!r} is given twice")
            if not equals or not value:  # `[channels]` or `[channels=]` must not read as the plain claim
                raise InvalidArgument(f"claim={text!r}: qualifier {key!r} needs a value, {key}={QUALIFIERS[key]}")
            if key in ("stride", "margin", "border"):
                if not _DIGITS.fullmatch(value):  # ASCII digits only: str.isdigit() also accepts '²'
                    raise InvalidArgument(f"claim={text!r}: {key}={value!r} must be {QUALIFIERS[key]}")
                options[key] = int(value)
            else:
                options[key] = value
        try:
            return cls(symmetry, relation, **options)  # type: ignore[arg-type]
        except InvalidArgument as exc:
            raise InvalidArgument(f"claim={text!r}: {str(exc).split(': ', 1)[1]}") from None

    @property
    def name(self) -> str:
        """The claim's base name without qualifiers, e.g. ``translation-equivariant``."""
        return f"{self.symmetry}-{self.relation}"

    @property
    def aspect(self) -> tuple[str, str]:
        """The (symmetry, boundary) aspect of a profile this claim speaks about."""
        return (self.symmetry, self.boundary)

    def __str__(self) -> str:
        qualifiers = []
        if self.boundary != "circular":
            qualifiers.append(f"boundary={self.boundary}")
        if self.border:
            qualifiers.append(f"border={self.border}")
        if self.stride > 1:
            qualifiers.append(f"stride={self.stride}")
        if self.margin:
            qualifiers.append(f"margin={self.margin}")
        if self.channels:
            qualifiers.append(f"channels={self.channels}")
        return self.name + (f"[{','.join(qualifiers)}]" if qualifiers else "")

    def __repr__(self) -> str:
        return f"Claim({str(self)!r})"
