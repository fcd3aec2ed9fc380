"""Finite groups whose whole orbit the checks evaluate: circular translations, C4, D4.

A group lists its elements (identity first) so that an orbit check can try
every one of them, and translation groups list their subgroups ``sZ^d``.
"""

from __future__ import annotations

import itertools
import math

from ._actions import CircularShift, Dihedral
from ._errors import InvalidArgument


class FiniteGroup:
    """A finite set of :class:`~convnet_invariances.Action` closed under composition, identity first.

    >>> group = FiniteGroup("mirror", [Dihedral(0), Dihedral(0, True)])
    >>> len(group), list(group)
    (2, [identity, flip_w])
    """

    def __init__(self, name, elements):
        self.name = name
        self._elements = tuple(elements)

    def elements(self):
        """All elements, identity first."""
        return self._elements

    def __iter__(self):
        return iter(self._elements)

    def __len__(self):
        return len(self._elements)

    def validate(self, shape, name="x"):
        """Raise :class:`InvalidArgument` when some element cannot act on ``shape``."""
        for g in self._elements:
            g.validate(shape, name)

    def __repr__(self):
        return self.name


class Translations(FiniteGroup):
    """All circular shifts of a grid of the given spatial ``shape`` that lie in ``stride·Z^d``.

    >>> group = Translations((4, 4), stride=2)
    >>> len(group), group.elements()[:3]
    (4, (shift(0, 0), shift(0, 2), shift(2, 0)))
    """

    def __init__(self, shape, stride=1):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if not shape or len(shape) > 2 or not all(isinstance(n, int) and n >= 1 for n in shape):
            raise InvalidArgument(f"shape={shape!r} must be (L,) or (H, W) with positive int sizes")
        if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
            raise InvalidArgument(f"stride={stride!r} must be a positive int")
        bad = [n for n in shape if n % stride]
        if bad:
            raise InvalidArgument(
                f"shape={shape!r}: every size must be divisible by stride={stride} for shifts in "
                f"{stride}Z^{len(shape)} to form a group of circular shifts"
            )
        self.shape, self.stride = shape, stride
        offsets = itertools.product(*[range(0, n, stride) for n in shape])
        name = f"translations{shape}" + (f" ∩ {stride}Z^{len(shape)}" if stride > 1 else "")
        super().__init__(name, (CircularShift(t) for t in offsets))

    def validate(self, shape, name="x"):
        if tuple(shape[2:]) != self.shape:
            raise InvalidArgument(
                f"{name} has spatial shape {tuple(shape[2:])}, but the group {self.name} acts on "
                f"spatial shape {self.shape}; build it with Translations({tuple(shape[2:])!r})"
            )

    def subgroup(self, stride):
        """The subgroup of shifts that are multiples of ``stride`` (times this group's stride)."""
        return Translations(self.shape, self.stride * stride)

    def subgroups(self):
        """Every subgroup ``sZ^d`` that divides the grid, finest first."""
        common = math.gcd(*self.shape) // self.stride
        return [self.subgroup(s) for s in range(1, common + 1) if common % s == 0]


def c4():
    """The four rotations by multiples of 90° (square inputs).

    >>> c4().elements()
    (identity, rot90, rot180, rot270)
    """
    return FiniteGroup("C4", (Dihedral(k) for k in range(4)))


def d4():
    """The eight symmetries of the square: C4 and C4 after a left-right flip.

    >>> len(d4())
    8
    """
    return FiniteGroup("D4", (Dihedral(k, r) for r in (False, True) for k in range(4)))


def flips():
    """Identity, the two mirror flips and rot180: the symmetries that also act on non-square inputs.

    >>> flips().elements()
    (identity, flip_w, rot180, rot180∘flip_w)
    """
    return FiniteGroup("flips", (Dihedral(0), Dihedral(0, True), Dihedral(2), Dihedral(2, True)))
