"""What the static certifier knows about one tensor of a traced graph, and how a sliding window changes it.

Every value the graph computes from the input ``x`` gets one of these
abstract values, for one symmetry at a time:

- ``equivariant``: a spatial tensor ``v(x)`` of shape (N, C, *S) with
  ``v(g·x) = g'·v(x)``.  For translations: for every circular shift ``t`` of
  the input in ``lattice·Z`` (per axis), ``v(S_t x)(p) = v(x)(p − t/scale)``
  at every position ``p`` such that ``p`` and ``p − t/scale`` (mod the size)
  both lie at distance ≥ ``margin`` from the border.  For rot90 and flips:
  ``v(g·x) = g·v(x)`` exactly, the channels permuted by ``rep`` ("trivial":
  not at all; "regular": the orientation channels of a P4 feature map cycle);
- ``invariant``: ``v(g·x) = v(x)`` (translations: for ``t`` in ``lattice·Z``);
- ``constant``: does not depend on ``x`` (a parameter, a number);
- ``static``: a Python value computed from shapes only (``x.shape[2]``);
- ``permuted``: the positions of an equivariant map flattened into the axes
  after the first ``keep`` (1: mixed with the channels; 2: on their own):
  the symmetry permutes its entries, so reducing over all of them is
  invariant, and little else is known;
- ``padded``: the input of a convolution or pooling, padded by ``F.pad``:
  the next window op folds the padding into its own geometry;
- ``broken``: every operation is known, and one of them loses the property
  (with the reason and the layer);
- ``unknown``: an operation the certifier does not know.

A **window** is what convolutions and poolings share per spatial axis:
kernel, stride, dilation, the padding read before and after, and how the
padding is filled.  Two facts about windows carry the whole composition:

- translations: output position ``p`` reads input positions
  ``p·s − a + δj`` (``j < k``); a shift by ``τ ∈ sZ`` of the input shifts the
  output by ``τ/s`` exactly when the output size is ``n/s`` and no position
  reads the padding — circular padding reads the input again, so it keeps
  the whole group; any other padding keeps it at distance
  ``⌈(m + a)/s⌉`` (left) and ``⌈(m + 1 + δ(k−1) − a)/s⌉ − 1`` (right) from
  the border, where ``m`` is the margin of the input;
- reflections (flips, and rot90 = transpose ∘ flip): reversing the input
  ``i ↦ n−1−i`` reverses the output exactly when the windows are placed
  symmetrically: ``(n' − 1)·s = n − 1 + 2a − δ(k − 1)``.  With "same"
  padding that is ``s | n − 1`` — odd sizes for stride 2 (every padding mode
  maps to itself under the reversal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

KINDS = ("equivariant", "permuted", "invariant", "constant", "static", "padded", "broken", "unknown")
PADDING_MODES = ("zeros", "circular", "reflect", "replicate")


@dataclass(frozen=True)
class Event:
    """One step of an explanation: what happened at which layer (``kind``: stride, margin, invariant,
    condition, weights, break)."""

    kind: str
    layer: str
    text: str


@dataclass(frozen=True)
class Value:
    kind: str
    shape: tuple | None = None  # the tensor's full shape from shape propagation (batch included); None: not a tensor
    scale: tuple = ()  # translations: per spatial axis, the input shift t moves this tensor by t/scale (Fractions)
    lattice: tuple = ()  # translations: per spatial axis, the shifts kept are multiples of this
    margin: tuple = ()  # translations: per spatial axis, the distance from the border where it holds
    rep: str = "trivial"
    events: tuple = ()
    reason: str = ""
    layer: str = ""
    tensor: object = None  # constants: the tensor itself, where known (a parameter, a buffer)
    beyond: str = ""  # translations: why shifts off the lattice are unknown rather than broken ("" if broken)
    keep: int = 2  # permuted: the leading axes kept (batch, and channels if 2)
    pad: tuple = ()  # padded: ((before, after) per spatial axis, mode)
    source: Value | None = field(default=None, compare=False)

    @property
    def sizes(self) -> tuple:
        return tuple(self.shape[2:]) if self.shape is not None else ()

    def with_events(self, *events: Event) -> Value:
        return replace(self, events=merge_events(self.events, events))


def merge_events(*groups) -> tuple:
    """The events of several branches, each once, in order of first appearance."""
    seen: dict = {}
    for group in groups:
        for event in group:
            seen.setdefault(event, None)
    return tuple(seen)


def unknown(reason: str, layer: str = "") -> Value:
    return Value("unknown", reason=reason, layer=layer)


def broken(reason: str, layer: str, events=()) -> Value:
    return Value("broken", reason=reason, layer=layer, events=tuple(events) + (Event("break", layer, reason),))


def lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


@dataclass(frozen=True)
class Window:
    """One spatial axis of a convolution or pooling: the input is padded by ``before``/``after`` (filled by
    ``mode``), read by ``kernel`` taps ``dilation`` apart, every ``stride``-th position."""

    kernel: int
    stride: int = 1
    dilation: int = 1
    before: int = 0
    after: int = 0
    mode: str = "zeros"

    @property
    def span(self) -> int:
        return self.dilation * (self.kernel - 1)

    def output_size(self, n: int) -> int:
        return (n + self.before + self.after - self.span - 1) // self.stride + 1

    def reads_padding(self, n: int) -> bool:
        """Whether some output position reads a padded position (the input is n long)."""
        last = (self.output_size(n) - 1) * self.stride - self.before + self.span
        return self.before > 0 or last > n - 1

    def symmetric_on(self, n: int) -> bool:
        """Whether reversing the input reverses the output (the windows sit symmetrically about the centre)."""
        return (self.output_size(n) - 1) * self.stride == n - 1 + 2 * self.before - self.span

    def symmetry_rule(self) -> str:
        """The sizes on which :meth:`symmetric_on` holds, in words (for a stride > 1)."""
        if self.stride == 1:
            return "as much padding before as the kernel reaches after"
        offset = (2 * self.before - self.span - 1) % self.stride
        return f"n ≡ {(-offset) % self.stride} mod {self.stride}"

    def describe(self) -> str:
        parts = [f"kernel {self.kernel}"]
        if self.stride > 1:
            parts.append(f"stride {self.stride}")
        if self.dilation > 1:
            parts.append(f"dilation {self.dilation}")
        if self.before or self.after:
            parts.append(f"{self.mode} padding {self.before}/{self.after}" if self.before != self.after
                         else f"{self.mode} padding {self.before}")
        return ", ".join(parts)


def pad_window(window: Window, before: int, after: int, mode: str) -> Window:
    """``window`` applied after an explicit padding of ``before``/``after`` filled by ``mode``: the fill of the
    two paddings differs where both exist, so a mix is filled by zeros unless both say the same.  Two zero (or
    two replicate) paddings are one larger padding; two circular (or reflect) paddings are not: the second wraps
    (mirrors) the already padded tensor, whose period is no longer the input's."""
    if before == after == 0:
        return window
    alone = window.before == window.after == 0
    # two paddings join into one only with the same fill (zeros and zeros): a constant, a pool's own padding
    # (nothing a max picks, or nothing averaged) or any other pair fills the border two ways
    combined = mode if (alone or (window.mode == mode and mode in ("zeros", "replicate"))) else "mixed"
    return replace(window, before=window.before + before, after=window.after + after, mode=combined)


