"""Auditing a user's module without changing it.

The audit works on a deep copy of the module whenever the module can be
copied: parameters, buffers (persistent or not), attributes, caches, hooks
and training flags of the original are then untouched by construction.  Lazy
modules are materialised on that copy.  A module that cannot be copied (one
holding non-leaf tensors, such as a filter cached on ``eval()``), or whose
copy computes otherwise than the module on a probe input (a forward keyed by
the instance's identity), is audited in place and restored afterwards: ``train(mode)`` is called as the module
defines it, then everything reachable from it is put back *in place* — the
same objects, never copies, since the user's code holds references to them
(a hook object, a shared helper module, a generator, a tied parameter):
parameters and buffers with their storage and bitwise values, containers with
the items they held, objects with their attributes, generators with their
state; whatever the audit added is removed.  While a module is audited in
place its calls run under ``torch.no_grad``, not ``torch.inference_mode``:
a tensor it makes and keeps (a cache, a parameter's new ``.data``) must stay
usable after the audit.  The random number generators (torch CPU and CUDA,
Python, NumPy) are restored in both cases.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import random
import types
from collections.abc import Iterator
from dataclasses import dataclass

import numpy
import torch

from ._errors import InvalidArgument, NotAFunction


@contextlib.contextmanager
def rng_preserved() -> Iterator[None]:
    """Inside: anything may draw random numbers.  After: every generator as it was."""
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    python = random.getstate()
    numpy_state = numpy.random.get_state()
    try:
        yield
    finally:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        random.setstate(python)
        numpy.random.set_state(numpy_state)


def is_lazy(module: torch.nn.Module) -> bool:
    """Whether ``module`` still has uninitialized (lazy) parameters or buffers."""
    return any(torch.nn.parameter.is_lazy(t) for t in list(module.parameters()) + list(module.buffers()))


#: True while a user's module is audited in place (see :func:`evaluation_mode`)
_IN_PLACE: contextvars.ContextVar[bool] = contextvars.ContextVar("convnet_invariances_in_place", default=False)


@dataclass(frozen=True)
class ExecutionContext:
    """How the audit calls a layer: under which autograd mode, with inputs laid out how in memory, with torch's
    deterministic algorithms on or off.

    A layer that computes differently in another context (a path taken only when autograd records, only for
    channels-last or strided inputs, only with deterministic algorithms) is judged in each context where it
    differs (see ``_audit``).
    """

    grad: str = "inference"  # "inference" (torch.inference_mode), "no_grad", or "grad" (autograd recording,
    #                          inputs that require grad)
    layout: str = "contiguous"  # "contiguous", "channels_last" (4-D inputs), or "strided" (a transposed view)
    deterministic: bool = False  # torch.use_deterministic_algorithms(True)

    def describe(self) -> str:
        grad = {"inference": "under torch.inference_mode()", "no_grad": "under torch.no_grad()",
                "grad": "with autograd recording (torch.enable_grad(), inputs that require grad)"}[self.grad]
        layout = {"contiguous": "", "channels_last": ", inputs in torch.channels_last",
                  "strided": ", inputs as non-contiguous (strided) views"}[self.layout]
        return grad + layout + (", with torch.use_deterministic_algorithms(True)" if self.deterministic else "")


DEFAULT_CONTEXT = ExecutionContext()
#: the other contexts every audited layer is probed in: every combination of the three settings
OTHER_CONTEXTS = tuple(ExecutionContext(grad, layout, deterministic)
                       for deterministic in (False, True) for grad in ("inference", "no_grad", "grad")
                       for layout in ("contiguous", "channels_last", "strided")
                       if ExecutionContext(grad, layout, deterministic) != DEFAULT_CONTEXT)
_CONTEXT: contextvars.ContextVar[ExecutionContext] = contextvars.ContextVar("convnet_invariances_context",
                                                                           default=DEFAULT_CONTEXT)


@contextlib.contextmanager
def execution_context(context: ExecutionContext) -> Iterator[None]:
    """Inside: layers are called in ``context`` (by :func:`evaluation_mode` and ``ProtectedLayer``)."""
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> ExecutionContext:
    return _CONTEXT.get()


def laid_out(x: torch.Tensor) -> torch.Tensor:
    """``x``, the same values, laid out in memory as the current context says (and requiring grad when the
    context records autograd)."""
    context = _CONTEXT.get()
    if context.layout == "channels_last" and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    elif context.layout == "strided" and x.dim() >= 2:
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # same values, transposed strides
    if context.grad == "grad" and torch.is_grad_enabled() and (x.is_floating_point() or x.is_complex()):
        x = x.detach().requires_grad_(True)
    return x


@contextlib.contextmanager
def evaluation_mode() -> Iterator[None]:
    """The mode the audit calls layers in: the current context's grad mode (``torch.inference_mode()`` by
    default, ``torch.no_grad()`` or ``torch.enable_grad()``) and deterministic-algorithms flag;
    ``torch.no_grad()`` for inference while the user's own module is audited in place (inference tensors it
    kept could not be used for autograd later, nor written back outside inference mode)."""
    context = _CONTEXT.get()
    grad_mode: contextlib.AbstractContextManager
    if context.grad == "grad":
        grad_mode = torch.enable_grad()
    elif context.grad == "no_grad" or _IN_PLACE.get():
        grad_mode = torch.no_grad()
    else:
        grad_mode = torch.inference_mode()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    with grad_mode:
        if context.deterministic != deterministic:
            torch.use_deterministic_algorithms(context.deterministic)
        try:
            yield
        finally:
            if context.deterministic != deterministic:
                torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def in_place_audit() -> bool:
    """Whether a user's module is being audited in place now (everything reachable from it is restored after)."""
    return _IN_PLACE.get()


