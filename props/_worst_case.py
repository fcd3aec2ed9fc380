"""Exact worst-case accuracy of a classifier over a finite orbit: every element tried, none sampled.

A sample counts as correct in the worst case only when the predicted class is
the true one for *every* element of the group (all circular shifts of the
grid, the four rotations, the flips).  This is the quantity that random-shift
consistency (Zhang 2019) and accuracy on a few transformed copies only
estimate from above.  Alongside it come, per sample, the smallest element
that changes the prediction (shift length on the torus for translations,
otherwise the element's rank in the group's order), and the accuracy at every
element (for heatmaps over shifts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ._actions import Action
from ._errors import InvalidArgument, LayerError, describe_value, require_spatial
from ._groups import FiniteGroup
from ._layer_calls import ProtectedLayer
from ._measuring import require_samples
from ._orbit import DEFAULT_MEMORY_BUDGET, ProgressCallback
from ._safety import audited_copy, evaluation_mode, rng_preserved


@dataclass(frozen=True)
class WorstCaseAccuracy:
    """Accuracy of a classifier over a whole finite orbit.

    ``correct`` is (G, N): whether sample n is classified correctly after
    element g; ``predictions`` (G, N) the predicted classes.  ``flips[n]`` is
    the smallest element whose prediction differs from the prediction on the
    untransformed sample (``None`` when every element keeps it).

    >>> import torch
    >>> from convnet_invariances import worst_case_accuracy, Translations
    >>> mean_then_sign = lambda x: torch.stack([-x.mean((1, 2, 3)), x.mean((1, 2, 3))], dim=1)
    >>> result = worst_case_accuracy(mean_then_sign, torch.randn(8, 1, 4, 4), torch.zeros(8, dtype=torch.long),
    ...                              Translations((4, 4)))
    >>> result.worst_case_accuracy == result.clean_accuracy, result.flips == (None,) * 8
    (True, True)
    """

    group: str
    elements: tuple
    clean_accuracy: float
    worst_case_accuracy: float
    #: share of samples whose prediction is the same for every element (right or wrong)
    orbit_consistency: float
    correct: torch.Tensor = field(repr=False)
    predictions: torch.Tensor = field(repr=False)
    flips: tuple = field(repr=False)
    #: per flip, its size: L1 shift length on the torus for translations, the rank in group order otherwise
    flip_sizes: tuple = field(repr=False)
    _group: object = field(default=None, repr=False, compare=False)

    @property
    def accuracy_per_element(self) -> torch.Tensor:
        """Accuracy after each element, in group order (G,)."""
        return self.correct.float().mean(dim=1)

    def accuracy_map(self) -> torch.Tensor | None:
        """Accuracy per element reshaped to the shift grid (for heatmaps over (dy, dx)), or None for other groups."""
        shape = getattr(self._group, "shape", None)
        stride = getattr(self._group, "stride", 1)
        if shape is None:
            return None
        return self.accuracy_per_element.reshape([n // stride for n in shape])

    def report(self) -> str:
        """Three lines: the orbit, the clean and worst-case accuracy, the typical smallest flip."""
        flipped = [s for s in self.flip_sizes if s is not None]
        line = (f"{len(flipped)} of {len(self.flips)} sample(s) change prediction somewhere on the orbit"
                + (f"; smallest such element of median size {sorted(flipped)[len(flipped) // 2]}" if flipped else ""))
        return "\n".join([
            f"worst case over {self.group} ({len(self.elements)} element(s))",
            f"  accuracy: clean {self.clean_accuracy:.4f}, worst case {self.worst_case_accuracy:.4f}, "
            f"prediction unchanged on the whole orbit for {self.orbit_consistency:.4f}",
            f"  {line}",
        ])


def element_size(group: FiniteGroup, index: int) -> int:
    """How far element ``index`` of ``group`` is from the identity: L1 shift length on the torus, else its rank.

    >>> from convnet_invariances import Translations
    >>> group = Translations((4, 4))
    >>> [element_size(group, i) for i in range(4)]
    [0, 1, 2, 1]
    """
    g, shape = group.elements()[index], getattr(group, "shape", None)
    shifts = getattr(g, "shifts", None)
    if shifts is not None and shape is not None and all(isinstance(t, int) for t in shifts):
        return sum(min(t % n, -t % n) for t, n in zip(shifts, shape))
    return index


def _validate(model, inputs, labels, group, memory_budget, progress):
    if not callable(model):
        raise InvalidArgument(f"model={describe_value(model)} must be a torch.nn.Module or a callable returning "
                              f"class scores (N, K)")
    require_spatial(inputs, "inputs")
    if not inputs.is_floating_point():
        raise InvalidArgument(f"inputs has dtype {inputs.dtype}; it must be a floating tensor (N, C, H, W) or (N, C, L)")
    if inputs.shape[0] == 0:
        raise InvalidArgument("inputs holds no sample (batch size 0); give at least one")
    require_samples(inputs, "inputs", ranks=(3, 4))  # and finite
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point() or \
            labels.is_complex() or labels.dtype == torch.bool:
        raise InvalidArgument(f"labels={describe_value(labels)} must be a 1-D integer tensor of class indices")
    if labels.shape[0] != inputs.shape[0]:
        raise InvalidArgument(f"labels has {labels.shape[0]} entries but inputs has {inputs.shape[0]} samples; "
                              f"give one label per sample")
    if not isinstance(group, FiniteGroup):
        raise InvalidArgument(f"group={describe_value(group)} must be a FiniteGroup such as Translations((H, W)), "
                              f"c4(), d4() or flips()")
    if not len(group):
        raise InvalidArgument(f"group={group!r} has no element")
    for g in group:
        if not isinstance(g, Action):
            raise InvalidArgument(f"group={group!r} holds {describe_value(g)}; each element must be an Action")
    group.validate(inputs.shape, "inputs")
    if not isinstance(memory_budget, int) or isinstance(memory_budget, bool) or memory_budget <= 0:
        raise InvalidArgument(f"memory_budget={memory_budget!r} must be a positive number of bytes")
    if progress is not None and not callable(progress):
        raise InvalidArgument(f"progress={describe_value(progress)} must be None or a callable progress(done, total)")


def _scores(layer: ProtectedLayer, x: torch.Tensor, what: str) -> torch.Tensor:
    scores = layer(x, what, keep=True)
    if scores.dim() != 2 or not (scores.is_floating_point()):
        raise LayerError(f"the model returned {describe_value(scores)} for {what}; a classifier must return real "
                         f"class scores of shape (N, K)")
    return scores


#: samples of the clean batch that are also classified alone, to catch a model that couples a batch's samples
ALONE_CHECKS = 3


def _check_not_coupled(batched: torch.Tensor, reference: torch.Tensor, where: str) -> None:
    """Raise LayerError when class scores of the same samples differ between two batches by more than rounding:
    ``sqrt(eps)`` of the largest score (differences between batch sizes' kernels are a few eps; a model that
    normalises over its batch, or lets one sample steer another, moves scores far more)."""
    eps = torch.finfo(reference.dtype).eps
    bound = eps ** 0.5 * max(1.0, float(reference.abs().max()))
    difference = float((batched.double() - reference.double()).abs().max())
    if difference > bound:
        raise LayerError(
            f"the model is not a function of each sample: {where} (max difference of class scores "
            f"{difference:.3g}, above the rounding bound {bound:.3g}). It couples the samples of a batch (batch "
            f"statistics, a normalisation over the batch, one sample steering another), so an accuracy computed on "
            f"batches of transformed inputs would be an artefact of the batch. Put the model in eval mode, or make "
            f"each prediction depend on its own input only"
        )


def worst_case_accuracy(
    model: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    group: FiniteGroup,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: ProgressCallback | None = None,
) -> WorstCaseAccuracy:
    """Classify every element of ``group`` applied to every sample; the share correct under all of them.

    ``model`` returns class scores (N, K); the predicted class is their
    argmax.  The orbit is evaluated in batched forward passes of whole
    elements, chunked so one chunk of transformed inputs stays within
    ``memory_budget`` bytes (elements that change the input's shape, such as
    :class:`Upscale`, are evaluated one by one); ``progress(done, total)`` is
    called after each chunk.  A module is evaluated in eval mode on a copy, so neither it nor
    the random number generators change.  A model whose class scores for a sample depend on the rest of its
    batch is refused (LayerError): a few samples are also classified alone, and the clean inputs ride along in
    every chunk of the orbit, and their scores must agree with the clean batch's up to rounding.

    >>> import torch
    >>> from convnet_invariances import Translations, c4
    >>> first_pixel = lambda x: torch.stack([x[:, 0, 0, 0] - 0.5, 0.5 - x[:, 0, 0, 0]], dim=1)  # one position
    >>> x = torch.zeros(2, 1, 3, 3); x[:, 0, 0, 0] = 1.0
    >>> result = worst_case_accuracy(first_pixel, x, torch.tensor([0, 0]), Translations((3, 3)))
    >>> result.clean_accuracy, result.worst_case_accuracy, result.flips[0]
    (1.0, 0.0, shift(0, 1))
    """
    _validate(model, inputs, labels, group, memory_budget, progress)
    elements = group.elements()
    x = inputs.detach()
    labels = labels.to(x.device)
    per_element = max(1, x.element_size() * x.numel())
    # every chunk carries the clean inputs once more (the anchor), compared with their scores in the clean batch
    chunk = max(1, min(len(elements), memory_budget // per_element - 1))
    chunks = [list(range(i, min(i + chunk, len(elements)))) for i in range(0, len(elements), chunk)]
    n = x.shape[0]
    alone = sorted({0, n - 1, n // 2})[:ALONE_CHECKS]

    def run(f):
        layer = ProtectedLayer(f, label="the model")
        with evaluation_mode():
            clean_scores = _scores(layer, x, "the untransformed inputs")
            if n > 1:
                for i in alone:
                    _check_not_coupled(clean_scores[i:i + 1],
                                       _scores(layer, x[i:i + 1], f"the untransformed sample {i} alone"),
                                       f"sample {i} classified within the batch of {n} differs from it alone")
            predictions = []
            for done, indices in enumerate(chunks, 1):
                moved = [elements[i](x) for i in indices]
                if all(m.shape == x.shape for m in moved):  # one forward pass for the chunk, the anchor last
                    scores = _scores(layer, torch.cat(moved + [x]), f"elements {elements[indices[0]]!r}…")
                    _check_not_coupled(scores[-n:], clean_scores,
                                       f"the untransformed inputs classified within a batch of {scores.shape[0]} "
                                       f"(a chunk of the orbit) differ from them in their own batch of {n}")
                    predictions.append(scores[:-n].argmax(dim=1).view(len(indices), -1))
                else:  # elements that change the shape (integer rescalings): one pass each
                    predictions += [_scores(layer, m, f"element {elements[i]!r}").argmax(dim=1).view(1, -1)
                                    for i, m in zip(indices, moved)]
                if progress is not None:
                    progress(done, len(chunks))
        return clean_scores.argmax(dim=1), torch.cat(predictions)

    if isinstance(model, torch.nn.Module):
        with audited_copy(model) as (copy, _):
            clean, predictions = run(copy)
    else:
        with rng_preserved():
            clean, predictions = run(model)
    correct = predictions == labels.view(1, -1)
    changed = predictions != clean.view(1, -1)
    sizes = [element_size(group, i) for i in range(len(elements))]
    flips, flip_sizes = [], []
    for n in range(x.shape[0]):
        where = torch.nonzero(changed[:, n]).flatten().tolist()
        if where:
            first = min(where, key=lambda i: (sizes[i], i))
            flips.append(elements[first])
            flip_sizes.append(sizes[first])
        else:
            flips.append(None)
            flip_sizes.append(None)
    return WorstCaseAccuracy(
        group=repr(group),
        elements=elements,
        clean_accuracy=float((clean == labels).float().mean()),
        worst_case_accuracy=float(correct.all(dim=0).float().mean()),
        orbit_consistency=float((~changed).all(dim=0).float().mean()),
        correct=correct.cpu(),
        predictions=predictions.cpu(),
        flips=tuple(flips),
        flip_sizes=tuple(flip_sizes),
        _group=group,
    )
