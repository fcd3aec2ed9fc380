"""Results of a check: numbers first, and a report that reads like a bug report.

:class:`Measurement` is the evidence for one group element; :class:`OrbitResult`
holds the per-element errors of a whole orbit and turns its worst element
into a Measurement.  The pytest helpers, the CLI and the audit all print the
same ``report()`` text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

PITFALL_BORDER = (
    "the error sits {where}. If the layer pads with zeros (or reflect/replicate), translation equivariance "
    "breaks there: the claim can only hold on the interior (pass margin=<receptive-field radius>), or use "
    "padding_mode='circular'."
)
PITFALL_STRIDE = (
    "the output is {factor}× smaller than the input: a stride-{factor} layer is at best equivariant to shifts "
    "in {factor}Z^d, with the output moving by t/{factor}. Use output_action=strided_action({factor}) and "
    "shifts that are multiples of {factor}."
)
PITFALL_TRAIN_MODE = (
    "the layer is in training mode: BatchNorm uses batch statistics and dropout draws random masks, so "
    "outputs depend on the rest of the batch. Call layer.eval() before checking (the audit does this for you)."
)


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
    float64_error: float | None = None
    float64_tolerance: float | None = None
    hints: tuple = field(default_factory=tuple)
    reproduce: str = ""

    @property
    def holds(self):
        """True when the error is within tolerance (after the float64 re-run, in float mode)."""
        if self.max_error <= self.tolerance:
            return True
        return (self.float64_error is not None and self.float64_tolerance is not None
                and self.float64_error <= self.float64_tolerance)

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

    def report(self):
        """A multi-line report: claim, element, error vs tolerance, location, dtype/device, reproduction."""
        verdict = "holds" if self.holds else "VIOLATED"
        if self.mode == "exact":
            tol = "0 (exact mode: bitwise equality)"
        else:
            tol = f"{self.tolerance:.3g} (float mode: 2·γ_n·max|output|, see convnet_invariances._tolerance)"
        lines = [
            f"{self.claim}: {verdict}",
            f"  layer:      {self.layer}",
            f"  element:    g = {self.element!r};  ρ(g) = {self.output_element!r}",
            f"  max error:  {self.max_error:.6g}   tolerance: {tol}",
            f"  where:      {self._where()}",
            f"  input:      {self.dtype}{list(self.input_shape)} on {self.device}"
            + (f", compared on the interior (margin {self.margin})" if self.margin else ""),
        ]
        if self.float64_error is not None:
            lines.append(
                f"  float64:    re-run error {self.float64_error:.3g} vs threshold {self.float64_tolerance:.3g} "
                + ("(rounding: it shrank with precision)" if self.holds else "(a real violation: it did not shrink)")
            )
        for hint in self.hints:
            lines.append(f"  hint:       {hint}")
        if self.reproduce:
            lines.append(f"  reproduce:  {self.reproduce}")
        return "\n".join(lines)

    def __str__(self):
        return self.report()


class OrbitResult:
    """Per-element errors of a check over every element of a finite group (or any list of elements).

    >>> import torch
    >>> from convnet_invariances import orbit_error, Translations, trivial_action
    >>> result = orbit_error(torch.nn.MaxPool1d(2), torch.tensor([[[0., 1., 0., 0.]]]),
    ...                      Translations((4,)), output_action=trivial_action())
    >>> result.errors.tolist(), result.violations()
    ([0.0, 1.0, 1.0, 0.0], [shift(1), shift(2)])
    """

    def __init__(self, group, elements, errors, tolerances, measure, float64_errors=None):
        self.group = group
        self.elements = tuple(elements)
        self.errors = errors
        self.tolerances = tolerances
        self._measure = measure
        self.float64_errors = float64_errors or {}

    def _holds_at(self, i):
        if self.errors[i] <= self.tolerances[i]:
            return True
        rerun = self.float64_errors.get(i)
        return rerun is not None and rerun[0] <= rerun[1]

    @property
    def holds(self):
        """True when every element's error is within tolerance."""
        return all(self._holds_at(i) for i in range(len(self.elements)))

    def violations(self):
        """The elements whose error exceeds the tolerance, in group order."""
        return [g for i, g in enumerate(self.elements) if not self._holds_at(i)]

    def _size(self, i):
        """How far element i is from the identity: shift length on the torus, else its rank in group order."""
        g, shape = self.elements[i], getattr(self.group, "shape", None)
        shifts = getattr(g, "shifts", None)
        if shifts is not None and shape is not None and all(isinstance(t, int) for t in shifts):
            return sum(min(t % n, -t % n) for t, n in zip(shifts, shape))
        return i

    def worst_index(self):
        """The simplest violating element (smallest shift, then largest error); if none, the largest error.

        A bug report should lead with the minimal case, so among violations the
        element closest to the identity wins.
        """
        failing = [i for i in range(len(self.elements)) if not self._holds_at(i)]
        if failing:
            return min(failing, key=lambda i: (self._size(i), -float(self.errors[i])))
        return max(range(len(self.elements)), key=lambda i: (float(self.errors[i]), -i))

    def measurement(self, index=None):
        """The full :class:`Measurement` for one element (default: the worst)."""
        return self._measure(self.worst_index() if index is None else index)

    def error_map(self):
        """Errors reshaped to the translation grid (for heatmaps over (dy, dx)), or None for other groups."""
        shape = getattr(self.group, "shape", None)
        stride = getattr(self.group, "stride", 1)
        if shape is None:
            return None
        return self.errors.reshape([n // stride for n in shape])

    def report(self):
        """Summary line plus the worst element's report."""
        n = len(self.elements)
        bad = len(self.violations())
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
