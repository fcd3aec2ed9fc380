"""Output actions ρ: how a group element acts on a layer's output.

A claim ``f(g·x) = ρ(g)·f(x)`` pairs an input action with an output action.
Each output action here maps an input group element ``g`` to the
:class:`~convnet_invariances.Action` it induces on the output, and raises
:class:`~convnet_invariances.InvalidArgument` for elements outside the subgroup on which
the claim can hold (e.g. an odd shift for a stride-2 layer).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._actions import ChannelCycle, CircularShift, Composed, Dihedral, Identity, ZeroShift
from ._errors import InvalidArgument


class OutputAction:
    """Maps an input group element ``g`` to the action ``ρ(g)`` on outputs.

    Subclass it for a representation of your own; raise InvalidArgument for
    elements outside the subgroup where it is defined.

    >>> from convnet_invariances import CircularShift
    >>> strided_action(2).contains(CircularShift((1, 0)))
    False
    """

    def __call__(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    def code(self, prefix: str = "ci.") -> str:
        """A Python expression that builds this output action (for reproductions)."""
        return prefix + repr(self)

    def contains(self, g):
        """Whether ``ρ(g)`` is defined, i.e. ``g`` lies in the subgroup this action acts on."""
        try:
            self(g)
        except InvalidArgument:
            return False
        return True


@dataclass(frozen=True)
class Same(OutputAction):
    """ρ(g) = g: plain equivariance (the output moves exactly as the input did)."""

    def __call__(self, g):
        return g

    def __repr__(self):
        return "same_action()"


@dataclass(frozen=True)
class Trivial(OutputAction):
    """ρ(g) = identity: invariance (the output does not move at all)."""

    def __call__(self, g):
        return Identity()

    def __repr__(self):
        return "trivial_action()"


@dataclass(frozen=True)
class Strided(OutputAction):
    """ρ(shift t) = shift t/s: the output of a stride-``s`` layer moves by ``t/s``.

    Defined only on the subgroup ``sZ^d`` of shifts divisible by ``s``;
    rotations and flips pass through unchanged.
    """

    stride: int

    def __post_init__(self):
        if not isinstance(self.stride, int) or isinstance(self.stride, bool) or self.stride < 1:
            raise InvalidArgument(f"stride={self.stride!r} must be a positive int")

    def __call__(self, g):
        if isinstance(g, Composed):
            return Composed(tuple(self(f) for f in g.factors))
        if isinstance(g, (CircularShift, ZeroShift)):
            if any(t % self.stride for t in g.shifts):
                raise InvalidArgument(
                    f"{g!r} is not in {self.stride}Z^{len(g.shifts)}: a stride-{self.stride} layer can only be "
                    f"equivariant to shifts whose every component is a multiple of {self.stride}"
                )
            return type(g)(tuple(t // self.stride for t in g.shifts))
        return g

    def __repr__(self):
        return f"strided_action({self.stride})"


@dataclass(frozen=True)
class RegularC4(OutputAction):
    """ρ(rot90^k) = cycle orientation channels by k, then rotate: the regular representation of C4.

    Output channels are laid out as (C, 4); shifts act spatially as usual.
    """

    group_size: int = 4

    def __call__(self, g):
        if isinstance(g, Composed):
            return Composed(tuple(self(f) for f in g.factors))
        if isinstance(g, Dihedral):
            if g.reflect:
                raise InvalidArgument(f"{g!r} is a reflection; the regular representation of C4 covers rotations only")
            return Composed((ChannelCycle(g.k, self.group_size), g)) if g.k else g
        return g

    def __repr__(self):
        return "regular_c4_action()"


def same_action():
    """ρ(g) = g, for equivariance claims.

    >>> from convnet_invariances import rot90
    >>> same_action()(rot90())
    rot90
    """
    return Same()


def trivial_action():
    """ρ(g) = identity, for invariance claims.

    >>> from convnet_invariances import CircularShift
    >>> trivial_action()(CircularShift((1, 2)))
    identity
    """
    return Trivial()


def strided_action(stride):
    """ρ(shift t) = shift t/stride, for layers that subsample by ``stride``.

    >>> from convnet_invariances import CircularShift
    >>> strided_action(2)(CircularShift((4, -2)))
    shift(2, -1)
    """
    return Strided(stride)


def regular_c4_action():
    """ρ(rot90^k) = cycle the 4 orientation channels by k, then rot90^k (P4 group convolutions).

    >>> from convnet_invariances import rot90
    >>> regular_c4_action()(rot90(1))
    cycle_channels(1/4)∘rot90
    """
    return RegularC4()
