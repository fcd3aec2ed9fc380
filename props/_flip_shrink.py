"""A shrunk input whose prediction a transformation flips: the simplest evidence of a worst case.

:func:`worst_case_accuracy` finds, per image, the smallest element of the orbit that changes the predicted
class.  A natural image shows *that* it flips, not *why*; a shrunk one often does: here the image is made
simpler while ``argmax f(x) ≠ argmax f(g·x)`` keeps holding — pixels set to zero a block at a time (halves,
quarters, … down to single pixels, as delta debugging does), then the survivors rounded to one decimal and
then to integers.  Every step is checked by calling the model, so the result is a true counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._actions import Action
from ._errors import InvalidArgument, LayerError, describe_value, require_spatial
from ._layer_calls import ProtectedLayer
from ._measuring import require_samples
from ._safety import audited_copy, rng_preserved

__all__ = ["FlippingInput", "shrink_flipping_input"]

#: model calls a shrink may spend (each tries one simpler candidate)
SHRINK_CALLS = 400


@dataclass(frozen=True)
class FlippingInput:
    """``x`` (1, C, *S): a simplest input found on which ``element`` changes the predicted class from
    ``before`` to ``after``; ``nonzero`` counts its non-zero values, ``calls`` the model calls spent.

    >>> import torch
    >>> from convnet_invariances import CircularShift
    >>> sign_of_first = lambda t: torch.stack([t[:, 0, 0], -t[:, 0, 0]], dim=1)  # 1-D signals (N, C, L)
    >>> found = shrink_flipping_input(sign_of_first, torch.tensor([[[2.5, 3.0, -1.0]]]), CircularShift((1,)))
    >>> found.x.tolist(), (found.before, found.after)
    ([[[0.0, 0.0, -1.0]]], (0, 1))
    """

    x: torch.Tensor
    element: Action
    before: int
    after: int
    nonzero: int
    calls: int


def shrink_flipping_input(model, x: torch.Tensor, element: Action, *, budget: int = SHRINK_CALLS) -> FlippingInput:
    """Shrink one image ``x`` (1, C, *S) on which ``element`` changes ``model``'s predicted class.

    >>> import torch
    >>> corner = lambda t: torch.stack([t[:, 0, 0, 0], -t[:, 0, 0, 0]], dim=1)  # reads one pixel
    >>> from convnet_invariances import CircularShift
    >>> x = torch.randn(1, 1, 6, 6, generator=torch.Generator().manual_seed(0)) + 0.5
    >>> x[0, 0, 0, 0] = 1.0; x[0, 0, 5, 0] = -1.0
    >>> found = shrink_flipping_input(corner, x, CircularShift((1, 0)))
    >>> found.nonzero <= 2, found.before != found.after
    (True, True)
    """
    if not callable(model):
        raise InvalidArgument(f"model={describe_value(model)} must be a torch.nn.Module or a callable on tensors")
    require_spatial(x, "x")
    if x.shape[0] != 1 or not x.is_floating_point():
        raise InvalidArgument(f"x={describe_value(x)} must be one floating image, shaped (1, C, H, W) or (1, C, L)")
    require_samples(x, "x", ranks=(3, 4))  # and finite
    if not isinstance(element, Action):
        raise InvalidArgument(f"element={describe_value(element)} must be an Action (a group element)")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise InvalidArgument(f"budget={budget!r} must be a positive int (model calls)")
    x = x.detach().clone()
    if isinstance(model, torch.nn.Module):
        with audited_copy(model, probe=x.clone()) as (module, _):
            return _shrink(ProtectedLayer(module), x, element, budget)
    with rng_preserved():
        return _shrink(ProtectedLayer(model), x, element, budget)


def _shrink(layer, x, element, budget):
    calls = 0

    def predicted(t, what):
        scores = layer(t, what)
        if scores.dim() != 2 or not scores.is_floating_point():
            raise LayerError(f"the model returned {describe_value(scores)} for {what}; a classifier must return real "
                             f"class scores of shape (N, K)")
        return int(scores.argmax(dim=1)[0])

    def flips(candidate):
        nonlocal calls
        calls += 2
        with torch.no_grad():
            before = predicted(candidate, "f(x)")
            after = predicted(element(candidate), "f(g·x)")
        return (before, after) if before != after else None

    found = flips(x)
    if found is None:
        raise InvalidArgument(f"element={element!r} does not change the predicted class of x: nothing to shrink")
    flat = x.reshape(-1)
    size = flat.numel()
    block = max(1, size // 2)
    while block >= 1 and calls + 2 <= budget:  # zero blocks of values, halving the block size
        start = 0
        while start < size and calls + 2 <= budget:
            piece = slice(start, min(size, start + block))
            if bool(flat[piece].any()):
                trial = flat.clone()
                trial[piece] = 0
                result = flips(trial.reshape(x.shape))
                if result is not None:
                    flat, found = trial, result
            start += block
        block //= 2
    for decimals in (1, 0):  # simpler values: one decimal, then integers
        if calls + 2 > budget:
            break
        trial = torch.round(flat, decimals=decimals)
        result = flips(trial.reshape(x.shape))
        if result is not None:
            flat, found = trial, result
    shrunk = flat.reshape(x.shape)
    return FlippingInput(shrunk, element, found[0], found[1], int(torch.count_nonzero(shrunk)), calls)
