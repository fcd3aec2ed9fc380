"""The graph the static certifier reads: a ``torch.fx`` trace, and the checks that it describes every call.

The layers in the certifier's table (``torch.nn`` convolutions, poolings,
norms, activations … and the project's reference layers) stay whole, as one
node each; user modules are traced through, so a subclass of ``Conv2d`` with
its own ``forward`` is read from its code, never looked up by its base.

The trace only describes the module if every call runs what was traced.  So
the certifier declines (the verdict is ``unknown``, with the reason):

- hooks, a ``__call__`` of the class's own, a method replaced on an instance
  (:func:`._linearity.untraced_code`), and a table layer whose class method
  ``forward`` is not the library's own;
- a forward that cannot be traced: data-dependent control flow
  (``if x.sum() > 0``), branches on dtype or device of a tensor;
- Python code run while tracing that writes somewhere the graph does not
  show: an augmented assignment (``out += x`` writes into ``out``, which
  ``torch.fx`` records as an out-of-place add), an item or attribute
  assignment, a global; a forward that changes the module's state or draws
  from Python's or NumPy's random generators (its branch was chosen once,
  at trace time);
- in-place operations in the graph, unless they write into a tensor made by
  the operation just before it and read by nothing else.

The module is traced on a deep copy: the user's module is never called.
"""

from __future__ import annotations

import copy
import dis
import os
import random
import sys
import sysconfig

import numpy
import torch

from ._linearity import untraced_code
from ._safety import rng_preserved

