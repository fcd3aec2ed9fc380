"""Calling the layer under test without letting it corrupt the evidence.

Every call hands the layer a fresh copy of its input (a layer may modify its
input in place: ``ReLU(inplace=True)``, ``x.sub_()``), checks what comes back
(a tensor with the batch axis first, finite values), notes whether the layer
wrote into its input, and copies outputs that are kept (a layer may return
the same buffer on every call, or a view of its input).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from ._errors import LayerError, describe_value
from ._safety import copy_sharing_the_uncopyable, current_context, in_place_audit, laid_out

Describe = str | Callable[[], str]
_COMPLEX = {torch.float64: torch.complex128, torch.float32: torch.complex64}


def _text(what: Describe) -> str:
    return what() if callable(what) else what


class ProtectedLayer:
    """``f`` wrapped so that inputs are copied in, outputs checked (and copied out when kept).

    >>> relu = ProtectedLayer(torch.nn.ReLU(inplace=True))
    >>> x = torch.tensor([[-1.0, 2.0]])
    >>> relu(x, "f(x)").tolist(), x.tolist(), relu.mutates_input
    ([[0.0, 2.0]], [[-1.0, 2.0]], True)
    """

    def __init__(self, f: Callable[[torch.Tensor], torch.Tensor], *, label: str = "the layer") -> None:
        self.f = f
        self.label = label
        self.mutates_input = False
        self.calls = 0

    def __call__(self, x: torch.Tensor, what: Describe, *, keep: bool = False) -> torch.Tensor:
        given = laid_out(x.clone())  # the values of x, laid out in memory as the execution context says
        try:
            y = self.f(given)
        except Exception as exc:  # the user's layer may raise anything; we report it, never hide it
            raise LayerError(
                f"{self.label} raised {type(exc).__name__}: {exc} (while evaluating {_text(what)} on an input of "
                f"shape {tuple(x.shape)} and dtype {x.dtype})"
            ) from exc
        self.calls += 1
        if not self.mutates_input and not _same(given, x):
            self.mutates_input = True
        if not isinstance(y, torch.Tensor):
            raise LayerError(f"{self.label} returned {describe_value(y)} for {_text(what)}; it must return a "
                             f"torch.Tensor")
        if current_context().grad == "grad" and y.requires_grad:
            y = y.detach()  # called with autograd recording (an execution context): the engine only reads values
        if y.dim() == 0 or y.shape[0] != x.shape[0]:
            raise LayerError(
                f"{self.label} returned an output of shape {tuple(y.shape)} for a batch of {x.shape[0]} input(s) "
                f"({_text(what)}); outputs must keep the batch axis first, one row per input — a 0-d output or "
                f"a reduction over the batch cannot be compared sample by sample"
            )
        # a sum is finite when every value is (and far cheaper than isfinite on a CPU); check properly if not
        if (y.is_floating_point() or y.is_complex()) and not bool(torch.isfinite(y.sum())) and \
                not bool(torch.isfinite(y).all()):
            first = [int(i) for i in torch.nonzero(~torch.isfinite(y))[0]]
            raise LayerError(
                f"{self.label} returned NaN or inf for {_text(what)}, first at output{first}; checks need finite "
                f"outputs (look for division by zero, log of 0, or overflow in {y.dtype})"
            )
        return y.clone() if keep or y.data_ptr() == given.data_ptr() else y


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.equal(a, b) or ((a == b) | (a.isnan() & b.isnan())).all())


def cast_twin(f: Callable[[torch.Tensor], torch.Tensor],
              dtype: torch.dtype) -> tuple[Callable[[torch.Tensor], torch.Tensor] | None, str]:
    """A copy of ``f`` computing in ``dtype`` (complex parameters in the matching complex dtype).

    Returns (twin, "") or (None, reason).  A plain function is its own twin: it is called on inputs of the
    twin's dtype.

    >>> twin, reason = cast_twin(torch.nn.Linear(2, 2), torch.float64)
    >>> twin.weight.dtype, reason
    (torch.float64, '')
    """
    if not isinstance(f, torch.nn.Module):
        return f, ""
    complex_dtype = _COMPLEX.get(dtype, torch.complex64)
    try:
        twin = copy.deepcopy(f)
    except Exception as exc:  # modules holding non-leaf tensors (cached filters) refuse to be copied
        try:
            # audited in place (and restored after): the twin may share what cannot be copied (a lock)
            if not in_place_audit():
                raise
            twin = copy_sharing_the_uncopyable(f)
        except Exception:
            return None, f"the layer cannot be copied ({type(exc).__name__}: {str(exc)[:120]})"

    def convert(t: torch.Tensor) -> torch.Tensor:
        if t.is_complex():
            return t.to(complex_dtype)
        if t.is_floating_point():
            return t.to(dtype)
        return t

    try:
        twin._apply(convert)
    except Exception as exc:
        return None, f"the layer's tensors cannot be cast to {dtype} ({type(exc).__name__}: {str(exc)[:120]})"
    return twin, ""


def twin_input(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``x`` in the twin's precision (complex inputs in the matching complex dtype)."""
    if x.is_complex():
        return x.to(_COMPLEX.get(dtype, torch.complex64))
    return x.to(dtype)


def call_layer(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, what: Describe) -> torch.Tensor:
    """One protected call of ``f`` on ``x`` (a copy in, a checked copy out)."""
    return ProtectedLayer(f)(x, what, keep=True)
