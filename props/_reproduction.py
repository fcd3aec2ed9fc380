"""Reproductions that run: self-contained Python that rebuilds the layer and the input and raises the violation.

A reproduction is what a report prints under a counterexample, in every
format: the imports, the layer rebuilt (from the audited target
``path/file.py:name`` or ``package.module:name`` when that rebuilds exactly
its weights after ``torch.manual_seed(0)``; else from its importable
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
import contextvars
import importlib
import inspect
import io
from dataclasses import dataclass

import torch

from ._errors import EquivarianceViolation
from ._safety import rng_preserved
from ._targets import rebuilds, target_of

#: the comment on the line where a layer that cannot be rebuilt goes
PLACEHOLDER = "put the audited layer here"
#: inputs with at most this many non-zero values are written out value by value
WRITTEN_OUT = 64
#: tensors and weights up to this many bytes (serialised) are embedded in the snippet
EMBEDDED_BYTES = 256 * 1024


@dataclass(frozen=True)
class LayerCode:
    """The lines that build ``layer`` in a reproduction, and why they cannot, if they cannot."""

    lines: tuple
    missing: str = ""


def layer_code(layer, target: str | None = None, layout: str = "CHW", target_path: str | None = None,
               eval_mode: bool | None = None) -> LayerCode:
    """How a reproduction rebuilds ``layer`` (see the module docstring): the first of :func:`layer_codes`.

    >>> layer_code(torch.nn.Identity()).lines
    ('layer = torch.nn.Identity().eval()',)
    """
    return next(iter(layer_codes(layer, target, layout, target_path, eval_mode)))


def layer_codes(layer, target=None, layout="CHW", target_path=None, eval_mode=None):
    """Every way a reproduction can rebuild ``layer``, best first, ending with the placeholder that says why it
    cannot; in eval mode unless ``eval_mode`` is False (default: the mode ``layer`` is in)."""
    if eval_mode is None:
        eval_mode = not (getattr(layer, "training", False) and _mode_matters(layer))
    mode = ".eval()" if eval_mode else ".train()"
    known = target_of(layer)
    if target is None and known is not None:
        target, target_path = known
    if target is not None and isinstance(layer, torch.nn.Module) and rebuilds(layer, target, target_path):
        folder = "" if target_path is None else f", folder={target_path!r}"
        lines = ("torch.manual_seed(0)  # the target built after this seed has the audited weights (checked)",
                 f"layer = ci.resolve_target({target!r}{folder}){mode}")
        yield LayerCode(lines + _channel_axis(layout))
    rebuilt = _rebuilt_by_class(layer, mode)
    if rebuilt is not None:
        yield LayerCode(rebuilt + _channel_axis(layout))
    why = _why_not(layer) if rebuilt is None else ("rebuilt from its class it does not reproduce the violation "
                                                   "(state outside its parameters and buffers?)")
    yield LayerCode((f"layer = ...  # {PLACEHOLDER} ({_describe(layer)}): {why}",)
                    + _channel_axis(layout), why)


#: torch layers that behave differently in training mode
_MODAL = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.instancenorm._InstanceNorm,
          torch.nn.modules.dropout._DropoutNd, torch.nn.RReLU)


def _mode_matters(layer) -> bool:
    """Whether training mode can change what ``layer`` computes: a torch layer that behaves differently, or custom
    code that may read ``self.training``."""
    return any(isinstance(m, _MODAL) or not type(m).__module__.startswith("torch.nn") for m in layer.modules())


def _channel_axis(layout):
    if layout != "HW":
        return ()
    return ("_take_hw = layer  # the layer reads (N, H, W): the suite gives it a channel axis, as below",
            "layer = lambda x: (lambda y: y.unsqueeze(1) if y.dim() == 3 else y)(_take_hw(x[:, 0]))")


def _importable(obj):
    """(module, qualified name) when ``obj`` can be imported by name, else None; the shortest public package
    that re-exports it is preferred (``convnet_invariances.models``, not ``convnet_invariances.models._conv``)."""
    module_name, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module_name or "<" in name or module_name == "__main__":
        return None
    parts = module_name.split(".")
    candidates = [".".join(parts[:i]) for i in range(1, len(parts)) if not parts[i - 1].startswith("_")]
    for candidate in candidates + [module_name]:
        try:
            found = importlib.import_module(candidate)
            for part in name.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            continue
        if found is obj:
            return candidate, name
    return None


def _module_expression(module):
    """(import lines, expression) that constructs a module of the same kind and shapes (weights aside), or None.

    Torch's own layers and importable classes whose constructor arguments are kept as attributes of the same
    names (a class without arguments among them), and ``torch.nn.Sequential`` of such modules qualify.
    """
    cls = type(module)
    if cls is torch.nn.Sequential:
        parts = [_module_expression(child) for child in module]
        if any(p is None for p in parts):
            return None
        head = tuple(dict.fromkeys(line for p in parts for line in p[0]))
        return head, "torch.nn.Sequential(" + ", ".join(p[1] for p in parts) + ")"
    if getattr(torch.nn, cls.__name__, None) is cls:
        expression = _constructor(module, f"torch.nn.{cls.__name__}", {"torch": torch})
        return None if expression is None else ((), expression)
    where = _importable(cls)
    if where is None:
        return None
    module_name, name = where
    head = (f"from {module_name} import {name.split('.')[0]}",)
    namespace: dict = {"torch": torch}
    try:
        exec(head[0], namespace)  # noqa: S102 - an import line built from the class's own module and name
    except Exception:
        return None
    expression = _constructor(module, name, namespace)
    return None if expression is None else (head, expression)


def _constructor(module, callee, namespace):
    """``callee(arg=value, …)``: each argument of the class's constructor read back from the attribute of the same
    name (a bias from whether the layer has one), as torch's layers and many user classes keep them; None when
    an argument cannot be read back as a literal or the call does not build a module of the same shapes."""
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
    expression = f"{callee}({', '.join(arguments)})"
    try:
        with rng_preserved():
            built = eval(expression, dict(namespace))  # only literals read back above
    except Exception:
        return None
    return expression if type(built) is cls and _same_shapes(built, module) else None


def _literal(value):
    if isinstance(value, (tuple, list)):
        return all(_literal(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _rebuilt_by_class(layer, mode=".eval()"):
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
    floating = [t.dtype for t in layer.state_dict().values() if t.is_floating_point()]
    if floating and floating[0] != torch.get_default_dtype():  # a model moved to float64 (say) after it was built
        build = f"{build}.to({floating[0]})"
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
        return head + seeded + (f"layer = {build}{mode}",)
    blob = _serialised(layer.state_dict())
    if blob is None:
        return None
    return head + (f"layer = {build}",
                   f"layer.load_state_dict(torch.load(io.BytesIO(base64.b64decode({blob!r}))))",
                   f"layer = layer{mode}")


def _same_shapes(a, b):
    sa, sb = a.state_dict(), b.state_dict()

    def shape(t):  # a lazy module's parameters have no shape until its first call
        return None if torch.nn.parameter.is_lazy(t) else t.shape

    return sa.keys() == sb.keys() and all(shape(sa[k]) == shape(sb[k]) for k in sa)


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    if any(torch.nn.parameter.is_lazy(t) for t in list(sa.values()) + list(sb.values())):
        return False  # an uninitialised parameter has no value to compare
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


def reproduction(layer, x, element, output_action, *, margin=None, mode="auto", target=None, layout="CHW",
                 target_path=None, eval_mode: bool | None = None) -> str:
    """A self-contained snippet that raises the violation of ``element`` on ``x`` (see the module docstring).

    >>> from convnet_invariances import CircularShift, trivial_action
    >>> x = torch.tensor([[[1.0, 0.0]]])
    >>> print(reproduction(torch.nn.Identity(), x, CircularShift((1,)), trivial_action()))
    import torch
    import convnet_invariances as ci
    layer = torch.nn.Identity().eval()
    x = torch.zeros((1, 1, 2), dtype=torch.float32)
    x[0, 0, 0] = 1.0
    ci.assert_invariant(layer, x, ci.CircularShift((1,)), mode='auto')  # raises EquivarianceViolation
    """
    tail = list(input_code(x)) + [call_code(element, output_action, margin, mode) + "  # raises EquivarianceViolation"]
    snippet = ""
    for code in layer_codes(layer, target, layout, target_path, eval_mode):
        body = list(code.lines) + tail
        head = ["import base64", "import io"] if any("base64" in line for line in body) else []
        snippet = "\n".join(head + ["import torch", "import convnet_invariances as ci"] + body)
        if code.missing or raises_violation(snippet):
            return snippet
    return snippet


def reproduction_heading(snippet: str) -> str:
    """What a report prints above ``snippet``: it runs as printed, or once the user puts their layer in."""
    if PLACEHOLDER in snippet:
        return "reproduce (put the layer in where it says, then it runs):"
    return "reproduce (runs as printed):"


#: set while a reproduction is being run to check it (its own violation report needs no second check)
_CHECKING: contextvars.ContextVar[bool] = contextvars.ContextVar("checking_reproduction", default=False)


def raises_violation(snippet: str) -> bool:
    """Run ``snippet`` here, in a namespace of its own, and say whether it raises EquivarianceViolation (the
    caller's random state is kept).  A snippet printed as "runs as printed" has passed this check.

    >>> raises_violation("import torch\\nimport convnet_invariances as ci\\n"
    ...                  "ci.assert_invariant(torch.nn.Identity(), torch.ones(1, 1, 2, 2), ci.rot90())")
    False
    """
    if _CHECKING.get():
        return True  # the report of the violation being checked: its own snippet is this one's twin
    token = _CHECKING.set(True)
    try:
        with rng_preserved():
            exec(compile(snippet, "<reproduction>", "exec"), {"__name__": "__reproduction__"})  # noqa: S102
    except EquivarianceViolation:
        return True
    except Exception:
        return False
    finally:
        _CHECKING.reset(token)
    return False

