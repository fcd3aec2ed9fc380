"""Which layer breaks a violated claim: every submodule judged on the activations it actually receives.

The failing example is replayed twice, on ``x`` and on ``g·x``, with every
submodule's input and output recorded.  At each activation the group
element acts at that activation's own resolution (a shift by ``t`` of the
input is a shift by ``t·n/N`` of an activation of size ``n``; a rotation or
a flip is itself; a flat activation is left as it is: invariance).  A
submodule *keeps* the symmetry on this example when its input on ``g·x`` is
the acted input on ``x`` and its output is the acted output; it *breaks* it
when its input is related that way and its output is not (or its output
grid cannot follow the element: a shift by 1 before a stride 2).  The
culprit is the first breaking submodule in forward order that contains no
breaking submodule of its own: the most specific layer where the symmetry
is lost.  The whole module is judged with the claim's own output action.

Comparisons are exact for integer inputs and weights; otherwise an element
is kept within the float tolerance of :mod:`._tolerance` (rounding only).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field

import torch

from ._actions import CircularShift, Dihedral, Identity, ZeroShift
from ._errors import InvalidArgument
from ._measuring import check_culprit_arguments
from ._safety import rng_preserved
from ._tolerance import float_tolerance


@dataclass(frozen=True)
class Culprit:
    """The first layer (qualified name) that breaks a violated claim on its counterexample.

    >>> Culprit("blocks.0.conv1", "violated", 2.0).to_dict()
    {'layer': 'blocks.0.conv1', 'verdict': 'violated', 'max_error': 2.0}
    """

    layer: str
    verdict: str
    max_error: float
    detail: str = ""

    def to_dict(self) -> dict:
        return {"layer": self.layer, "verdict": self.verdict, "max_error": self.max_error}


def _tensors(value) -> list:
    """Every tensor in a call's arguments or output (tuples, lists and dict values, recursively), in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


@dataclass
class _Call:
    """One call of a submodule: its tensors, copied when they were passed (an in-place layer cannot rewrite
    them afterwards), and when it started and ended (a call nested in another ran inside it)."""

    name: str
    index: int  # the how-many-th call of this submodule
    inputs: list
    start: int
    outputs: list = field(default_factory=list)
    end: int = -1
    arguments: tuple = ((), {})  # (args, kwargs) as passed, tensors copied: for a float64 replay


