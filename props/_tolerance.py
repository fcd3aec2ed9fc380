"""The tolerance model: when two floating-point results count as equal.

Exact mode
    Small integer-valued inputs and weights make convolution, pooling, roll,
    rot90 and flips exact in float32 and float64 (every partial sum is an
    integer below 2^24), so both sides of a claim must agree bitwise and the
    tolerance is 0.

Float mode
    Each side of ``f(g·x) = ρ(g)·f(x)`` is computed with its own rounding.
    A dot product of ``n`` terms computed in floating point carries an error
    of at most ``γ_n · Σ|a_i b_i|`` with ``γ_n = n·u / (1 - n·u)`` and ``u``
    the unit roundoff (Higham, *Accuracy and Stability of Numerical
    Algorithms*, §3.1).  For a black-box layer we cannot form ``Σ|a_i b_i|``,
    so we take the largest output magnitude ``M`` of the two compared sides
    as its scale and ``n`` = the number of input values one sample feeds in
    (a bound on the fan-in of any single linear layer).  Both sides can err in
    opposite directions, hence

        tolerance = 2 · γ_n · M.

    When the output action ρ(g) does arithmetic of its own (a Fourier phase
    ramp, an interpolation, an average) rather than moving values, its
    ``rounding_steps`` are added to ``n``: ρ(g)·f(x) carries that rounding too.

    ``M`` underestimates ``Σ|a_i b_i|`` when terms cancel, so a float-mode
    error above the tolerance is not yet a violation: the check re-runs the
    same comparison in float64, where the tolerance is ~10^9 times smaller.
    A real violation does not shrink with precision; rounding does.  The
    re-run counts an element as rounding when its float64 error is within the
    float64 tolerance or has shrunk below 2^-20 of the float32 error (rounding
    shrinks by about u64/u32 = 2^-29; 2^-20 leaves a 2^9 allowance), so a
    cancellation-heavy layer whose intermediates dwarf its output is not
    reported as violating, while a violation of any size that float64 can see
    above its own rounding still is.
"""

from __future__ import annotations

import torch

from ._errors import InvalidArgument

MODES = ("auto", "exact", "float")


def unit_roundoff(dtype):
    """``u = eps / 2`` for a floating dtype: the largest relative error of one rounding.

    >>> unit_roundoff(torch.float32)
    5.960464477539063e-08
    """
    if not dtype.is_floating_point and not dtype.is_complex:
        raise InvalidArgument(f"dtype={dtype} must be a floating dtype for float-mode tolerances")
    real = {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(dtype, dtype)
    return torch.finfo(real).eps / 2


def gamma(terms, dtype):
    """Higham's ``γ_n = n·u / (1 - n·u)``; raises when ``n·u ≥ 1`` (no meaningful bound).

    >>> round(gamma(9, torch.float64) / unit_roundoff(torch.float64), 6)
    9.0
    """
    if not isinstance(terms, int) or terms < 1:
        raise InvalidArgument(f"terms={terms!r} must be a positive int (number of accumulated terms)")
    nu = terms * unit_roundoff(dtype)
    if nu >= 1:
        raise InvalidArgument(
            f"terms={terms} accumulated in {dtype} give no error bound (n·u = {nu:.2g} ≥ 1); use float64 inputs"
        )
    return nu / (1 - nu)


def float_tolerance(magnitude, terms, dtype):
    """``2 · γ_terms · magnitude``: the float-mode tolerance documented in this module.

    >>> float_tolerance(1.0, 1, torch.float32) == 2 * unit_roundoff(torch.float32) / (1 - unit_roundoff(torch.float32))
    True
    """
    return 2.0 * gamma(terms, dtype) * float(magnitude)


def is_integer_valued(tensor):
    """True when every entry is a finite integer (exact mode is then available for linear layers)."""
    if not tensor.is_floating_point():
        return not tensor.is_complex()
    return bool(torch.isfinite(tensor).all() and torch.equal(tensor, torch.round(tensor)))


def resolve_mode(mode, x, f, actions=()):
    """Turn ``mode="auto"`` into ``"exact"`` when the input and every parameter/buffer are integer-valued
    and every action involved moves values without arithmetic."""
    if mode not in MODES:
        raise InvalidArgument(f"mode={mode!r} must be one of {MODES}")
    if mode != "auto":
        return mode
    if not all(getattr(a, "exact_arithmetic", True) for a in actions):
        return "float"
    if not is_integer_valued(x):
        return "float"
    if isinstance(f, torch.nn.Module):
        tensors = list(f.parameters()) + list(f.buffers())
        if not all(is_integer_valued(t.detach()) for t in tensors if t.is_floating_point()):
            return "float"
    return "exact"
