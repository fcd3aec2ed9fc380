"""One error base class for everything the suite raises on purpose.

Messages follow one pattern: the argument's name, the value it had, and what
would be valid, so a user can fix the call without reading our source.
"""

from __future__ import annotations


class InvarianceError(Exception):
    """Base class of every error raised by convnet-invariances.

    >>> issubclass(InvalidArgument, InvarianceError) and issubclass(LayerError, InvarianceError)
    True
    """


class InvalidArgument(InvarianceError, ValueError):
    """An argument has the wrong type, rank, shape or value.

    >>> from convnet_invariances import flip
    >>> flip("diagonal")
    Traceback (most recent call last):
    convnet_invariances._errors.InvalidArgument: axis='diagonal' must be 'w' (left-right flip) or 'h' (up-down flip)
    """


class LayerError(InvarianceError, RuntimeError):
    """The layer under test raised, returned NaN/inf, the wrong shape, or is non-deterministic.

    >>> import torch
    >>> from convnet_invariances import invariance_error, rot90
    >>> invariance_error(lambda x: x.log(), -torch.ones(1, 1, 2, 2), rot90())
    Traceback (most recent call last):
    convnet_invariances._errors.LayerError: the layer returned NaN or inf for f(x), first at output[0, 0, 0, 0]; ...
    """


class NotAFunction(LayerError):
    """The layer's output for the same input changed between calls: randomness or hidden state."""


class OutputShapeMismatch(LayerError):
    """f(g·x) and ρ(g)·f(x) have different shapes: the claim fails (e.g. scale invariance of a spatial output)."""


class EquivarianceViolation(InvarianceError, AssertionError):
    """A claimed symmetry does not hold; ``.measurement`` holds the evidence of the one check that failed
    (:class:`ClaimsViolated`, raised by ``assert_claims``, holds a whole audit as ``.report`` instead, and its
    ``.measurement`` is None).  A violation sent through pickle (a process pool) keeps its message, with the
    reproduction; its ``.measurement`` is None on the other side.

    >>> import torch
    >>> from convnet_invariances import assert_invariant, CircularShift
    >>> try:
    ...     assert_invariant(torch.nn.Identity(), torch.tensor([[[1., 0.]]]), CircularShift((1,)))
    ... except EquivarianceViolation as violation:
    ...     print(violation.measurement.max_error)
    1.0
    """

    def __init__(self, measurement):
        self.measurement = measurement
        super().__init__()
        self._message: str | None = None

    def __reduce__(self):
        # a process pool sends exceptions back pickled; the measurement holds the layer and a closure that
        # re-runs it, which need not pickle, so the message (with its reproduction) travels alone
        return _violation_from_message, (type(self), str(self))

    def __str__(self) -> str:
        # built when shown, not when raised: the report carries a reproduction that is run once to check it,
        # and a search (Hypothesis shrinking) raises and catches many violations it never shows
        if self._message is None:
            self._message = self.measurement.report()
        return self._message


def _violation_from_message(cls, message: str) -> EquivarianceViolation:
    """An unpickled :class:`EquivarianceViolation`: its message, without the measurement (None)."""
    violation = cls.__new__(cls)
    AssertionError.__init__(violation)
    violation.measurement = None
    violation._message = message
    return violation


def describe_value(value):
    """A short description of a value for error messages (tensors by shape, not contents)."""
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"tensor of shape {tuple(shape)} and dtype {value.dtype}"
    if isinstance(value, (list, tuple, dict)) and len(repr(value)) > 80:
        return f"a {type(value).__name__} of {len(value)} item(s)"
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def require_spatial(x, name="x"):
    """Check that ``x`` is a tensor laid out as (N, C, L) or (N, C, H, W); return its spatial rank."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise InvalidArgument(f"{name}={describe_value(x)} must be a torch.Tensor of shape (N, C, L) or (N, C, H, W)")
    if x.dim() not in (3, 4):
        raise InvalidArgument(
            f"{name} has shape {tuple(x.shape)} (rank {x.dim()}); expected rank 3 (N, C, L) "
            f"or rank 4 (N, C, H, W). Add a batch axis with {name}[None] or a channel axis with {name}[:, None]."
        )
    return x.dim() - 2
