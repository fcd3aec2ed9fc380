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
from dataclasses import dataclass

import torch

from ._actions import CircularShift, Dihedral, Identity, ZeroShift
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


def _first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((v for v in value if isinstance(v, torch.Tensor)), None)
    return None


def _record(module, x):
    """{qualified name: (input, output)} of each submodule's first call on ``x``, and the names in call order."""
    seen: dict = {}
    order: list = []

    def hook(name):
        def record(m, args, output):
            if name not in seen:
                seen[name] = (_first_tensor(args), _first_tensor(output))
        return record

    def pre(name):
        def mark(m, args):
            if name not in order:
                order.append(name)
        return mark

    with contextlib.ExitStack() as hooks, torch.no_grad():  # a hook handle removes itself on exit
        for name, m in module.named_modules():
            hooks.enter_context(m.register_forward_pre_hook(pre(name)))
            hooks.enter_context(m.register_forward_hook(hook(name)))
        module(x)
    return seen, order


def acted(element, a, input_spatial):
    """``element`` acting on activation ``a`` at its own resolution; None when it cannot act there."""
    if a is None or not a.is_floating_point() and not a.is_complex():
        return None
    if a.dim() < 3 or isinstance(element, Identity):
        return a
    spatial = tuple(a.shape[2:])
    if len(spatial) != len(input_spatial):
        return None
    if type(element) in (CircularShift, ZeroShift):
        shifts = []
        for t, n, big in zip(element.shifts, spatial, input_spatial):
            if (t * n) % big:
                return None
            shifts.append(t * n // big)
        return type(element)(tuple(shifts))(a)
    if type(element) is Dihedral:
        if element.k % 2 and spatial[0] != spatial[-1]:
            return None
        return element(a)
    return None


def _error(expected, got):
    if expected is None or got is None or expected.shape != got.shape:
        return float("inf")
    return float((expected.double() - got.double()).abs().max()) if expected.numel() else 0.0


def _kept(expected, got) -> tuple[bool, float]:
    error = _error(expected, got)
    if error == 0.0:
        return True, 0.0
    if error == float("inf"):
        return False, error
    scale = float(torch.maximum(expected.abs().max(), got.abs().max()))
    return error <= float_tolerance(scale, max(1, expected[0].numel()), got.dtype), error


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
    check_culprit_arguments(module, x, element)
    try:
        with rng_preserved():
            twin = copy.deepcopy(module)
    except Exception:
        return None
    input_spatial = tuple(x.shape[2:])
    with rng_preserved():
        try:
            on_x, order = _record(twin, x.clone())
            on_gx, _ = _record(twin, element(x.clone()))
        except Exception:
            return None
    children = {name: [other for other in order if other.startswith(f"{name}.") or (name == "" and other)]
                for name in order}
    breaking: dict = {}
    for name in order:
        if name not in on_gx:
            continue
        (in_x, out_x), (in_gx, out_gx) = on_x[name], on_gx[name]
        before = acted(element, in_x, input_spatial)
        if before is None or not _kept(before, in_gx)[0]:
            continue  # what it receives is already off: judged elsewhere
        if name == "" and output_action is not None:
            after = output_action(element)(out_x) if out_x is not None else None
        else:
            after = acted(element, out_x, input_spatial)
        if after is None:
            breaking[name] = Culprit(name or type(module).__name__, "violated", _error(out_x, out_gx),
                                     "its output grid cannot follow the element")
            continue
        kept, error = _kept(after, out_gx)
        if not kept:
            breaking[name] = Culprit(name or type(module).__name__, "violated", error)
    for name in order:
        if name in breaking and not any(child in breaking for child in children[name]):
            return breaking[name]
    return None