def copy_sharing_the_uncopyable(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of ``module`` that shares with it the attributes that cannot be copied (a lock, a non-leaf
    tensor), for a module that refuses ``copy.deepcopy``.  Only for use inside :func:`restored`: calls of the
    copy may change what it shares, and only there is that put back.  Raises what deepcopy raises if sharing
    those attributes is not enough."""
    memo: dict = {}
    for m in module.modules():
        for key, value in list(vars(m).items()) + list(m._buffers.items()):
            if key in ("_parameters", "_buffers", "_modules") or isinstance(value, torch.nn.Module):
                continue  # (modules are copied attribute by attribute, never shared whole)
            try:
                copy.deepcopy(value)
            except Exception:  # what cannot be copied is shared with the original
                memo[id(value)] = value
    return copy.deepcopy(module, memo)


@contextlib.contextmanager
def audited_copy(module: torch.nn.Module, probe: torch.Tensor | None = None, device=None) -> Iterator[tuple]:
    """Yields ``(target, note)``: the module to run checks on, in eval mode, and a note for the report.

    ``probe`` is an input used to materialise lazy modules, and to check that a deep copy computes what the
    module computes (a forward keyed by the instance's identity does not: then the module itself is audited
    in place, as one that cannot be copied); ``device`` moves the copy there.
    """
    with rng_preserved():
        try:
            target = copy.deepcopy(module)
        except Exception as exc:  # e.g. non-leaf tensors cached by the module: audit in place, restore after
            if is_lazy(module):
                raise InvalidArgument(
                    f"module={type(module).__name__} has uninitialized (lazy) parameters and cannot be copied "
                    f"({type(exc).__name__}); call it once on an input to materialise it, then audit it"
                ) from None
            why = f"the module cannot be deep-copied ({type(exc).__name__})"
        else:
            why = "" if is_lazy(module) else copy_differs(module, target, probe)  # NotAFunction goes to the caller
        if why:
            with restored(module):
                if device is not None and torch.device(device) != _device_of(module):
                    raise InvalidArgument(
                        f"device={device!r}: {why}, so it is audited where it lives ({_device_of(module)}); "
                        f"leave device unset"
                    ) from None
                module.eval()
                token = _IN_PLACE.set(True)
                try:
                    yield module, f"{why}, so it was audited in place and restored afterwards"
                finally:
                    _IN_PLACE.reset(token)
            return
        if device is not None:
            target = target.to(device)
        if is_lazy(target):
            if probe is None:
                raise InvalidArgument(f"module={type(module).__name__} is lazy; give an input shape to materialise it")
            with torch.no_grad():
                target(probe.to(_device_of(target)))
            note = "the module is lazy: a copy was materialised on an input of the audited shape"
        else:
            note = ""
        target.eval()
        yield target, note


#: the copy check's probes: the search's portfolio batches, cut to this many samples
COPY_PROBE_SAMPLES = 4


def copy_differs(module: torch.nn.Module, copied: torch.nn.Module, probe: torch.Tensor | None, *,
                 thorough: bool = True) -> str:
    """Why the deep copy ``copied`` does not compute what ``module`` computes, or "": both in eval mode, on the
    search's portfolio of inputs of ``probe``'s per-sample shape and dtype (every domain and magnitude, batches
    of up to four), under ``torch.no_grad()`` and again with autograd recording, with the same random draws,
    compared bitwise.  The module itself is called inside :func:`restored`; the copy is left as it was (a second
    copy is called).  Raises :class:`NotAFunction` when one of them gives two outputs for the same input.
    ``thorough=False`` (the static certifier, which must stay fast on large models): the probe and one sample of
    every mixed portfolio case, without autograd."""
    if probe is None:
        return ""
    from ._domains import probe_batches  # (imports nothing of the engine)

    where = _device_of(module)
    inputs = [probe[:1]] + probe_batches(tuple(probe.shape[1:]), probe.dtype, "cpu", 0,
                                         COPY_PROBE_SAMPLES if thorough else 1)[1:2 if not thorough else None]
    try:
        other = copy.deepcopy(copied)
    except Exception:
        return ""
    other.eval()
    with restored(module):
        module.eval()
        for recording in (False, True) if thorough else (False,):
            for x in inputs if not recording else inputs[:3]:
                x = x.to(where)
                outputs = []
                for m in (module, other, module, other):  # twice each: a difference may be the calls' history
                    given = x.clone().requires_grad_(True) if recording and x.is_floating_point() else x.clone()
                    with rng_preserved(), torch.set_grad_enabled(recording):
                        try:
                            out = m(given)
                            outputs.append(out.detach() if isinstance(out, torch.Tensor) else out)
                        except Exception as exc:  # a layer's own error is the audit's business: name it only
                            outputs.append(f"raised {type(exc).__name__}")  # if one of the two raises
                if not (_same_tree(outputs[0], outputs[2]) and _same_tree(outputs[1], outputs[3])):
                    # these may be the first calls the layer ever gets: the evidence must not be lost
                    raise NotAFunction("the layer gave two different outputs for the same input before any check "
                                       "ran (its first call differs from a later one: a warm-up path, a cache, a "
                                       "counter): its output depends on earlier calls, so it is not a function of "
                                       "its input")
                if not _same_tree(outputs[0], outputs[1]):
                    return ("a deep copy of the module computes differently from the module itself (its forward "
                            "depends on the instance, not only on its parameters and attributes)")
    return ""


def _same_tree(a, b) -> bool:
    """Bitwise equality of two outputs: tensors (NaN equal to NaN), and tuples, lists and dicts of them."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            torch.equal(a, b) or ((a == b) | (a.isnan() & b.isnan())).all()) if a.is_floating_point() else \
            a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same_tree(u, v) for u, v in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a is b or a == b) if not isinstance(a, torch.Tensor) else False


def _device_of(module):
    tensors = list(module.parameters()) + list(module.buffers())
    return tensors[0].device if tensors else torch.device("cpu")


@contextlib.contextmanager
def restored(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Inside: anything may happen to ``module``.  After: its state as it was (see the module docstring).

    Everything reachable from the module comes back as the *same objects*: the parameters and buffers (with
    their storage and bitwise values, even if forward swapped their ``.data``), the hook objects, helper
    modules and objects it only refers to, its generators (with their state), containers with the items they
    held; attributes the audit added are removed.
    """
    modules = list(module.modules())
    modes = [m.training for m in modules]
    put_back = _keeper(module, set())
    try:
        yield module
    finally:
        _restore_modes(modules, modes)  # train(mode) as the module defines it; then its state as it was
        put_back()


#: how far the audit follows references from a module into plain objects and containers (modules are
#: followed however deep they nest) and how many items of a container it follows
_DEPTH = 4
_ITEMS = 10_000
_UNTOUCHED = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType,
              int, float, complex, str, bytes, bool, type(None), torch.dtype, torch.device)


def _nothing():
    pass


def _keeper(value, seen: set, depth: int = 0):
    """A function that puts back, in place, what ``value`` holds now; the objects themselves are never replaced."""
    if isinstance(value, _UNTOUCHED) or id(value) in seen:
        return _nothing
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return _tensor_keeper(value)
    if isinstance(value, torch.Generator):
        state = value.get_state()
        return lambda: value.set_state(state)
    if isinstance(value, numpy.ndarray):
        saved = value.copy()
        return lambda: numpy.copyto(value, saved) if value.shape == saved.shape and value.flags.writeable else None
    if isinstance(value, torch.nn.Module):
        depth = 0  # a module's state is kept however deep it sits in the tree
    elif depth > _DEPTH:
        return _nothing
    if isinstance(value, (list, dict, set)):
        items = _items(value)
    elif isinstance(value, (tuple, frozenset)):
        items = None  # immutable: only what the items hold can change
    else:
        fields = getattr(value, "__dict__", None)
        if type(fields) is not dict:  # slots, C objects (locks): nothing the audit can put back
            return _nothing
        value, items = fields, dict(fields)  # an object: its attributes, written directly (no __setattr__)
    held = items if items is not None else value
    inner = [_keeper(v, seen, depth + 1) for v in list(held.values() if isinstance(held, dict) else held)[:_ITEMS]]

    def restore():
        if isinstance(value, list):
            value[:] = items
        elif items is not None:
            value.clear()
            value.update(items)
        for put_back in inner:
            put_back()

    return restore


def _items(container):
    """A plain copy of a list, dict or set: the same item objects, in their order."""
    return list(container) if isinstance(container, list) else dict(container) if isinstance(container, dict) \
        else set(container)


def _tensor_keeper(t: torch.Tensor):
    """Puts back ``t``'s data (its storage, if forward swapped ``t.data``), its bitwise values, ``requires_grad``
    and, for a leaf, the gradient it holds (an optimizer step may still be pending)."""
    alias = t.detach()  # the same storage as t
    values = alias.clone()
    grad = t.requires_grad
    gradient = t.grad if t.is_leaf else None

    def restore():
        # values written while the audit ran in inference mode stay inference tensors: copy back in that mode
        mode = torch.inference_mode() if alias.is_inference() else torch.no_grad()
        with mode:
            if not _same_tensor(t, alias):
                t.data = alias
            if not _same_bits(alias, values):
                try:
                    alias.copy_(values)
                except RuntimeError:  # memory the tensor cannot be written through (an expanded view)
                    t.data = values
        if t.is_leaf and t.requires_grad != grad:
            t.requires_grad_(grad)
        if t.is_leaf and t.grad is not gradient:
            t.grad = gradient

    return restore


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``a`` and ``b`` are the same view of the same memory (dtype, shape, strides, device, address)."""
    try:
        return (a.dtype, a.shape, a.device) == (b.dtype, b.shape, b.device) and a.stride() == b.stride() and \
            a.data_ptr() == b.data_ptr()
    except RuntimeError:  # sparse and other layouts without strides: put the data back
        return False


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bitwise equality (NaN payloads and -0.0 included)."""
    try:
        return a.dtype == b.dtype and a.shape == b.shape and \
            torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
    except (RuntimeError, TypeError):
        return False


def _restore_modes(modules, modes):
    """``train(mode)`` as each module defines it: the root first, then every module whose mode differs."""
    modules[0].train(modes[0])
    for m, mode in zip(modules[1:], modes[1:]):
        if m.training != mode:
            m.train(mode)
