"""The tolerance model: when two floating-point results count as equal, and who decides.

Exact mode
    Small integer-valued inputs and weights make convolution, pooling, roll,
    rot90 and flips exact in float32 and float64 (every partial sum is an
    integer below 2^24), so both sides of a claim must agree bitwise: the
    tolerance is 0.  Integer and boolean outputs are always compared exactly.

Float mode: a bound per output element
    Each side of ``f(g·x) = ρ(g)·f(x)`` is computed with its own rounding.  A
    dot product of ``n`` terms carries an error of at most ``γ_n · Σ|a_i b_i|``
    with ``γ_n = n·u / (1 − n·u)`` and ``u`` the unit roundoff (Higham,
    *Accuracy and Stability of Numerical Algorithms*, §3.1).  For a black box we
    cannot form ``Σ|a_i b_i|``; we take as scale the largest magnitude of the two
    compared outputs *within the same sample and channel* — never one global
    maximum, so a loud channel cannot hide a quiet one's error — or the largest
    magnitude of the input sample, when that is larger (a layer that cancels
    large inputs to a small output still rounds at the inputs' size), and as
    ``n`` the number of input values one sample feeds in (a bound on the fan-in
    of any single linear layer).  Both sides can err in opposite directions,
    and gradual underflow adds an absolute error of up to ``u·λ`` per product
    (``λ`` the smallest normal number; Higham §2.4), hence, per output element
    ``i``,

        τ_i = 2 · γ_n · scale_i + 2 · n · u · λ .

    When the output action ρ(g) does arithmetic of its own (a Fourier phase
    ramp, an average) its ``rounding_steps`` are added to ``n``.  When the
    output is stored in a dtype narrower than the input and the parameters (a
    float32 computation returned as ``.half()``), ``u`` is the computation's and
    each side carries one more rounding in the stored dtype ``u_s``:
    ``+ 2·u_s·(1 + γ_n)·scale_i`` (and ``u_s·λ_s`` per side in its subnormal range).

The arbiter: a second precision decides
    The bound above can be too small (cancellation: intermediates far larger
    than the output; deep networks, whose rounding accumulates layer after
    layer) or too large (half precision, where ``n·u`` approaches 1).  So in
    float mode the verdict is not taken from it alone: every element with a
    non-zero error is re-evaluated by a *twin* — the same layer in float64
    (complex parameters in complex128) — on the same inputs.  Rounding shrinks
    with precision, by about ``u_twin / u_layer``; a real violation does not.
    An element is a violation when the layer's error there is non-zero and the
    twin's error is above both the twin's own bound and ``κ`` times the layer's
    rounding in that sample and channel (the larger of its error and its
    distance from the twin's outputs there):

        violated_i  ⇔  e_layer,i > 0  and  e_twin,i > max(τ_twin,i , κ · rounding_layer),
        κ = 2⁹ · u_twin / u_layer

    (2⁹ allows for the two precisions rounding differently; for float32 under
    float64, κ = 2⁻²⁰).  The twin is trusted only after it is shown to compute the
    same function: wherever it differs from the layer by more than the layer's
    own bound ``τ``, the difference must grow when the precision falls — a
    float16 or bfloat16 copy must differ 2⁶ (2⁸) times more, or have lost half
    the output, and every such copy that runs at least 4 times more — as rounding
    does and a different code path (a forward that branches on the dtype,
    parameters that do not survive the cast) does not.
    Otherwise the arbiter is *unavailable*, the report says so, and the verdict
    falls back to the layer's own precision: violated ⇔ ``e_layer,i > τ_i``; if
    that bound is vacuous (``n·u ≥ 1``, half precision on large inputs), the
    claim cannot be judged and the check says so instead of guessing.

    A float64 layer has no wider twin; its arbiter is a float32 twin used the
    other way round (an *amplifier*): the same rule with the roles of the
    precisions exchanged, so a float64 error counts as rounding when the
    float32 computation rounds at least ``1/κ`` times more.

    Limits, stated plainly: a defect present only in the layer's own precision
    (a dtype-specific code path) and smaller than ``τ`` cannot be told from
    rounding by any black-box test; violations below the twin's own rounding
    (about 10⁻¹³ relative in float64) are invisible; and a layer that loses
    everything in half precision (catastrophic cancellation) cannot have its
    twin checked beyond that.

Precision regimes
    On CUDA, float32 convolutions and matrix products may run in TF32 (a
    10-bit mantissa, ``u = 2⁻¹¹``) and autocast runs layers in float16 or
    bfloat16; :func:`precision_regime` reads torch's settings so the layer's
    bound uses the unit roundoff it is really computed with, and reports say
    which regime set it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._errors import InvalidArgument

MODES = ("auto", "exact", "float")

#: the allowance between two precisions' rounding: rounding shrinks by u_twin/u_layer, we demand 2^9 less
SHRINK_ALLOWANCE = 2.0**9


def unit_roundoff(dtype: torch.dtype) -> float:
    """``u = eps / 2`` for a floating dtype: the largest relative error of one rounding.

    >>> unit_roundoff(torch.float32)
    5.960464477539063e-08
    """
    if not dtype.is_floating_point and not dtype.is_complex:
        raise InvalidArgument(f"dtype={dtype} must be a floating dtype for float-mode tolerances")
    real = {torch.complex32: torch.float16, torch.complex64: torch.float32,
            torch.complex128: torch.float64}.get(dtype, dtype)
    return torch.finfo(real).eps / 2


def gamma(terms: int, dtype: torch.dtype | float) -> float:
    """Higham's ``γ_n = n·u / (1 − n·u)``; ``inf`` when ``n·u ≥ 1`` (no meaningful bound).

    ``dtype`` is a floating dtype or a unit roundoff.

    >>> round(gamma(9, torch.float64) / unit_roundoff(torch.float64), 6)
    9.0
    >>> gamma(10**6, torch.float16)
    inf
    """
    if not isinstance(terms, int) or isinstance(terms, bool) or terms < 1:
        raise InvalidArgument(f"terms={terms!r} must be a positive int (number of accumulated terms)")
    u = dtype if isinstance(dtype, float) else unit_roundoff(dtype)
    nu = terms * u
    return float("inf") if nu >= 1 else nu / (1 - nu)


def float_tolerance(magnitude: float, terms: int, dtype: torch.dtype | float) -> float:
    """``2 · γ_terms · magnitude``: the float-mode tolerance of one element, documented in this module.

    >>> float_tolerance(1.0, 1, torch.float32) == 2 * unit_roundoff(torch.float32) / (1 - unit_roundoff(torch.float32))
    True
    """
    g = gamma(terms, dtype)
    return float("inf") if g == float("inf") else 2.0 * g * float(magnitude)


def shrink_factor(u_twin: float, u_layer: float) -> float:
    """``κ``: how much smaller than the layer's error the twin's must be for the difference to be rounding.

    >>> shrink_factor(unit_roundoff(torch.float64), unit_roundoff(torch.float32)) == 2.0**-20
    True
    """
    return SHRINK_ALLOWANCE * u_twin / u_layer


@dataclass(frozen=True)
class PrecisionRegime:
    """The precision a layer's arithmetic really runs in, and why.

    >>> precision_regime(torch.float32, torch.device("cpu"))
    PrecisionRegime(dtype=torch.float32, unit_roundoff=5.960464477539063e-08, reason='float32 on cpu')
    """

    dtype: torch.dtype
    unit_roundoff: float
    reason: str


def precision_regime(dtype: torch.dtype, device: torch.device) -> PrecisionRegime:
    """The effective unit roundoff of floating computations in ``dtype`` on ``device``.

    On CUDA: autocast (when enabled) computes in its half dtype; float32 convolutions and matrix products
    run in TF32 when torch allows it (``torch.backends.cudnn.allow_tf32`` and
    ``torch.backends.cuda.matmul.allow_tf32``), with a 10-bit mantissa.  Elsewhere the dtype's own.
    """
    name = str(dtype).replace("torch.", "")
    if device.type == "cuda":
        if torch.is_autocast_enabled("cuda") and dtype in (torch.float32, torch.float64):
            half = torch.get_autocast_dtype("cuda")
            return PrecisionRegime(half, unit_roundoff(half), f"autocast to {str(half).replace('torch.', '')} on cuda")
        tf32 = torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32
        if dtype == torch.float32 and tf32:
            flags = [flag for flag, on in (("torch.backends.cudnn.allow_tf32", torch.backends.cudnn.allow_tf32),
                                           ("torch.backends.cuda.matmul.allow_tf32",
                                            torch.backends.cuda.matmul.allow_tf32)) if on]
            return PrecisionRegime(dtype, 2.0**-11, f"TF32 (10-bit mantissa) on cuda: {', '.join(flags)} is on")
    if not (dtype.is_floating_point or dtype.is_complex):
        return PrecisionRegime(dtype, 0.0, f"{name}: compared exactly")
    return PrecisionRegime(dtype, unit_roundoff(dtype), f"{name} on {device.type}")


def is_integer_valued(tensor: torch.Tensor) -> bool:
    """True when every entry is a finite integer (exact mode is then available for linear layers).

    >>> is_integer_valued(torch.tensor([1.0, -3.0])), is_integer_valued(torch.tensor([0.5]))
    (True, False)
    """
    if tensor.is_complex():
        return False
    if not tensor.is_floating_point():
        return True
    return bool(torch.isfinite(tensor).all() and torch.equal(tensor, torch.round(tensor)))


def resolve_mode(mode: str, x: torch.Tensor, f: object, actions=()) -> str:
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
        if not all(is_integer_valued(t.detach()) for t in tensors if t.is_floating_point() or t.is_complex()):
            return "float"
    return "exact"


def exact_mode_obstacle(x: torch.Tensor, f: object, device: torch.device | None = None) -> str | None:
    """Why exact mode would not be exact where the layer runs, or None.

    Integer data compares bitwise only when every value and every partial sum is representable.  On CPU
    that is |values| ≤ 2^24 in float32, which the exact pass checks by itself (it falls back to float mode
    at the first difference).  On CUDA two regimes round *before* that: autocast stores every output in
    half precision (an 11- or 8-bit significand), and TF32 rounds the inputs of convolutions and matrix
    products to 11 significant bits, so integers above 2^11 change.  Then exact mode is not used, and this
    reason is reported.

    >>> exact_mode_obstacle(torch.ones(1, 1, 4, 4), None, torch.device("cpu")) is None
    True
    """
    device = x.device if device is None else device
    regime = precision_regime(x.dtype, device)
    if not (x.is_floating_point() and regime.unit_roundoff > unit_roundoff(x.dtype)):
        return None
    if regime.dtype != x.dtype:  # autocast: outputs rounded to the half dtype, whatever the inputs
        return f"{regime.reason}: outputs are rounded to {str(regime.dtype).replace('torch.', '')}, so integer " \
               f"data is not compared bitwise"
    largest = float(x.detach().abs().max()) if x.numel() else 0.0
    if isinstance(f, torch.nn.Module):
        for t in list(f.parameters()) + list(f.buffers()):
            if t.is_floating_point() and t.numel():
                largest = max(largest, float(t.detach().abs().max()))
    exact_up_to = 1.0 / regime.unit_roundoff  # every integer up to 2^p fits a p-bit significand (u = 2^-p)
    if largest > exact_up_to:
        return f"{regime.reason}: integers up to {exact_up_to:.0f} are exact there, these values reach " \
               f"{largest:.0f}"
    return None