def shift_through(v: Value, windows: tuple, out_sizes: tuple, layer: str, what: str) -> Value:
    """The translation property after a window op (see the module docstring)."""
    scale, lattice, margin, events = [], [], [], []
    for axis, (w, n, n_out) in enumerate(zip(windows, v.sizes, out_sizes)):
        if w.output_size(n) != n_out:
            return unknown(f"{what} at `{layer}` gives size {n_out} where the table computes "
                           f"{w.output_size(n)}", layer)
        if n_out * w.stride != n:
            # usually a violation (the output wraps at another size), but not always: a full convolution summed
            # over the whole map is invariant, and margins can hide the wrap
            return unknown(f"{what} at `{layer}` maps size {n} to {n_out}, not {n}/{w.stride}: a circular shift of "
                           f"its input is no circular shift of its output, and the table does not follow what remains",
                           layer)
        k = v.scale[axis] * w.stride
        lat = lcm(v.lattice[axis], k.numerator)
        m = v.margin[axis]
        # circular padding reads the input again: no border where the input had none
        new_margin = 0 if (w.mode == "circular" and m == 0) else _margin(w, m)
        if lat != v.lattice[axis]:
            events.append(Event("stride", layer, f"stride {w.stride}"))
        if new_margin > -(-m // w.stride):
            events.append(Event("margin", layer, f"{w.mode} padding"))
        scale.append(k)
        lattice.append(lat)
        margin.append(new_margin)
    return replace(v, scale=tuple(scale), lattice=tuple(lattice), margin=tuple(margin),
                   events=merge_events(v.events, events))


def _margin(w: Window, m: int) -> int:
    left = -(-(m + w.before) // w.stride)
    right = -(-(m + 1 + w.span - w.before) // w.stride) - 1
    return max(left, right, 0)


def reflect_through(v: Value, windows: tuple, out_sizes: tuple, layer: str, what: str, square: bool) -> Value:
    """The rot90/flip property after a window op whose kernel is already known to be symmetric."""
    if square and (len(set(windows)) != 1 or len(set(v.sizes)) != 1):
        return broken(f"{what} at `{layer}` treats the two axes differently ({windows[0].describe()} vs "
                      f"{windows[-1].describe()}), so a quarter turn does not commute with it", layer, v.events)
    events = []
    for w, n, n_out in zip(windows, v.sizes, out_sizes):
        if w.output_size(n) != n_out:
            return unknown(f"{what} at `{layer}` gives size {n_out} where the table computes "
                           f"{w.output_size(n)}", layer)
        if not w.symmetric_on(n):
            return broken(f"{what} at `{layer}` ({w.describe()}) on size {n}: its sampling grid is not symmetric "
                          f"about the centre (it needs {w.symmetry_rule()})", layer, v.events)
        if w.stride > 1 or w.before != w.span - w.before:
            events.append(Event("condition", layer, f"{w.describe()}: size {n} → {n_out}, grid symmetric "
                                                    f"({w.symmetry_rule()})"))
    return replace(v, events=merge_events(v.events, events[:1]))
