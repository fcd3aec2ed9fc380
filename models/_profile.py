"""Invariance profiles as data: which symmetries a layer has, how exactly, and under what conditions.

A profile is one :class:`Line` (or more) per aspect in :data:`ASPECTS` — a
symmetry, and for translations the boundary.  Each line says how the claim holds — exactly, on a subgroup, on the interior only,
approximately (with the rate the theory predicts), or not at all — so the
tests and the audit can check every line with the same engine.

Claim names, statuses and symmetries come from the project's one claim
vocabulary, shared with the audit and the CLI: ``translation-equivariant``,
``translation-invariant[stride=4]``, ``rot90-equivariant[channels=regular]``,
``translation-invariant[boundary=zero]`` …
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .._vocabulary import ASPECTS, RELATIONS, STATUSES, SYMMETRIES, Claim

__all__ = ["ASPECTS", "RELATIONS", "STATUSES", "SYMMETRIES", "Entry", "Line"]


@dataclass(frozen=True)
class Line:
    """How one aspect of a layer — a symmetry, and for translations the boundary — behaves.

    ``stride`` (subgroup lines): the claim holds for shifts in ``stride·Z^d``,
    the output moving by ``t/stride`` for equivariance.  ``margin`` (interior
    lines): it holds at distance ≥ margin from the border of the output.
    ``border`` (zero-fill lines): it holds for content at least ``border``
    pixels from the input's border (a zero-padded layer needs its receptive
    field radius).  ``channels="regular"``: output channels permute as the
    regular representation of C4.  ``rate`` and ``sweep`` (approximate lines):
    the law the error follows and the parameter that drives it, e.g.
    ``sweep=("J", (1, 2, 3))`` or ``sweep=("resolution", (16, 32, 64))``.
    ``condition``: what the input size must satisfy.

    >>> Line("translation", "equivariant", "subgroup", stride=2).claim
    'translation-equivariant[stride=2]'
    >>> Line("translation", "invariant", "exact", boundary="zero", border=1).claim
    'translation-invariant[boundary=zero,border=1]'
    """

    symmetry: str
    relation: str
    status: str
    boundary: str = "circular"
    border: int = 0
    stride: int = 1
    margin: int = 0
    channels: str = ""
    rate: str = ""
    sweep: tuple = ()
    condition: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r} must be one of {STATUSES}")
        if self.status == "subgroup" and self.stride < 2:
            raise ValueError("a subgroup line needs stride ≥ 2")
        if self.status == "interior" and self.margin < 1:
            raise ValueError("an interior line needs margin ≥ 1")
        if self.status == "approximate" and not (self.rate and len(self.sweep) == 2 and len(self.sweep[1]) >= 3):
            raise ValueError("an approximate line needs a rate and a sweep over at least three values")
        self.as_claim()  # symmetry, relation and qualifiers must make a valid claim

    @property
    def aspect(self) -> tuple[str, str]:
        """The (symmetry, boundary) pair this line speaks about."""
        return (self.symmetry, self.boundary)

    def as_claim(self) -> Claim:
        """The claim this line states (its qualifiers included)."""
        return Claim(self.symmetry, self.relation, boundary=self.boundary, border=self.border,
                     stride=self.stride if self.status == "subgroup" else 1,
                     margin=self.margin if self.status == "interior" else 0, channels=self.channels)

    @property
    def claim(self) -> str:
        """The claim name used by the audit, CLI and JSON reports."""
        return str(self.as_claim())


@dataclass(frozen=True)
class Entry:
    """A registry entry: a factory, the input shape it expects, and its profile.

    ``factory(**overrides)`` builds the module deterministically (a fixed seed);
    ``input_shape`` is (C, H, W) or (C, L) without the batch axis.
    ``exact_dtype`` is the dtype in which integer inputs make the module's
    arithmetic exact, or None when the module computes with non-integer
    constants (Fourier transforms, filter banks).  ``output`` says whether the
    module returns a spatial map or a flat vector (N, K), checked by the tests.

    >>> lines = tuple(Line(s, "equivariant", "exact", boundary=b) for s, b in ASPECTS)
    >>> entry = Entry("identity", lambda: None, (1, 4, 4), lines)
    >>> entry.line("rot90").claim
    'rot90-equivariant'
    """

    name: str
    factory: Callable[..., torch.nn.Module]
    input_shape: tuple
    profile: tuple
    description: str = ""
    kind: str = "layer"
    exact_dtype: object = None
    output: str = "spatial"
    tags: tuple = field(default_factory=tuple)

    def __post_init__(self):
        missing = set(ASPECTS) - {line.aspect for line in self.profile}
        if missing:
            raise ValueError(f"entry {self.name!r}: the profile states nothing about {sorted(missing)}")

    def line(self, symmetry: str, boundary: str = "circular") -> Line:
        """The first profile line for one aspect (an aspect may have more, e.g. approximate + subgroup)."""
        return next(line for line in self.profile if line.aspect == (symmetry, boundary))

    def build(self, **overrides):
        """A fresh module from the factory (the same weights every call)."""
        return self.factory(**overrides)
