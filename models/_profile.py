"""Invariance profiles as data: which symmetries a layer has, how exactly, and under what conditions.

A profile is one :class:`Line` per symmetry in :data:`SYMMETRIES`.  Each line
says how the claim holds — exactly, on a subgroup, on the interior only,
approximately (with the rate the theory predicts), or not at all — so the
tests and the audit can check every line with the same engine.

Claim names are shared with the audit and the CLI: ``translation-equivariant``,
``translation-invariant[stride=4]``, ``rot90-equivariant[channels=regular]``,
``translation-invariant[boundary=zero]`` …
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: symmetry keys; a profile has one line for each
SYMMETRIES = ("translation", "translation-zero", "rot90", "flip", "scale", "rotation")
#: what a line can say
STATUSES = ("exact", "subgroup", "interior", "approximate", "none")
RELATIONS = ("equivariant", "invariant")

_CLAIM_BASE = {
    "translation": "translation",
    "translation-zero": "translation",
    "rot90": "rot90",
    "flip": "flip",
    "scale": "scale",
    "rotation": "rotation",
}


@dataclass(frozen=True)
class Line:
    """How one symmetry acts on a layer.

    ``stride`` (subgroup lines): the claim holds for shifts in ``stride·Z^d``,
    the output moving by ``t/stride`` for equivariance.  ``margin`` (interior
    lines): it holds at distance ≥ margin from the border of the output.
    ``channels="regular"``: output channels permute as the regular
    representation of C4.  ``rate`` and ``sweep`` (approximate lines): the law
    the error follows and the parameter that drives it, e.g.
    ``sweep=("J", (1, 2, 3))`` or ``sweep=("resolution", (16, 32, 64))``.
    ``condition``: what the input size must satisfy.  On ``translation-zero``
    lines, ``margin`` is the empty border the content needs beyond the shift
    (the receptive-field radius) for the claim to hold.

    >>> Line("translation", "equivariant", "subgroup", stride=2).claim
    'translation-equivariant[stride=2]'
    """

    symmetry: str
    relation: str
    status: str
    stride: int = 1
    margin: int = 0
    channels: str = ""
    rate: str = ""
    sweep: tuple = ()
    condition: str = ""
    note: str = ""

    def __post_init__(self):
        if self.symmetry not in SYMMETRIES:
            raise ValueError(f"symmetry={self.symmetry!r} must be one of {SYMMETRIES}")
        if self.relation not in RELATIONS:
            raise ValueError(f"relation={self.relation!r} must be one of {RELATIONS}")
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r} must be one of {STATUSES}")
        if self.status == "subgroup" and self.stride < 2:
            raise ValueError("a subgroup line needs stride ≥ 2")
        if self.status == "interior" and self.margin < 1:
            raise ValueError("an interior line needs margin ≥ 1")
        if self.status == "approximate" and not (self.rate and len(self.sweep) == 2 and len(self.sweep[1]) >= 3):
            raise ValueError("an approximate line needs a rate and a sweep over at least three values")

    @property
    def claim(self):
        """The claim name used by the audit, CLI and JSON reports."""
        qualifiers = []
        if self.symmetry == "translation-zero":
            qualifiers.append("boundary=zero")
        if self.status == "subgroup":
            qualifiers.append(f"stride={self.stride}")
        if self.status == "interior":
            qualifiers.append(f"margin={self.margin}")
        if self.channels:
            qualifiers.append(f"channels={self.channels}")
        name = f"{_CLAIM_BASE[self.symmetry]}-{self.relation}"
        return name + (f"[{','.join(qualifiers)}]" if qualifiers else "")


@dataclass(frozen=True)
class Entry:
    """A registry entry: a factory, the input shape it expects, and its profile.

    ``factory(**overrides)`` builds the module deterministically (a fixed seed);
    ``input_shape`` is (C, H, W) or (C, L) without the batch axis.
    ``exact_dtype`` is the dtype in which integer inputs make the module's
    arithmetic exact, or None when the module computes with non-integer
    constants (Fourier transforms, filter banks).  ``output`` says whether the
    module returns a spatial map or a flat vector (N, K), checked by the tests.

    >>> entry = Entry("identity", lambda: None, (1, 4, 4), tuple(Line(s, "equivariant", "exact") for s in SYMMETRIES))
    >>> entry.line("rot90").claim
    'rot90-equivariant'
    """

    name: str
    factory: object
    input_shape: tuple
    profile: tuple
    description: str = ""
    kind: str = "layer"
    exact_dtype: object = None
    output: str = "spatial"
    tags: tuple = field(default_factory=tuple)

    def __post_init__(self):
        missing = set(SYMMETRIES) - {line.symmetry for line in self.profile}
        if missing:
            raise ValueError(f"entry {self.name!r}: the profile states nothing about {sorted(missing)}")

    def line(self, symmetry):
        """The first profile line for one symmetry (a symmetry may have more, e.g. approximate + subgroup)."""
        return next(line for line in self.profile if line.symmetry == symmetry)

    def build(self, **overrides):
        """A fresh module from the factory (the same weights every call)."""
        return self.factory(**overrides)
