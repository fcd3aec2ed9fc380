"""Linear certificates: equivariance to the whole translation group from two exact checks per generator.

If a layer is affine (``L + b``), it commutes with every circular shift as
soon as ``L`` commutes with the unit shifts (they generate the group) and
``b`` is itself shift-invariant.  Affinity is *proved* from the traced graph
(:mod:`._linearity`: convolutions, padding, shifts, sums, scaling by
constants …), never inferred from probes — a per-pixel quantiser is linear on
integers and nowhere else.  Given affinity, we check ``L(S_e x) = S_e L(x)``
for each generator ``e`` on random integer inputs in exact arithmetic: if
``L`` does *not* commute with ``S_e``, then ``D = L S_e − S_e L`` is a non-zero
linear map and ``D x = 0`` for ``x`` drawn uniformly from ``R`` integers per
entry has probability at most ``1/R`` (Schwartz–Zippel for the degree-1
polynomial ``(Dx)_i``).  With ``k`` independent draws the bound is ``R^-k``.
Exact arithmetic needs integer-valued parameters and float64 sums below 2^53.

The argument is about the traced graph, so the certificate also makes sure
that calling the module computes that graph and nothing else: no hooks or
replaced methods (:func:`._linearity.untraced_code`), no state that changes
from call to call (parameters, buffers and attributes are compared before the
trace and after the last call), and the module's output equals the graph's,
bitwise, on a non-integer input (a code path the trace missed would show on
fractional values, where integer probes see nothing).
"""

from __future__ import annotations

import collections.abc
import copy
import functools
import types
from dataclasses import dataclass

import numpy
import torch

from ._actions import CircularShift
from ._errors import InvalidArgument, LayerError, describe_value
from ._layer_calls import call_layer
from ._linearity import traced_affine, untraced_code
from ._safety import restored, rng_preserved
from ._tolerance import is_integer_valued

DEFAULT_RANGE = 2**16  # R: inputs drawn from [-R/2, R/2); float64 keeps sums exact for small integer weights
DEFAULT_DRAWS = 2


@dataclass(frozen=True)
class LinearCertificate:
    """The outcome: ``certified`` (with its failure bound) or the reason it could not certify.

    >>> print(LinearCertificate(False, "the layer is not linear"))
    not certified: the layer is not linear
    """

    certified: bool
    reason: str
    failure_bound: float | None = None
    generators: tuple = ()
    forwards: int = 0

    def __str__(self):
        if self.certified:
            return (f"certified: the traced graph is affine and its linear part commutes with the generators "
                    f"{self.generators} of the circular translation group; P(a non-commuting layer passes) ≤ "
                    f"{self.failure_bound:.3g} ({self.forwards} forward passes)")
        return f"not certified: {self.reason}"


def certify_translation_equivariance(module, input_shape, *, value_range=DEFAULT_RANGE, draws=DEFAULT_DRAWS, seed=0):
    """Certify ``f(S_t x) = S_t f(x)`` for *every* circular shift of inputs of ``input_shape`` (C, H, W) or (C, L).

    Needs a module whose ``torch.fx`` graph is affine and whose parameters are integer-valued (exact float64
    arithmetic); runs on a float64 copy in eval mode, so the module itself is untouched.

    >>> import torch
    >>> conv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    >>> _ = conv.weight.data.copy_(torch.randint(-2, 3, conv.weight.shape).float())
    >>> _ = conv.bias.data.fill_(1.0)
    >>> certificate = certify_translation_equivariance(conv, (2, 16, 16))
    >>> certificate.certified, certificate.failure_bound
    (True, 4.656612873077393e-10)
    """
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(f"module={describe_value(module)} must be a torch.nn.Module")
    try:
        shape = tuple(int(n) for n in input_shape)
    except (TypeError, ValueError):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints")
    unseen = untraced_code(module)  # on the module itself too: a class's own __deepcopy__ may leave hooks out
    if unseen:
        return LinearCertificate(False, f"linearity is not proved from the graph: {unseen}")
    if any(t.is_complex() for t in list(module.parameters()) + list(module.buffers())):
        # casting the twin to float64 would drop their imaginary parts: the twin would be another function
        return LinearCertificate(False, "the module has complex parameters or buffers; the certificate's exact "
                                        "arithmetic is real float64")
    with rng_preserved():
        try:
            twin = copy.deepcopy(module)
        except Exception as exc:  # a module that cannot be copied cannot be certified without changing it
            return LinearCertificate(False, f"the module cannot be copied ({type(exc).__name__})")
        try:
            twin = twin.eval().to(torch.float64)
        except Exception as exc:
            return LinearCertificate(False, f"the module cannot be cast to float64 ({type(exc).__name__}: "
                                            f"{str(exc)[:120]})")
        before = _state(twin)
        graph, why = traced_affine(twin)
        if graph is None:
            return LinearCertificate(False, f"linearity is not proved from the graph: {why}")
        changed = _changed(before, _state(twin))
        if changed:  # tracing ran forward's Python code once: it already changed the module
            return LinearCertificate(False, f"the module changes its own state when called ({changed}), so the graph "
                                            f"traced from one call does not describe the next")
        # tensors forward computed while traced (and the graph now holds as constants) count as parameters
        constants = [functools.reduce(getattr, n.target.split("."), graph) for n in graph.graph.nodes
                     if n.op == "get_attr"]
        tensors = [t for t in list(twin.parameters()) + list(twin.buffers()) + constants
                   if isinstance(t, torch.Tensor) and t.is_floating_point()]
        if not all(is_integer_valued(t.detach()) for t in tensors):
            return LinearCertificate(False, "parameters are not integer-valued, so exact arithmetic is not "
                                            "available; the search (audit, orbit_error) checks such layers")
        different = _differs_from_the_module(module, twin, shape, seed)
        if different:
            return LinearCertificate(False, different)
        try:
            certificate = _certify(twin, graph, shape, value_range, draws, seed)
        except LayerError as exc:
            return LinearCertificate(False, f"the layer fails on the certificate's inputs: {exc}")
        changed = _changed(before, _state(twin))
        if changed:
            return LinearCertificate(False, f"the module changes its own state when called ({changed}), so the graph "
                                            f"traced from one call does not describe the next",
                                     forwards=certificate.forwards)
        return certificate


