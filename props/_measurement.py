"""Results of a check: numbers first, and a report that reads like a bug report.

:class:`Measurement` is the evidence for one group element; :class:`OrbitResult`
holds the per-element errors of a whole orbit and turns its worst element
into a Measurement.  The pytest helpers, the CLI and the audit all print the
same ``report()`` text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ._reproduction import reproduction_heading


def describe_layer(f):
    """One line naming the layer: the first line of a module's repr, or a function's qualified name."""
    if isinstance(f, torch.nn.Module):
        text = repr(f).splitlines()[0]
        text = text if len(text) <= 100 else text[:97] + "..."
        return text if text.endswith(")") else f"{type(f).__name__}(...)"
    return getattr(f, "__qualname__", None) or type(f).__name__


@dataclass(frozen=True)
class Measurement:
    """Evidence for ``f(g·x) = ρ(g)·f(x)`` at one group element ``g``.

    ``max_error`` is the largest difference in the layer's own precision and
    ``tolerance`` the rounding bound at the output element that decides the
    verdict; in float mode a twin in another precision (the *arbiter*) re-ran
    the element, and ``twin_error``/``twin_threshold`` are its numbers there
    (see :mod:`convnet_invariances._tolerance`).

    >>> import torch
    >>> from convnet_invariances import equivariance_error, CircularShift
    >>> m = equivariance_error(torch.nn.ReLU(), torch.randn(1, 1, 4), CircularShift((1,)))
    >>> m.holds, m.max_error, m.mode
    (True, 0.0, 'float')
    """

    claim: str
    layer: str
    element: object
    output_element: object
    max_error: float
    tolerance: float
    mode: str
    location: tuple | None
    output_shape: tuple
    input_shape: tuple
    dtype: str
    device: str
    margin: tuple | None = None
    violated: bool = False
    scale: float = 0.0
    twin_error: float | None = None
    twin_threshold: float | None = None
    arbiter: str = ""
    regime: str = ""
    evaluation: str = "batched"
    notes: tuple = field(default_factory=tuple)
    hints: tuple = field(default_factory=tuple)
    #: builds the reproduction on demand (serialising weights and inputs costs more than a measurement)
    reproducer: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def reproduce(self) -> str:
        """A self-contained Python snippet that rebuilds the layer and the input and raises the violation."""
        return self.reproducer() if self.reproducer is not None else ""

    @property
    def holds(self) -> bool:
        """True when the claim holds at this element (after the arbiter, in float mode)."""
        return not self.violated

    @property
    def relative_error(self) -> float:
        """``max_error`` relative to the magnitude of the compared outputs there (0 when both are 0)."""
        return self.max_error / self.scale if self.scale > 0 else self.max_error

    def _where(self):
        if self.location is None:
            return "nowhere (no error)"
        index = ", ".join(map(str, self.location))
        spatial = self.location[2:]
        sizes = self.output_shape[2:]
        if not spatial:
            return f"output[{index}]"
        dist = min(min(i, n - 1 - i) for i, n in zip(spatial, sizes))
        size = "×".join(map(str, sizes))
        place = "on the border" if dist == 0 else f"{dist} pixel(s) from the border"
        return f"output[{index}] (n, c, {'i, j' if len(spatial) == 2 else 'i'}) of {size}, {place}"

    def report(self) -> str:
        """A multi-line report: claim, element, error vs tolerance, location, dtype/device, reproduction."""
        verdict = "holds" if self.holds else "VIOLATED"
        if self.mode == "exact":
            tol = "0 (exact mode: bitwise equality)"
        elif self.tolerance == float("inf"):
            tol = ("none (float mode: n·u ≥ 1 in this precision, so γ_n bounds nothing; the twin's comparison "
                   "decides)")
        else:
            tol = f"{self.tolerance:.3g} (float mode: 2·γ_n·max|output| of that sample and channel)"
        lines = [
            f"{self.claim}: {verdict}",
            f"  layer:      {self.layer}",
            f"  element:    g = {self.element!r};  ρ(g) = {self.output_element!r}",
            f"  max error:  {self.max_error:.6g} (relative {self.relative_error:.3g})   tolerance: {tol}",
            f"  where:      {self._where()}",
            f"  input:      {self.dtype}{list(self.input_shape)} on {self.device}"
            + (f", compared on the interior (margin {self.margin})" if self.margin else ""),
        ]
        if self.mode == "float":
            lines.append(f"  precision:  {self.regime}; arbiter: {self.arbiter}")
        if self.twin_error is not None and self.twin_threshold is not None:
            lines.append(
                f"  twin:       error {self.twin_error:.3g} vs threshold {self.twin_threshold:.3g} "
                + ("(rounding: it changed with precision)" if self.holds else
                   "(a real violation: it did not shrink with precision)")
            )
        for note in self.notes:
            lines.append(f"  note:       {note}")
        for hint in self.hints:
            lines.append(f"  hint:       {hint}")
        if self.violated and self.reproducer is not None:
            snippet = self.reproduce
            lines.append(f"  {reproduction_heading(snippet)}")
            lines += [f"    {line}" for line in snippet.splitlines()]
        return "\n".join(lines)

    def __str__(self):
        return self.report()


class OrbitResult:
    """Per-element errors and verdicts of a check over every element of a finite group (or any list).

    >>> import torch
    >>> from convnet_invariances import orbit_error, Translations, trivial_action
    >>> result = orbit_error(torch.nn.MaxPool1d(2), torch.tensor([[[0., 1., 0., 0.]]]),
    ...                      Translations((4,)), output_action=trivial_action())
    >>> result.errors.tolist(), result.violations()
    ([0.0, 1.0, 1.0, 0.0], [shift(1), shift(2)])
    """

    def __init__(self, group, elements, errors, tolerances, measure, *, violated=None, arbiter="", notes=(),
                 call_batches=None):
        self.group = group
        self.elements = tuple(elements)
        self.errors = errors
        self.tolerances = tolerances
        self._measure = measure
        self.violated = violated if violated is not None else errors > tolerances
        self.arbiter = arbiter
        self.notes = tuple(notes)
        #: per element, the batch size of the call that evaluated it (the input's own, or a chunk's)
        self.call_batches = call_batches

    @property
    def holds(self) -> bool:
        """True when no element violates the claim."""
        return not bool(self.violated.any())

    def violations(self):
        """The elements where the claim is violated, in group order."""
        return [g for g, bad in zip(self.elements, self.violated.tolist()) if bad]

    def _size(self, i):
        """How far element i is from the identity: shift length on the torus, else its rank in group order."""
        g, shape = self.elements[i], getattr(self.group, "shape", None)
        shifts = getattr(g, "shifts", None)
        if shifts is not None and shape is not None and all(isinstance(t, int) for t in shifts):
            return sum(min(t % n, -t % n) for t, n in zip(shifts, shape))
        return i

    def worst_index(self) -> int:
        """The simplest violating element (smallest shift, then largest error); if none, the largest error.

        A bug report should lead with the minimal case, so among violations the
        element closest to the identity wins.
        """
        failing = [i for i, bad in enumerate(self.violated.tolist()) if bad]
        if failing:
            return min(failing, key=lambda i: (self._size(i), -float(self.errors[i])))
        return max(range(len(self.elements)), key=lambda i: (float(self.errors[i]), -i))

    def largest_index(self) -> int:
        """The element with the largest error (which need not be the simplest violation)."""
        return int(torch.argmax(self.errors))

    def measurement(self, index=None) -> Measurement:
        """The full :class:`Measurement` for one element (default: the simplest violation, else the largest error)."""
        return self._measure(self.worst_index() if index is None else index)

    def error_map(self):
        """Errors reshaped to the translation grid (for heatmaps over (dy, dx)), or None for other groups."""
        shape = getattr(self.group, "shape", None)
        stride = getattr(self.group, "stride", 1)
        if shape is None:
            return None
        return self.errors.reshape([n // stride for n in shape])

    def report(self) -> str:
        """Summary line plus the worst element's report."""
        n = len(self.elements)
        bad = int(self.violated.sum())
        head = (
            f"orbit of {self.group!r}: {n} element(s), {bad} violation(s), "
            f"max error {float(self.errors.max()) if n else 0.0:.6g}"
        )
        return head + "\n" + self.measurement().report()

    def __repr__(self):
        return f"OrbitResult({self.group!r}, holds={self.holds}, max_error={float(self.errors.max()):.3g})"


def unravel(flat_index, shape):
    """Index tuple of a flat index into a C-ordered array of ``shape``."""
    index = []
    for n in reversed(shape):
        index.append(flat_index % n)
        flat_index //= n
    return tuple(int(i) for i in reversed(index))
