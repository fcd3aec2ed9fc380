"""Reproductions that run: self-contained Python that rebuilds the layer and the input and raises the violation.

A reproduction is what a report prints under a counterexample, in every
format: the imports, the layer rebuilt (from the audited target
``path/file.py:name`` or ``package.module:name``; else from its importable
class when that rebuilds the same weights; else from its class and its
weights written into the snippet), the exact input (its non-zero values
written out when there are few, else its bytes), and one call that raises
:class:`~convnet_invariances.EquivarianceViolation`.  When the layer cannot be
rebuilt (a lambda, a class defined inside a function, a large model built
with random weights), the snippet says so on the line where the layer would
be built, and everything else still runs once the user puts their layer there.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import io
from dataclasses import dataclass

import torch

from ._safety import rng_preserved

#: inputs with at most this many non-zero values are written out value by value
WRITTEN_OUT = 64
#: tensors and weights up to this many bytes (serialised) are embedded in the snippet
EMBEDDED_BYTES = 256 * 1024


@dataclass(frozen=True)
class LayerCode:
    """The lines that build ``layer`` in a reproduction, and why they cannot, if they cannot."""

    lines: tuple
    missing: str = ""


def layer_code(layer, target: str | None = None, layout: str = "CHW") -> LayerCode:
    """How a reproduction rebuilds ``layer`` (see the module docstring).

    >>> layer_code(torch.nn.Identity()).lines
    ('layer = torch.nn.Identity().eval()',)
    """
    if target is not None:
        lines = ("from convnet_invariances.app import resolve_target",
                 "torch.manual_seed(0)  # the command line builds its target after the same seed",
                 f"layer = resolve_target({target!r}).eval()")
        return LayerCode(lines + _channel_axis(layout))
    rebuilt = _rebuilt_by_class(layer)
    if rebuilt is not None:
        return LayerCode(rebuilt + _channel_axis(layout))
    return LayerCode((f"layer = ...  # put the audited layer here ({_describe(layer)}): {_why_not(layer)}",)
                     + _channel_axis(layout), _why_not(layer))


def _channel_axis(layout):
    if layout != "HW":
        return ()
    return ("_take_hw = layer  # the layer reads (N, H, W): the suite gives it a channel axis, as below",
            "layer = lambda x: (lambda y: y.unsqueeze(1) if y.dim() == 3 else y)(_take_hw(x[:, 0]))")


def _importable(obj):
    """(module, qualified name) when ``obj`` can be imported by name, else None."""
    module_name, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module_name or "<" in name or module_name == "__main__":
        return None
    try:
        found = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return (module_name, name) if found is obj else None


def _module_expression(module):
    """(import lines, expression) that constructs a module of the same kind and shapes (weights aside), or None.

    Importable classes built without arguments, torch's own layers (whose repr is their constructor call),
    and ``torch.nn.Sequential`` of such modules qualify.
    """
    cls = type(module)
    if cls is torch.nn.Sequential:
        parts = [_module_expression(child) for child in module]
        if any(p is None for p in parts):
            return None
        head = tuple(dict.fromkeys(line for p in parts for line in p[0]))
        return head, "torch.nn.Sequential(" + ", ".join(p[1] for p in parts) + ")"
    if getattr(torch.nn, cls.__name__, None) is cls:
        expression = _torch_constructor(module)
        return None if expression is None else ((), expression)
    where = _importable(cls)
    if where is None:
        return None
    try:
        with rng_preserved():
            built = cls()
    except Exception:  # a class that needs arguments cannot be rebuilt from its name
        return None
    module_name, name = where
    return ((f"from {module_name} import {name.split('.')[0]}",), f"{name}()") if _same_shapes(built, module) else None


def _torch_constructor(module):
    """``torch.nn.Name(arg=value, …)`` for one of torch's own layers: each argument of its constructor read back
    from the attribute of the same name (a bias from whether the layer has one); None when that does not build
    a layer of the same shapes."""
    cls = type(module)
    arguments = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "device", "dtype") or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(module, name):
            if parameter.default is parameter.empty:
                return None
            continue
        value = getattr(module, name)
        if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        if isinstance(value, torch.Tensor) or not _literal(value):
            return None
        arguments.append(f"{name}={value!r}")
    expression = f"torch.nn.{cls.__name__}({', '.join(arguments)})"
    try:
        with rng_preserved():
            built = eval(expression, {"torch": torch})  # only literals built above
    except Exception:
        return None
    return expression if _same_shapes(built, module) else None


def _literal(value):
    if isinstance(value, (tuple, list)):
        return all(_literal(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _rebuilt_by_class(layer):
    """Lines that rebuild a module — seeded, or with its weights embedded — or a function by its name; None
    when that does not reproduce what was audited."""
    if not isinstance(layer, torch.nn.Module):
        where = _importable(layer)
        if where is None:
            return None
        return (f"from {where[0]} import {where[1].split('.')[0]}", f"layer = {where[1]}")
    found = _module_expression(layer)
    if found is None:
        return None
    head, build = found
    namespace = {"torch": torch, "inf": float("inf")}
    try:
        for line in head:
            exec(line, namespace)  # noqa: S102 - our own import line, to check the seeded rebuild
        with rng_preserved():
            torch.manual_seed(0)
            fresh = eval(build, namespace)
    except Exception:
        return None
    if _same_state(fresh, layer):
        seeded = ("torch.manual_seed(0)",) if layer.state_dict() else ()
        return head + seeded + (f"layer = {build}.eval()",)
    blob = _serialised(layer.state_dict())
    if blob is None:
        return None
    return head + (f"layer = {build}",
                   f"layer.load_state_dict(torch.load(io.BytesIO(base64.b64decode({blob!r}))))",
                   "layer = layer.eval()")


def _same_shapes(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(
        sa[k].shape == sb[k].shape and sa[k].dtype == sb[k].dtype and torch.equal(sa[k].cpu(), sb[k].cpu())
        for k in sa)


def _serialised(value):
    buffer = io.BytesIO()
    try:
        torch.save(value, buffer)
    except Exception:  # state that does not pickle
        return None
    data = buffer.getvalue()
    return base64.b64encode(data).decode() if len(data) <= EMBEDDED_BYTES else None


def _describe(layer):
    return type(layer).__name__ if isinstance(layer, torch.nn.Module) else getattr(layer, "__qualname__", "a function")


def _why_not(layer):
    if isinstance(layer, torch.nn.Module):
        if _importable(type(layer)) is None:
            return "its class cannot be imported by name (defined inside a function or in __main__)"
        return "its class needs arguments, or its weights are too large to write into the reproduction"
    return "it cannot be imported by name"


def input_code(x: torch.Tensor) -> tuple:
    """Lines that build the input ``x`` exactly: its non-zero values written out, or its bytes.

    >>> x = torch.zeros(1, 1, 2, 2); x[0, 0, 1, 0] = 3.0
    >>> input_code(x)
    ('x = torch.zeros((1, 1, 2, 2), dtype=torch.float32)', 'x[0, 0, 1, 0] = 3.0')
    """
    x = x.detach().cpu()
    nonzero = torch.nonzero(x).tolist()
    if len(nonzero) <= WRITTEN_OUT and not x.is_complex():
        lines = [f"x = torch.zeros({tuple(x.shape)!r}, dtype={x.dtype})"]
        lines += [f"x[{', '.join(map(str, i))}] = {float(x[tuple(i)])!r}" for i in nonzero]
        return tuple(lines)
    blob = _serialised(x.contiguous())
    if blob is None:
        return (f"x = ...  # the input of shape {tuple(x.shape)} ({len(nonzero)} non-zero values) is too large "
                f"to write into the reproduction",)
    return (f"x = torch.load(io.BytesIO(base64.b64decode({blob!r})))  # shape {tuple(x.shape)}, {x.dtype}",)


def call_code(element, output_action, margin, mode) -> str:
    """The call that raises the violation."""
    extra = f", margin={margin!r}" if margin else ""
    if type(output_action).__name__ == "Trivial":
        return f"ci.assert_invariant(layer, x, {element.code()}{extra}, mode={mode!r})"
    return (f"ci.assert_equivariant(layer, x, {element.code()}, output_action={output_action.code()}{extra}, "
            f"mode={mode!r})")


def reproduction(layer, x, element, output_action, *, margin=None, mode="auto", target=None, layout="CHW") -> str:
    """A self-contained snippet that raises the violation of ``element`` on ``x`` (see the module docstring).

    >>> from convnet_invariances import CircularShift, trivial_action
    >>> snippet = reproduction(torch.nn.Identity(), torch.ones(1, 1, 2), CircularShift((1,)), trivial_action())
    >>> snippet.splitlines()[-1]
    'ci.assert_invariant(layer, x, ci.CircularShift((1,)), mode=\\'auto\\')  # raises EquivarianceViolation'
    """
    code = layer_code(layer, target, layout)
    lines = ["import torch", "import convnet_invariances as ci"]
    body = list(code.lines) + list(input_code(x))
    if any("base64" in line for line in body):
        lines = ["import base64", "import io"] + lines
    lines += body + [call_code(element, output_action, margin, mode) + "  # raises EquivarianceViolation"]
    return "\n".join(lines)