#: how far the module in its own dtype may be from its float64 copy on a fractional input, relative to the
#: output: far above any rounding of an affine map with integer parameters, far below a different code path
NATIVE_AGREEMENT = 1e-3


def _differs_from_the_module(module, twin, shape, seed) -> str:
    """Why the float64 copy the certificate proves is not the module the user runs, or "".

    A module may choose its code path when it is cast (an overridden ``_apply``, a cached kernel): the copy is
    then another function.  On small integers both compute exactly, so they must agree bitwise; on a
    fractional input they must agree far within a different path's error (``NATIVE_AGREEMENT``)."""
    # the module itself, not a copy of it (a forward keyed by the instance runs another path on any copy),
    # in eval mode and restored afterwards
    native = module
    dtypes = [t.dtype for t in list(native.parameters()) + list(native.buffers()) if t.is_floating_point()]
    dtype = dtypes[0] if dtypes else torch.float32
    generator = torch.Generator().manual_seed(seed + 1)
    integers = torch.randint(-2, 3, (1,) + shape, generator=generator).to(torch.float64)
    fractional = torch.randn((1,) + shape, generator=generator, dtype=torch.float64) + 0.25
    with torch.no_grad(), restored(native), rng_preserved():
        native.eval()
        for x, exact in ((integers, True), (fractional, False)):
            try:
                own = call_layer(native, x.to(dtype), "the module in its own dtype").double()
                wide = call_layer(twin, x, "the float64 copy")
            except LayerError as exc:
                return f"the module in its own dtype fails where its float64 copy runs: {exc}"
            if own.shape != wide.shape:
                return f"the module in its own dtype returns {tuple(own.shape)}, its float64 copy {tuple(wide.shape)}"
            gap = float((own - wide).abs().max()) if own.numel() else 0.0
            allowed = 0.0 if exact else NATIVE_AGREEMENT * float(wide.abs().max())
            if gap > allowed:
                return (f"the module in its own dtype ({str(dtype).replace('torch.', '')}) and its float64 copy "
                        f"compute different functions (they differ by {gap:.3g} on "
                        f"{'small integers' if exact else 'a fractional input'}): the copy's certificate would not "
                        f"be about the module")
    return ""


