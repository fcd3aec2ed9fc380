"""The Lie derivative of a layer: how fast its equivariance breaks under an infinitesimal transformation.

For a one-parameter group ``g_t`` acting on inputs and ``ρ(g_t)`` on outputs,
the Lie derivative of ``f`` at ``x`` is (Gruver et al., "The Lie Derivative
for Measuring Learned Equivariance", ICLR 2023)::

    L_X f(x) = d/dt [ρ(g_{-t}) f(g_t x)] at t = 0
             = J_f(x) · A x  −  B f(x)

where ``A x = d/dt g_t x`` and ``B y = d/dt ρ(g_t) y`` at ``t = 0``.  It is zero
exactly when ``f`` is equivariant to the whole one-parameter group to first
order, and it is reported relative to the output, ``‖L_X f(x)‖ / ‖f(x)‖``.

**The band-limit assumption.**  A derivative in ``t`` needs ``g_t x`` for
non-integer ``t``, i.e. values of the image between its samples.  Here an
input is the set of samples of the *periodic band-limited* function through
them: its trigonometric interpolant, with the Nyquist frequency of an even
side taken as ``cos(π u)`` (the real, symmetric choice, so that moved images
stay real).  Every generator then moves points of that one smooth function,
``(g_t x)(p) = x̃(q_t(p))``, and ``A x = w · ∇x̃`` with ``w = dq_t/dt`` the
velocity of the sampled point and ``∇x̃`` computed exactly by spectral
differentiation.  For translations this is the Fourier phase
``e^{-2πi k t / N}``; rotations and scalings read the same interpolant at
rotated or scaled points (about the image centre; the periodic extension
fills the corners).  Unlike bilinear resampling, whose kinks sit on the pixel
centres at ``t = 0``, the interpolant is smooth, so the derivative is well
posed on any sampled image, noise included.  Natural images are not periodic:
their wrap-around edges ring in ``∇x̃``; that is part of the stated model.

``J_f(x) · A x`` is one forward-mode product (``torch.func.jvp``) — by the
chain rule the derivative through the transform, whose own derivative at
``t = 0`` is ``A x`` exactly — and double backward where an operation of the
layer has no forward-mode formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch

from ._errors import InvalidArgument, LayerError, describe_value, require_spatial
from ._layer_calls import ProtectedLayer
from ._output_actions import OutputAction, Same, Strided, Trivial
from ._safety import audited_copy, rng_preserved

Generator = Literal["translation-x", "translation-y", "rotation", "scale"]
#: the one-parameter groups: the unit the Lie derivative is measured per, and what g_t does for t > 0
GENERATORS = {
    "translation-x": ("pixel", "content moves right, along the last axis"),
    "translation-y": ("pixel", "content moves down, along H; 2-D only"),
    "rotation": ("radian", "counter-clockwise about the image centre, like rot90; 2-D only"),
    "scale": ("unit log-scale", "content magnified by e^t about the image centre; 2-D only"),
}
OutputActionLike = Literal["invariant", "equivariant"] | OutputAction

_ACTION_HELP = ("'invariant' (ρ trivial: the output must not move, e.g. logits), 'equivariant' (ρ = g: the output "
                "moves as the input did, same spatial shape), or an output action: trivial_action(), same_action(), "
                "strided_action(s) (translations only)")


def lie_derivative(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    generator: Generator,
    *,
    output_action: OutputActionLike | None = None,
) -> torch.Tensor:
    """The relative Lie derivative ``‖L_X f(x)‖ / ‖f(x)‖``, one value per sample.

    ``L_X f(x) = d/dt [ρ(g_{-t}) f(g_t x)]`` at ``t = 0``, norms over all of
    a sample's output elements.  Units: per pixel for ``"translation-x"``
    (content moving right) and ``"translation-y"`` (moving down), per radian
    for ``"rotation"`` (counter-clockwise about the image centre, as
    :func:`rot90`), per unit log-scale for ``"scale"`` (magnified by ``e^t``
    about the centre).  Inputs are read as periodic band-limited signals
    (their trigonometric interpolant): see the module documentation.

    ``output_action`` says how outputs move; it is never guessed from shapes:
    ``"invariant"`` (or ``trivial_action()``), ``"equivariant"`` (or
    ``same_action()``: the output, of the input's spatial shape, moves by the
    same element), or ``strided_action(s)`` (translations: the output moves by
    ``t / s``).  A module is measured in eval mode on a copy (train-mode
    batch norm and dropout are not functions of one sample); neither it nor
    ``x`` is changed.  A value of 0 for ``f(x) = 0`` means ``L_X f(x) = 0`` too,
    ``inf`` that it is not.

    >>> import torch
    >>> x = torch.randn(2, 1, 8, 8)
    >>> circular = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    >>> bool((lie_derivative(circular, x, "translation-x", output_action="equivariant") < 1e-5).all())
    True
    >>> zero_padded = torch.nn.Conv2d(1, 1, 3, padding=1)
    >>> bool((lie_derivative(zero_padded, x, "translation-x", output_action="equivariant") > 1e-2).all())
    True
    >>> lie_derivative(circular, x, "rotation")
    Traceback (most recent call last):
    convnet_invariances._errors.InvalidArgument: output_action=None: ...
    """
    derivative, output = _lie_derivative_and_output(f, x, generator, output_action)
    numerator = derivative.flatten(1).norm(dim=1)
    denominator = output.flatten(1).norm(dim=1)
    zero = denominator == 0
    return torch.where(zero, torch.where(numerator == 0, 0.0, math.inf), numerator / torch.where(zero, 1.0, denominator))


def _lie_derivative_and_output(f, x, generator, output_action):
    """``(L_X f(x), f(x))`` as tensors of the output's shape, after validating every argument."""
    if not callable(f):
        raise InvalidArgument(f"f={describe_value(f)} must be a torch.nn.Module or a callable on tensors")
    spatial_rank = _check_input(x, generator)
    action = _resolve_output_action(output_action, generator)
    x = x.detach().clone()
    tangent = flow_tangent(x, generator)
    if isinstance(f, torch.nn.Module):
        with audited_copy(f, probe=x) as (module, _):
            output, pushed = _jvp(ProtectedLayer(module), x, tangent)
    else:
        with rng_preserved():
            output, pushed = _jvp(ProtectedLayer(f), x, tangent)
    return pushed - _output_generator(action, output, x, generator, spatial_rank), output.detach()


