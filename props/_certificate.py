"""Linear certificates: equivariance to the whole translation group from two exact checks per generator.

If a layer is linear (``L``) or affine (``L + b``), it commutes with every
circular shift as soon as ``L`` commutes with the unit shifts (they generate
the group) and ``b`` is itself shift-invariant.  We check ``L(S_e x) =
S_e L(x)`` for each generator ``e`` on random integer inputs in exact
arithmetic: if ``L`` does *not* commute with ``S_e``, then ``D = L S_e − S_e L``
is a non-zero linear map and ``D x = 0`` for ``x`` drawn uniformly from
``R`` integers per entry has probability at most ``1/R`` (Schwartz–Zippel for
the degree-1 polynomial ``(Dx)_i``).  With ``k`` independent draws the bound
is ``R^-k``.  Linearity itself is *detected*, not assumed: on the same kind of
inputs, ``f(a x + b y) = a f(x) + b f(y) − (a + b − 1) f(0)`` must hold exactly.
A nonlinear layer can pass that only if it is affine on the points tried, so
the certificate is reported with what it rests on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ._actions import CircularShift
from ._errors import InvalidArgument, describe_value
from ._layer_calls import call_layer
from ._safety import untouched
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
            return (f"certified: commutes with the generators {self.generators} of the circular translation group; "
                    f"P(a non-commuting layer passes) ≤ {self.failure_bound:.3g} ({self.forwards} forward passes)")
        return f"not certified: {self.reason}"


def certify_translation_equivariance(module, input_shape, *, value_range=DEFAULT_RANGE, draws=DEFAULT_DRAWS, seed=0):
    """Certify ``f(S_t x) = S_t f(x)`` for *every* circular shift of inputs of ``input_shape`` (C, H, W) or (C, L).

    Needs integer-valued parameters (exact float64 arithmetic); runs on a float64
    copy, so the module itself is untouched.

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
    shape = tuple(input_shape)
    if len(shape) not in (2, 3):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L)")
    tensors = [t for t in list(module.parameters()) + list(module.buffers()) if t.is_floating_point()]
    if not all(is_integer_valued(t.detach()) for t in tensors):
        return LinearCertificate(False, "parameters are not integer-valued, so exact arithmetic is not available; "
                                        "use the exhaustive orbit check (orbit_error) instead")
    generator = torch.Generator().manual_seed(seed)

    def draw():
        return torch.randint(-value_range // 2, value_range // 2, (1,) + shape, generator=generator).double()

    forwards = 0
    with untouched(module):
        twin = copy.deepcopy(module).to(torch.float64)

        def f(x):
            nonlocal forwards
            forwards += 1
            return call_layer(twin, x, "f(x)")

        zero = f(torch.zeros((1,) + shape, dtype=torch.float64))
        x, y = draw(), draw()
        a, b = 3.0, -2.0
        if not torch.equal(f(a * x + b * y), a * f(x) + b * f(y) - (a + b - 1) * zero):
            return LinearCertificate(False, "the layer is not linear (or affine): f(a·x + b·y) differs from "
                                            "a·f(x) + b·f(y) − (a + b − 1)·f(0) on random integer inputs", forwards=forwards)
        spatial = len(shape) - 1
        generators = tuple(tuple(int(i == axis) for i in range(spatial)) for axis in range(spatial))
        for e in generators:
            shift = CircularShift(e)
            if zero.dim() < 3 or zero.shape[2:] != (1,) + tuple(shape[1:]) and zero.shape[2:] != tuple(shape[1:]):
                return LinearCertificate(False, f"the output shape {tuple(zero.shape)} is not the input's spatial "
                                                "shape; certificates cover stride-1 translation equivariance only",
                                         forwards=forwards)
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