def _certify(twin, graph, shape, value_range, draws, seed):
    generator = torch.Generator().manual_seed(seed)
    forwards = 0
    # the module must compute its traced graph: compared on fractional values, where a term such as
    # M·(x − round x), added by code the trace never saw, is not zero
    fractional = torch.randn((1,) + shape, generator=generator, dtype=torch.float64) * 8 + 0.25
    with torch.no_grad():
        called = call_layer(twin, fractional, "f(x)")
        try:
            traced = graph(fractional.clone())
        except Exception:  # the graph alone fails where the module runs: it is not the module's graph
            traced = None
    forwards += 2
    if not (isinstance(traced, torch.Tensor) and traced.shape == called.shape and torch.equal(traced, called)):
        return LinearCertificate(False, "calling the module computes something else than its traced graph on a "
                                        "non-integer input: code that torch.fx does not see runs on each call",
                                 forwards=forwards)

    def draw():
        return torch.randint(-value_range // 2, value_range // 2, (1,) + shape, generator=generator).double()

    def f(x):
        nonlocal forwards
        forwards += 1
        with torch.no_grad():
            return call_layer(twin, x, "f(x)")

    zero = f(torch.zeros((1,) + shape, dtype=torch.float64))
    # the draws below are single samples: the layer must act on each sample of a batch on its own (a batch
    # mean subtracted, x − x.mean(0), is zero on one sample and not linear-equivariant on two).  A linear map
    # that mixes samples passes this on random integers with chance at most 1/R (Schwartz–Zippel), like the
    # commutation checks.
    first, second = draw(), draw()
    together = f(torch.cat([first, second]))
    alone = torch.cat([f(first), f(second)])
    if together.shape != alone.shape or not torch.equal(together, alone):
        return LinearCertificate(False, "the layer does not act on each sample of a batch on its own (two samples "
                                        "together give other outputs than each alone); the search checks it",
                                 forwards=forwards)
    spatial = len(shape) - 1
    if zero.dim() < 3 or tuple(zero.shape[2:]) != tuple(shape[1:]):
        return LinearCertificate(False, f"the output shape {tuple(zero.shape)} is not the input's spatial shape; "
                                        "certificates cover stride-1 translation equivariance only",
                                 forwards=forwards)
    generators = tuple(tuple(int(i == axis) for i in range(spatial)) for axis in range(spatial))
    for e in generators:
        shift = CircularShift(e)
        if not torch.equal(shift(zero), zero):
            return LinearCertificate(False, f"the constant part f(0) is not invariant to {shift!r}", forwards=forwards)
        for _ in range(draws):
            x = draw()
            lhs, rhs = f(shift(x)) - zero, shift(f(x) - zero)
            if not torch.equal(lhs, rhs):
                return LinearCertificate(False, f"the linear part does not commute with {shift!r} "
                                                f"(max difference {float((lhs - rhs).abs().max()):.3g})",
                                         forwards=forwards)
    bound = len(generators) * float(value_range) ** -draws
    return LinearCertificate(True, "", bound, generators, forwards)


def _state(module: torch.nn.Module) -> list:
    """What a call may change in ``module``: each submodule's parameters, buffers and attributes."""
    return [(name, _picture(vars(m))) for name, m in module.named_modules()]


def _picture(value, depth=0):
    """A comparable picture of a value: tensors (and generators) by content, containers item by item, other
    objects by identity."""
    if isinstance(value, torch.Generator):
        value = value.get_state()
    if isinstance(value, torch.Tensor):
        return ("tensor", value.dtype, tuple(value.shape), value.detach().clone())
    if depth < 4 and isinstance(value, dict):
        return ("dict", [(key, _picture(item, depth + 1)) for key, item in value.items()])
    if depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return (type(value).__name__, [_picture(item, depth + 1) for item in items])
    if isinstance(value, (int, float, complex, str, bytes, bool, type(None), torch.dtype, torch.device)):
        return ("value", value)
    if isinstance(value, numpy.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if depth < 4 and isinstance(value, collections.abc.Collection) and not isinstance(value, torch.nn.Module):
        # any other container (a deque, an array.array): item by item, so appending to it is a change
        return (type(value).__name__, [_picture(item, depth + 1) for item in value])
    fields = getattr(value, "__dict__", None)
    if depth < 4 and type(fields) is dict and not isinstance(value, (torch.nn.Module, type, types.ModuleType,
                                                                     types.FunctionType)):
        # a helper object's own attributes (a counter kept on it); modules are pictured one by one
        return ("dict", [("<id>", ("value", id(value)))] + [(k, _picture(v, depth + 1)) for k, v in fields.items()])
    return ("object", id(value))


def _changed(before: list, after: list) -> str:
    """The first thing that differs between two pictures of a module, in words ("buffer 'calls'"), or ""."""
    if [name for name, _ in before] != [name for name, _ in after]:
        return "its submodules"
    for (name, old), (_, new) in zip(before, after):
        where = _difference(old, new)
        if where is not None:
            kind, _, rest = where.partition(".")
            label = {"_parameters": "parameter", "_buffers": "buffer"}.get(kind)
            if label and rest:
                return f"{label} {(name + '.' if name else '') + rest!r}"
            return f"attribute {(name + '.' if name else '') + where!r}"
    return ""


def _difference(old, new, path=""):
    """The path of the first difference between two pictures ("_buffers.calls"), or None."""
    if old[0] != new[0]:
        return path
    if old[0] == "tensor":
        a, b = old[3], new[3]
        same = old[1:3] == new[1:3] and (torch.equal(a, b) or bool(((a == b) | (a.isnan() & b.isnan())).all()))
        return None if same else path
    if old[0] == "dict":
        if [k for k, _ in old[1]] != [k for k, _ in new[1]]:
            return path
        for (key, a), (_, b) in zip(old[1], new[1]):
            found = _difference(a, b, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
        return None
    if isinstance(old[1], list):  # a container's items (a list, a tuple, a set, a deque …)
        if len(old[1]) != len(new[1]):
            return path
        for i, (a, b) in enumerate(zip(old[1], new[1])):
            found = _difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if old[0] == "ndarray":
        return None if old[1:] == new[1:] else path
    same = old[1] == new[1] or (old[1] != old[1] and new[1] != new[1])  # (NaN equals NaN here)
    return None if same else path