def _map_tensors(value, fn):
    """``value`` with ``fn`` applied to every tensor in it (in plain tuples, lists and dicts)."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, list) or type(value) is tuple:
        return type(value)(_map_tensors(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    return value


def _copied(value):
    """``value`` with every tensor in it detached and copied."""
    return _map_tensors(value, lambda t: t.detach().clone())


def _in_float64(value):
    return _map_tensors(value, lambda t: t.double() if t.is_floating_point() else t)


def _record(module, x) -> list[_Call]:
    """Every call of every submodule on ``x`` (the root included), in the order the calls started."""
    calls: list[_Call] = []
    open_calls: dict = {}
    clock = [0]

    def tick() -> int:
        clock[0] += 1
        return clock[0]

    def pre(name):
        def mark(m, args, kwargs):
            index = sum(1 for c in calls if c.name == name)
            arguments = (_copied(args), _copied(kwargs))
            call = _Call(name, index, _tensors(arguments), tick(), arguments=arguments)
            calls.append(call)
            open_calls.setdefault(name, []).append(call)
        return mark

    def post(name):
        def record(m, args, kwargs, output):
            call = open_calls[name].pop()
            call.outputs, call.end = [t.detach().clone() for t in _tensors(output)], tick()
        return record

    with contextlib.ExitStack() as hooks, torch.no_grad():  # a hook handle removes itself on exit
        for name, m in module.named_modules():
            hooks.enter_context(m.register_forward_pre_hook(pre(name), with_kwargs=True))
            hooks.enter_context(m.register_forward_hook(post(name), with_kwargs=True))
        module(x)
    return calls


def whole_resampling(sizes, input_sizes) -> bool:
    """Whether a grid of ``sizes`` is a whole resampling of the input's (each axis the same size, or a whole
    multiple or divisor of it): only then does a translation of the input move it by a known amount.  A padded
    or cropped map (12 → 16) moves by none."""
    return all(big % n == 0 or n % big == 0 for n, big in zip(sizes, input_sizes))


#: why ``acted`` gives no tensor: the element's action on this grid is not a grid action (a shift by 1 after a
#: stride 2: the grid cannot follow — a break), or this activation's geometry is not known (a padded or
#: cropped map, another number of axes, a non-square map under rot90: no verdict here)
CANNOT_FOLLOW, UNKNOWN = "cannot follow", "unknown"


def acted(element, a, input_spatial):
    """``element`` acting on activation ``a`` at its own resolution, or the reason it cannot
    (:data:`CANNOT_FOLLOW` or :data:`UNKNOWN`)."""
    if a is None or not a.is_floating_point() and not a.is_complex():
        return UNKNOWN
    if a.dim() < 3 or isinstance(element, Identity) or all(n == 1 for n in a.shape[2:]):
        return a  # a flat (or 1×1) activation: invariance
    spatial = tuple(a.shape[2:])
    if len(spatial) != len(input_spatial):
        return UNKNOWN
    if type(element) in (CircularShift, ZeroShift):
        if not whole_resampling(spatial, input_spatial):
            return UNKNOWN  # padded or cropped: it moves by no fixed amount
        shifts = []
        for t, n, big in zip(element.shifts, spatial, input_spatial):
            if (t * n) % big:
                return CANNOT_FOLLOW
            shifts.append(t * n // big)
        return type(element)(tuple(shifts))(a)
    if type(element) is Dihedral:
        if element.k % 2 and spatial[0] != spatial[-1]:
            return UNKNOWN
        return element(a)
    return UNKNOWN


def _error(expected, got):
    if not isinstance(expected, torch.Tensor) or got is None or expected.shape != got.shape:
        return float("inf")
    return float((expected.double() - got.double()).abs().max()) if expected.numel() else 0.0


def _kept(expected, got) -> tuple[bool | None, float]:
    """Whether ``got`` is ``expected`` up to rounding, and the largest difference.  The rounding bound is taken
    per channel (a loud channel must not hide a quiet one's break).  None: undecided — the precision bounds
    nothing at this size (bfloat16 over 256 terms), so the difference may be rounding or a break."""
    error = _error(expected, got)
    if error == 0.0:
        return True, 0.0
    if error == float("inf"):
        return False, error
    terms = max(1, expected[0].numel())
    if expected.dim() < 2:
        scale = torch.maximum(expected.abs().max(), got.abs().max()).double()
        bound = float_tolerance(float(scale), terms, got.dtype)
        return (None if bound == float("inf") else error <= bound), error
    magnitude = torch.maximum(expected.abs(), got.abs()).double()
    per_channel = magnitude.transpose(0, 1).reshape(magnitude.shape[1], -1).amax(dim=1)
    bound = float_tolerance(1.0, terms, got.dtype)
    if bound == float("inf"):
        return None, error
    shape = (1, -1) + (1,) * (expected.dim() - 2)
    difference = (expected.double() - got.double()).abs()
    return bool((difference <= bound * per_channel.reshape(shape)).all()), error


def _some_shift_or_turn(a, b, element):
    """The circular shift (for a shift) or dihedral element (for a rotation or flip) of ``a``'s own grid that
    moves ``a`` to ``b``, or None: the activation moved, just not as the input did (a transpose, a permuted
    axis), which is no break by itself."""
    if a.shape != b.shape or a.dim() < 3:
        return None
    if isinstance(element, Dihedral):
        square = a.dim() == 4 and a.shape[-1] == a.shape[-2]
        turns = range(4) if a.dim() == 4 else range(1)  # on (N, C, L) signals only the flip acts
        candidates = [Dihedral(k, flip) for k in turns for flip in (False, True) if square or k % 2 == 0]
        return next((g for g in candidates if _kept(g(a), b)[0]), None)
    dims = tuple(range(2, a.dim()))
    correlation = torch.fft.ifftn(torch.fft.fftn(b.double(), dim=dims) * torch.fft.fftn(a.double(), dim=dims).conj(),
                                  dim=dims).real.sum(dim=(0, 1))
    best = tuple(int(i) for i in torch.unravel_index(correlation.argmax(), correlation.shape))
    shift = CircularShift(best)
    return shift if _kept(shift(a), b)[0] else None


def _moved_otherwise(call, a, b, element, input_spatial) -> bool:
    """Whether output ``b`` is ``a`` moved by a shift or turn of its own grid other than the element's (a
    transpose): no break by itself.  Not moving at all is no such motion: an output that stays put while its
    input moves (or that moves while its input stays put) breaks the relation."""
    found = _some_shift_or_turn(a, b, element)
    if found is None or _is_identity(found):
        return False
    return any(isinstance(e := acted(element, t, input_spatial), torch.Tensor) and not torch.equal(e, t)
               for t in call.inputs)


def _is_identity(g) -> bool:
    if isinstance(g, CircularShift):
        return not any(g.shifts)
    return isinstance(g, Dihedral) and g.k % 4 == 0 and not g.reflect


def find_culprit(module: torch.nn.Module, x: torch.Tensor, element, output_action=None) -> Culprit | None:
    """The first submodule of ``module`` that breaks ``f(g·x) = ρ(g)·f(x)`` for ``g = element`` on ``x``, or None
    (no submodule breaks it on its own, or the module cannot be copied).  ``module`` is not changed: a deep copy
    is replayed.

    >>> import torch
    >>> import convnet_invariances as ci
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
    ...                           torch.nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode="circular"))
    >>> ci.find_culprit(net, torch.randn(1, 1, 8, 8), ci.CircularShift((0, 1))).layer
    '1'
    """
    check_culprit_arguments(module, x, element, output_action)
    try:
        with rng_preserved():
            twin = copy.deepcopy(module)
    except Exception:
        return None
    input_spatial = tuple(x.shape[2:])
    with rng_preserved():
        try:
            on_x, on_gx = _record(twin, x.clone()), _record(twin, element(x.clone()))
        except Exception:
            return None
    if output_action is not None:  # ρ(g) must act on the module's own output: else it is a usage error
        rho = output_action(element)
        for call in on_x:
            if call.name == "":
                for out in call.outputs:
                    if isinstance(out, torch.Tensor):
                        try:
                            rho.validate(tuple(out.shape), "the module's output")
                        except InvalidArgument as exc:
                            raise InvalidArgument(f"output_action={output_action!r}: {exc}") from None
    moved = {(c.name, c.index): c for c in on_gx}
    breaking: list[tuple[_Call, Culprit]] = []
    for call in on_x:
        other = moved.get((call.name, call.index))
        if other is None or len(other.inputs) != len(call.inputs) or len(other.outputs) != len(call.outputs):
            continue
        motion = _received_motion(call, other, element, input_spatial)
        if motion is None:
            continue  # what it receives is already off (or of unknown geometry): judged elsewhere
        culprit = _judge_outputs(call, other, element, motion, input_spatial,
                                 output_action if call.name == "" else None, call.name or type(module).__name__,
                                 replay=lambda c, o: _float64_replay(twin, c, o))
        if culprit is not None:
            breaking.append((call, culprit))
    for call, culprit in breaking:  # the first, in start order, that no breaking call ran inside of
        if not any(inner.start > call.start and inner.end < call.end for inner, _ in breaking):
            return culprit
    return None


def _received_motion(call, other, element, input_spatial):
    """How the tensors the call receives on ``g·x`` relate to those on ``x``: ``element`` when each is the
    acted tensor or the same in both runs (a constant argument such as a positional table); the shift or turn
    of the activation's own grid when they all moved by that instead (after a transpose); None when what it
    receives is already off (judged elsewhere).  At least one tensor must move with the input."""
    motion, moving = element, 0
    for a, b in zip(call.inputs, other.inputs):
        expected = acted(motion, a, input_spatial) if motion is element else motion(a) if a.shape == b.shape else None
        if isinstance(expected, torch.Tensor) and _kept(expected, b)[0]:
            moving += 1
        elif a.shape == b.shape and torch.equal(a, b):
            continue
        elif motion is element and moving == 0 and (found := _some_shift_or_turn(a, b, element)) is not None \
                and not _is_identity(found):
            motion, moving = found, 1
        else:
            return None
    return motion if moving else None


def _float64_replay(twin, call, other):
    """The call's outputs on ``x`` and on ``g·x`` recomputed by a float64 copy of its module from float64 copies
    of what it received, or None (the module cannot be copied or run so).  Where the layer's own precision
    bounds nothing (bfloat16 over 256 terms), its float64 twin decides, as in the audit."""
    try:
        with rng_preserved(), torch.no_grad():
            module = copy.deepcopy(twin.get_submodule(call.name)).double()
            outputs = [_tensors(module(*_in_float64(c.arguments[0]), **_in_float64(c.arguments[1])))
                       for c in (call, other)]
    except Exception:
        return None
    if any(len(o) != len(call.outputs) for o in outputs):
        return None
    return outputs


def _judge_outputs(call, other, element, motion, input_spatial, output_action, label, replay=None) -> Culprit | None:
    """A :class:`Culprit` when some output of the call breaks the relation its inputs kept, else None."""
    replayed: list = []  # the float64 replay's outputs on x and on g·x, once it has run
    for index, (a, b) in enumerate(zip(call.outputs, other.outputs)):
        if output_action is not None:
            expected = output_action(element)(a)
        elif motion is element:
            expected = acted(element, a, input_spatial)
        else:  # the inputs moved on their own grid: an output on that grid moves the same way
            expected = motion(a) if a.shape == call.inputs[0].shape else UNKNOWN
        if expected is UNKNOWN:
            continue  # its geometry is not known: a later layer is judged instead
        if expected is CANNOT_FOLLOW:
            if not _moved_otherwise(call, a, b, element, input_spatial):
                return Culprit(label, "violated", _error(a, b), "its output grid cannot follow the element")
            continue
        kept, error = _kept(expected, b)
        if kept is None and replay is not None and motion is element:  # undecided here: the float64 twin decides
            replayed = replayed or list(replay(call, other) or ([], []))
            if index < len(replayed[0]):
                a64, b64 = replayed[0][index], replayed[1][index]
                expected64 = output_action(element)(a64) if output_action is not None else \
                    acted(element, a64, input_spatial)
                if isinstance(expected64, torch.Tensor):
                    kept = _kept(expected64, b64)[0]
        if kept is False and error > 0 and (output_action is not None or
                                            not _moved_otherwise(call, a, b, element, input_spatial)):
            return Culprit(label, "violated", error)
    return None