def _check_input(x, generator):
    spatial_rank = require_spatial(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise InvalidArgument(f"x has dtype {x.dtype}; it must be torch.float32 or torch.float64 (real: the "
                              f"spectral derivative needs an FFT)")
    if generator not in GENERATORS:
        raise InvalidArgument(f"generator={describe_value(generator)} must be one of "
                              + ", ".join(f"{name!r} (per {unit})" for name, (unit, _) in GENERATORS.items()))
    if x.shape[0] == 0 or x.numel() == 0:
        raise InvalidArgument(f"x has shape {tuple(x.shape)}: no sample (or an empty axis); give at least one "
                              f"image with at least one pixel")
    if not bool(torch.isfinite(x).all()):
        raise InvalidArgument("x holds NaN or inf; the Lie derivative needs finite inputs")
    if spatial_rank == 1 and generator != "translation-x":
        raise InvalidArgument(f"generator={generator!r} moves 2-D images, but x has shape {tuple(x.shape)} "
                              f"(N, C, L); a 1-D signal has only 'translation-x'")
    return spatial_rank


def _resolve_output_action(output_action, generator):
    if output_action is None:
        raise InvalidArgument(f"output_action=None: say how the output moves when the input does, it is never "
                              f"guessed from shapes: {_ACTION_HELP}")
    if isinstance(output_action, str):
        named = {"invariant": Trivial(), "equivariant": Same()}.get(output_action)
        if named is None:
            raise InvalidArgument(f"output_action={output_action!r} must be {_ACTION_HELP}")
        return named
    if isinstance(output_action, (Trivial, Same)):
        return output_action
    if isinstance(output_action, Strided):
        if not generator.startswith("translation"):
            raise InvalidArgument(f"output_action={output_action!r} acts on translations only, not "
                                  f"generator={generator!r}; use 'invariant' or 'equivariant'")
        return output_action
    raise InvalidArgument(f"output_action={describe_value(output_action)} must be {_ACTION_HELP}; other output "
                          f"actions have no infinitesimal form here")


def _jvp(layer, x, tangent):
    """``(f(x), J_f(x) · tangent)``: forward mode, else double backward for operations without a forward formula."""
    try:
        with torch.no_grad():  # forward mode needs no graph: without one, no memory is held for a backward pass
            return torch.func.jvp(lambda z: layer(z, "f(x) under torch.func.jvp", keep=True), (x,), (tangent,))
    except LayerError as exc:  # the protected call reports what the layer raised; only a missing formula falls back
        if not (isinstance(exc.__cause__, NotImplementedError) and "forward AD" in str(exc.__cause__)):
            raise
    # J v through two reverse passes: g(u) = J^T u is linear in u, so the derivative of <g(u), v> in u is J v
    with torch.enable_grad():
        primal = x.clone().requires_grad_(True)
        output = layer(primal, "f(x) under double backward")
        probe = torch.zeros_like(output, requires_grad=True)
        (pulled,) = torch.autograd.grad(output, primal, probe, create_graph=True)
        (pushed,) = torch.autograd.grad(pulled, probe, tangent, allow_unused=True)
    if pushed is None:  # the output does not depend on the input at all
        pushed = torch.zeros_like(output)
    return output.detach(), pushed.detach()


def _output_generator(action, output, x, generator, spatial_rank):
    """``B f(x) = d/dt ρ(g_t) f(x)`` at ``t = 0``: zero for invariance, the input's generator for equivariance."""
    if isinstance(action, Trivial):
        return torch.zeros_like(output)
    expected = tuple(x.shape[2:])
    speed = 1.0
    if isinstance(action, Strided):
        if any(n % action.stride for n in expected):
            raise InvalidArgument(f"output_action={action!r}: x has spatial shape {expected}, not divisible by "
                                  f"the stride {action.stride}")
        expected = tuple(n // action.stride for n in expected)
        speed = 1.0 / action.stride  # a shift by t moves a stride-s output by t/s of its pixels
    if output.dim() != spatial_rank + 2 or tuple(output.shape[2:]) != expected or not output.is_floating_point():
        raise InvalidArgument(
            f"output_action={action!r} needs a real output of spatial shape {expected} to move, but f(x) is "
            f"{describe_value(output)}; use 'invariant' for outputs that should not move"
        )
    return speed * flow_tangent(output, generator)


# ----------------------------------------------------------------------------- the smooth flow and its tangent


def _velocity(shape, generator, dtype, device):
    """``w = dq_t/dt`` at ``t = 0`` per spatial axis: how fast the point read for each output pixel moves."""
    if generator == "translation-x":
        return [0.0] * (len(shape) - 1) + [-1.0]
    if generator == "translation-y":
        return [-1.0, 0.0]
    i, j = _centred_grid(shape, dtype, device)
    if generator == "rotation":
        return [j, -i]
    return [-i, -j]  # scale


def _centred_grid(shape, dtype, device):
    height, width = shape
    i = torch.arange(height, dtype=dtype, device=device) - (height - 1) / 2
    j = torch.arange(width, dtype=dtype, device=device) - (width - 1) / 2
    return i[:, None].expand(height, width), j[None, :].expand(height, width)


def _spectral_derivative(x, dim):
    """∂x̃/∂u along ``dim`` at the samples, exactly, for the real trigonometric interpolant."""
    n = x.shape[dim]
    k = torch.fft.fftfreq(n, d=1.0 / n, dtype=x.dtype, device=x.device)
    if n % 2 == 0:
        k[n // 2] = 0  # the Nyquist term is cos(πu): its slope at every sample is 0
    shape = [1] * x.dim()
    shape[dim] = n
    return torch.fft.ifft(torch.fft.fft(x, dim=dim) * (2j * math.pi / n * k).view(shape), dim=dim).real


def flow_tangent(x: torch.Tensor, generator: str) -> torch.Tensor:
    """``A x = d/dt g_t x`` at ``t = 0``: the velocity of the read point times the interpolant's gradient.

    >>> u = torch.arange(8.)
    >>> tangent = flow_tangent(torch.cos(2 * torch.pi * u / 8).view(1, 1, 8), "translation-x")
    >>> torch.allclose(tangent, 2 * torch.pi / 8 * torch.sin(2 * torch.pi * u / 8), atol=1e-6)
    True
    """
    rank = x.dim() - 2
    velocity = _velocity(x.shape[2:], generator, x.dtype, x.device)
    tangent = torch.zeros_like(x)
    for axis, w in enumerate(velocity):
        if isinstance(w, float) and w == 0.0:
            continue
        tangent = tangent + w * _spectral_derivative(x, x.dim() - rank + axis)
    return tangent


def flow(x: torch.Tensor, generator: str, t: float) -> torch.Tensor:
    """``g_t x``: the trigonometric interpolant of ``x`` read at the moved points (exact, O((H·W)²) per image).

    A reference for tests and finite differences, not a fast resampler.  For
    translations it equals :class:`SubpixelShift`; for a quarter turn it is
    :func:`rot90` exactly.

    >>> x = torch.randn(1, 1, 5, 5, dtype=torch.float64)
    >>> torch.allclose(flow(x, "rotation", torch.pi / 2), torch.rot90(x, 1, (-2, -1)))
    True
    """
    spatial = tuple(x.shape[2:])
    dtype, device = x.dtype, x.device
    if len(spatial) == 1:
        points = [torch.arange(spatial[0], dtype=dtype, device=device) - t]
    else:
        i, j = _centred_grid(spatial, dtype, device)
        centre = [(n - 1) / 2 for n in spatial]
        if generator == "translation-x":
            moved = [i, j - t]
        elif generator == "translation-y":
            moved = [i - t, j]
        elif generator == "rotation":
            angle = torch.as_tensor(t, dtype=dtype, device=device)  # a tensor t keeps torch.func.jvp's tangent
            c, s = torch.cos(angle), torch.sin(angle)
            moved = [c * i + s * j, -s * i + c * j]
        else:
            factor = torch.exp(-torch.as_tensor(t, dtype=dtype, device=device))
            moved = [factor * i, factor * j]
        points = [m + c for m, c in zip(moved, centre)]
    # x̃(q) = Σ_k X_k Π_axes b(k_a, q_a) / N_a, with b(k, q) = e^{2πikq/N}, and cos(πq) at the Nyquist bin
    spectrum = torch.fft.fftn(x, dim=tuple(range(2, x.dim())))
    bases = []
    for q, n in zip(points, spatial):
        k = torch.fft.fftfreq(n, d=1.0 / n, dtype=dtype, device=device)
        q = q.reshape(-1, 1)
        basis = torch.exp(2j * math.pi / n * q * k)
        if n % 2 == 0:
            basis[:, n // 2] = torch.cos(math.pi * q[:, 0])
        bases.append(basis / n)
    if len(spatial) == 1:
        values = torch.einsum("mk,nck->ncm", bases[0], spectrum)
    else:
        values = torch.einsum("mk,nckl,ml->ncm", bases[0], spectrum, bases[1])
    return values.real.reshape(x.shape)