_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
#: code that never counts as the user's: torch, this library, the standard library, frozen modules
_TRUSTED = tuple({_TORCH_DIR, _OWN_DIR, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
_WRITES = {"STORE_SUBSCR", "DELETE_SUBSCR", "STORE_ATTR", "DELETE_ATTR", "STORE_GLOBAL", "DELETE_GLOBAL"}

#: containers fx must trace through
_CONTAINERS = (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)


class _Tracer(torch.fx.Tracer):
    def __init__(self, is_known):
        super().__init__()
        self._is_known = is_known

    def is_leaf_module(self, m, qualname):
        if self._is_known(m):
            return True
        if type(m) in _CONTAINERS:
            return False
        # other torch.nn modules stay whole too: their node is an operation the table does not know
        return m.__module__.startswith("torch.nn") or m.__module__.startswith("torch.ao")


def _writes_in(code) -> str:
    """The first write the graph would not show in a code object (and its nested functions), or ""."""
    for instruction in dis.get_instructions(code):
        if instruction.opname == "BINARY_OP" and instruction.argrepr.endswith("=") and instruction.argrepr != "==":
            return f"an augmented assignment ({instruction.argrepr})"
        if instruction.opname.startswith("INPLACE_"):
            return f"an augmented assignment ({instruction.opname})"
        if instruction.opname in _WRITES:
            what = {"STORE_SUBSCR": "an item assignment", "DELETE_SUBSCR": "an item deletion",
                    "STORE_ATTR": f"an attribute assignment (.{instruction.argval} = …)",
                    "DELETE_ATTR": "an attribute deletion"}.get(instruction.opname, "a global assignment")
            return what
    return ""


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message; a bare ``assert`` has none."""
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else "no message"


def trace(module: torch.nn.Module, is_known, declined) -> tuple[torch.fx.GraphModule | None, str]:
    """(GraphModule of a deep copy of ``module``, "") or (None, why the graph would not describe a call).

    ``is_known(m)``: whether a module stays one node; ``declined(m)``: why such a module cannot be trusted to
    run its class's table entry (a replaced ``forward``), or ""."""
    unseen = untraced_code(module)
    if unseen:
        return None, unseen
    for name, m in module.named_modules():
        if is_known(m):
            why = declined(m)
            if why:
                return None, f"`{name or type(m).__name__}`: {why}"
    for name, m in module.named_modules():
        hook = _own_copying(type(m))
        if hook:
            return None, (f"`{name or type(m).__name__}` defines its own {hook}: the copy the certifier reads may not "
                          f"be the module")
    try:
        twin = copy.deepcopy(module).eval()  # the audit's semantics: a copy in eval mode
    except Exception as exc:
        return None, f"the module cannot be copied to be traced ({type(exc).__name__})"
    from ._certificate import _changed, _state  # the linear certificate's picture of a module's state
    before = _state(twin)
    python_rng, numpy_rng, torch_rng = random.getstate(), numpy.random.get_state(), torch.get_rng_state()
    executed: dict = {}
    reached: dict = {}  # what the user's code reads besides the module: globals and class attributes

    def record(frame, event, arg):
        if event == "call":
            code = frame.f_code
            path = os.path.abspath(code.co_filename)
            if not (path.startswith(_TRUSTED) or code.co_filename.startswith("<frozen")):
                executed.setdefault(code, frame.f_code.co_qualname if hasattr(code, "co_qualname") else code.co_name)
                _note_reached(frame, reached)
        return None

    # the code forward runs is collected while tracing; under a profiler (which owns the hook) the forwards of
    # the traced modules are scanned instead
    profiled = sys.getprofile() is not None
    if profiled:
        for m in twin.modules():
            code = getattr(getattr(type(m), "forward", None), "__code__", None)
            if code is not None and not os.path.abspath(code.co_filename).startswith(_TRUSTED):
                executed.setdefault(code, code.co_qualname if hasattr(code, "co_qualname") else code.co_name)
    else:
        sys.setprofile(record)
    root = twin
    if is_known(twin):  # a table layer on its own: trace a wrapper, so the layer stays one node
        root = _Root(type(twin).__name__, twin)
    try:
        graph = _Tracer(is_known).trace(root)
    except Exception as exc:
        return None, f"the module cannot be traced by torch.fx ({type(exc).__name__}: {_first_line(exc)})" \
            + _hint(exc)
    finally:
        if not profiled:
            sys.setprofile(None)
        drew = (random.getstate() != python_rng or _numpy_changed(numpy_rng) or
                not torch.equal(torch.get_rng_state(), torch_rng))
        random.setstate(python_rng)
        numpy.random.set_state(numpy_rng)
        torch.set_rng_state(torch_rng)
    if drew:
        return None, "forward draws random numbers while it is traced: the branch it took is one of several"
    changed = _changed(before, _state(twin))
    if changed:
        return None, f"forward changes the module's state ({changed}): one traced call does not describe the next"
    if reached:  # state outside the module: a second call must find it as the first left it
        after_first = _outside_picture(reached)
        try:
            with rng_preserved():  # the second trace must not draw for real
                _Tracer(is_known).trace(root)
        except Exception:
            pass
        moved = _changed(after_first, _outside_picture(reached))
        if moved:
            return None, (f"forward changes state outside the module ({moved}): one traced call does not describe "
                          f"the next")
    for code, name in executed.items():
        write = _writes_in(code)
        if write:
            return None, (f"{name} ({os.path.basename(code.co_filename)}) contains {write}: torch.fx records it as an "
                          f"out-of-place operation, so the graph may not show what a call writes")
    return torch.fx.GraphModule(root, graph, type(twin).__name__), ""


#: how Python copies an object; a module class of the user's that defines one may copy into something else
_COPYING = ("__deepcopy__", "__copy__", "__setstate__", "__getstate__", "__reduce__", "__reduce_ex__")


def _own_copying(cls) -> str:
    """The copy hook ``cls`` defines outside torch, this library and Python itself, or ""."""
    for name in _COPYING:
        for klass in cls.__mro__:
            if name in vars(klass):
                where = getattr(sys.modules.get(klass.__module__), "__file__", None) or ""
                if klass is not object and not os.path.abspath(where).startswith(_TRUSTED):
                    return f"{name} ({klass.__qualname__})"
                break
    return ""


def _note_reached(frame, reached: dict) -> None:
    """Remember the globals a user frame names and the class of its ``self``: state a call may change."""
    names = frame.f_code.co_names
    namespace = frame.f_globals
    for name in names:
        if name in namespace:
            reached.setdefault(("global", frame.f_code.co_filename, name), (namespace, name))
    owner = frame.f_locals.get("self")
    if owner is not None:
        for klass in type(owner).__mro__:
            if klass is torch.nn.Module or klass is object:
                break
            reached.setdefault(("class", klass.__module__, klass.__qualname__), (klass, None))


def _outside_picture(reached: dict) -> list:
    """A comparable picture of the mutable state in ``reached`` (modules, functions and classes themselves are
    skipped; a class's own data attributes are pictured)."""
    import types

    from ._certificate import _picture

    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type,
            torch.nn.Module)
    pictures = []
    for key, (holder, name) in sorted(reached.items(), key=lambda item: repr(item[0])):
        if name is not None:
            value = holder.get(name)
            if not isinstance(value, skip) and not callable(value):
                pictures.append((".".join(map(str, key[2:])), _picture(value)))
        else:
            data = {k: v for k, v in vars(holder).items() if not k.startswith("__") and not isinstance(v, skip)
                    and not callable(v) and not isinstance(v, (property, staticmethod, classmethod))}
            pictures.append((key[2], _picture(data)))
    return pictures


class _Root(torch.nn.Module):
    """A table layer traced on its own: one child, named after its class."""

    def __init__(self, name, layer):
        super().__init__()
        self.name = name
        self.add_module(name, layer)

    def forward(self, x):
        return getattr(self, self.name)(x)


def _numpy_changed(state) -> bool:
    now: tuple = numpy.random.get_state()  # type: ignore[assignment]  # the legacy tuple form
    return bool(now[2] != state[2] or not numpy.array_equal(now[1], state[1]))


def _hint(exc) -> str:
    text = str(exc)
    if "symbolically traced variables cannot be used as inputs to control flow" in text or "Proxy" in text:
        return "; forward branches on a value computed from the input (data-dependent control flow)"
    return ""


class _ShapeRun(torch.fx.Interpreter):
    """Runs the graph (on the meta device: shapes, no data) and keeps the shape of every tensor it computes."""

    def __init__(self, graph):
        super().__init__(graph)
        self.found: dict = {}

    def run_node(self, n):
        result = super().run_node(n)
        self.found[n.name] = tuple(result.shape) if isinstance(result, torch.Tensor) else None
        return result


def shapes(graph: torch.fx.GraphModule, input_shape: tuple) -> tuple[dict | None, str]:
    """The shape of every tensor the graph computes for a batch of two inputs of ``input_shape``, from a run on
    the ``meta`` device (no data); (None, why) when the graph does not run on that shape."""
    floating = [t.dtype for t in list(graph.parameters()) + list(graph.buffers()) if t.is_floating_point()]
    dtype = floating[0] if floating else torch.get_default_dtype()
    try:
        twin = copy.deepcopy(graph).to("meta")
        run = _ShapeRun(twin)
        with torch.device("meta"):  # tensors forward makes (torch.arange(n)) are shapes too
            run.run(torch.empty((2,) + tuple(input_shape), device="meta", dtype=dtype))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return None, f"the model does not run on inputs of shape {tuple(input_shape)} ({type(exc).__name__}: {first})"
    return run.found, ""
