"""Linear certificates: equivariance to the whole translation group from two exact checks per generator.

If a layer is affine (``L + b``), it commutes with every circular shift as
soon as ``L`` commutes with the unit shifts (they generate the group) and
``b`` is itself shift-invariant.  Affinity is *proved* from the traced graph
(:mod:`._linearity`: convolutions, padding, shifts, sums, scaling by
constants …), never inferred from probes — a per-pixel quantiser is linear on
integers and nowhere else.  Given affinity, we check ``L(S_e x) = S_e L(x)``
for each generator ``e`` on random integer inputs in exact arithmetic: if
``L`` does *not* commute with ``S_e``, then ``D = L S_e − S_e L`` is a non-zero
linear map and ``D x = 0`` for ``x`` drawn uniformly from ``R`` integers per
entry has probability at most ``1/R`` (Schwartz–Zippel for the degree-1
polynomial ``(Dx)_i``).  With ``k`` independent draws the bound is ``R^-k``.
Exact arithmetic needs integer-valued parameters and float64 sums below 2^53.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ._actions import CircularShift
from ._errors import InvalidArgument, LayerError, describe_value
from ._layer_calls import call_layer
from ._linearity import graph_is_affine
from ._safety import rng_preserved
from ._tolerance import is_integer_valued

DEFAULT_RANGE = 2**16  # R: inputs drawn from [-R/2, R/2); float64 keeps sums exact for small integer weights
DEFAULT_DRAWS = 2


@dataclass(frozen=True)
class LinearCertificate:
    """The outcome: ``certified`` (with its failure bound) or the reason it could not certify.

    >>> print(LinearCertificate(False, "the layer is not linear"))
    not certified: the layer is not linear
    """

    certified: bool
    reason: str
    failure_bound: float | None = None
    generators: tuple = ()
    forwards: int = 0

    def __str__(self):
        if self.certified:
            return (f"certified: the traced graph is affine and its linear part commutes with the generators "
                    f"{self.generators} of the circular translation group; P(a non-commuting layer passes) ≤ "
                    f"{self.failure_bound:.3g} ({self.forwards} forward passes)")
        return f"not certified: {self.reason}"


def certify_translation_equivariance(module, input_shape, *, value_range=DEFAULT_RANGE, draws=DEFAULT_DRAWS, seed=0):
    """Certify ``f(S_t x) = S_t f(x)`` for *every* circular shift of inputs of ``input_shape`` (C, H, W) or (C, L).

    Needs a module whose ``torch.fx`` graph is affine and whose parameters are integer-valued (exact float64
    arithmetic); runs on a float64 copy in eval mode, so the module itself is untouched.

    >>> import torch
    >>> conv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    >>> _ = conv.weight.data.copy_(torch.randint(-2, 3, conv.weight.shape).float())
    >>> _ = conv.bias.data.fill_(1.0)
    >>> certificate = certify_translation_equivariance(conv, (2, 16, 16))
    >>> certificate.certified, certificate.failure_bound
    (True, 4.656612873077393e-10)
    """
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(f"module={describe_value(module)} must be a torch.nn.Module")
    try:
        shape = tuple(int(n) for n in input_shape)
    except (TypeError, ValueError):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints")
    with rng_preserved():
        try:
            twin = copy.deepcopy(module).eval().to(torch.float64)
        except Exception as exc:  # a module that cannot be copied cannot be certified without changing it
            return LinearCertificate(False, f"the module cannot be copied ({type(exc).__name__})")
        affine, why = graph_is_affine(twin)
        if not affine:
            return LinearCertificate(False, f"linearity is not proved from the graph: {why}")
        tensors = [t for t in list(twin.parameters()) + list(twin.buffers()) if t.is_floating_point()]
        if not all(is_integer_valued(t.detach()) for t in tensors):
            return LinearCertificate(False, "parameters are not integer-valued, so exact arithmetic is not "
                                            "available; the search (audit, orbit_error) checks such layers")
        try:
            return _certify(twin, shape, value_range, draws, seed)
        except LayerError as exc:
            return LinearCertificate(False, f"the layer fails on the certificate's inputs: {exc}")


def _certify(twin, shape, value_range, draws, seed):
    generator = torch.Generator().manual_seed(seed)
    forwards = 0

    def draw():
        return torch.randint(-value_range // 2, value_range // 2, (1,) + shape, generator=generator).double()

    def f(x):
        nonlocal forwards
        forwards += 1
        with torch.no_grad():
            return call_layer(twin, x, "f(x)")

    zero = f(torch.zeros((1,) + shape, dtype=torch.float64))
    spatial = len(shape) - 1
    if zero.dim() < 3 or tuple(zero.shape[2:]) != tuple(shape[1:]):
        return LinearCertificate(False, f"the output shape {tuple(zero.shape)} is not the input's spatial shape; "
                                        "certificates cover stride-1 translation equivariance only",
                                 forwards=forwards)
    generators = tuple(tuple(int(i == axis) for i in range(spatial)) for axis in range(spatial))
    for e in generators:
        shift = CircularShift(e)
        if not torch.equal(shift(zero), zero):
            return LinearCertificate(False, f"the constant part f(0) is not invariant to {shift!r}", forwards=forwards)
        for _ in range(draws):
            x = draw()
            lhs, rhs = f(shift(x)) - zero, shift(f(x) - zero)
            if not torch.equal(lhs, rhs):
                return LinearCertificate(False, f"the linear part does not commute with {shift!r} "
                                                f"(max difference {float((lhs - rhs).abs().max()):.3g})",
                                         forwards=forwards)
    bound = len(generators) * float(value_range) ** -draws
    return LinearCertificate(True, "", bound, generators, forwards)
