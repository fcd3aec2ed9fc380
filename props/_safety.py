"""Auditing a user's module without changing it.

The audit works on a deep copy of the module whenever the module can be
copied: parameters, buffers (persistent or not), attributes, caches, hooks
and training flags of the original are then untouched by construction.  Lazy
modules are materialised on that copy.  A module that cannot be copied (one
holding non-leaf tensors, such as a filter cached on ``eval()``) is audited
in place and restored afterwards: ``train(mode)`` is called as the module
defines it, then every parameter and buffer gets back its original object
and values, attributes get back their values, and whatever the audit added
is removed.  The random number generators (torch CPU and CUDA, Python,
NumPy) are restored in both cases.
"""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Iterator

import numpy
import torch

from ._errors import InvalidArgument


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


@contextlib.contextmanager
def audited_copy(module: torch.nn.Module, probe: torch.Tensor | None = None, device=None) -> Iterator[tuple]:
    """Yields ``(target, note)``: the module to run checks on, in eval mode, and a note for the report.

    ``probe`` is an input used to materialise lazy modules; ``device`` moves the copy there.
    """
    with rng_preserved():
        try:
            target = copy.deepcopy(module)
            note = ""
        except Exception as exc:  # e.g. non-leaf tensors cached by the module: audit in place, restore after
            if is_lazy(module):
                raise InvalidArgument(
                    f"module={type(module).__name__} has uninitialized (lazy) parameters and cannot be copied "
                    f"({type(exc).__name__}); call it once on an input to materialise it, then audit it"
                ) from None
            with restored(module):
                if device is not None and torch.device(device) != _device_of(module):
                    raise InvalidArgument(
                        f"device={device!r}: the module cannot be copied ({type(exc).__name__}: {str(exc)[:100]}), "
                        f"so it is audited where it lives ({_device_of(module)}); leave device unset"
                    ) from None
                module.eval()
                yield module, (f"the module cannot be deep-copied ({type(exc).__name__}), so it was audited in "
                               f"place and restored afterwards")
            return
        if device is not None:
            target = target.to(device)
        if is_lazy(target):
            if probe is None:
                raise InvalidArgument(f"module={type(module).__name__} is lazy; give an input shape to materialise it")
            with torch.no_grad():
                target(probe.to(_device_of(target)))
            note = "the module is lazy: a copy was materialised on an input of the audited shape"
        target.eval()
        yield target, note


def _device_of(module):
    tensors = list(module.parameters()) + list(module.buffers())
    return tensors[0].device if tensors else torch.device("cpu")


@contextlib.contextmanager
def restored(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Inside: anything may happen to ``module``.  After: its state as it was (see the module docstring)."""
    modules = list(module.modules())
    modes = [m.training for m in modules]
    saved = []
    for m in modules:
        parameters = {name: (p, None if p is None else p.detach().clone(), None if p is None else p.requires_grad)
                      for name, p in m._parameters.items()}
        buffers = {name: (b, None if b is None else b.detach().clone()) for name, b in m._buffers.items()}
        persistent = set(getattr(m, "_non_persistent_buffers_set", set()))
        attributes = {}
        for key, value in vars(m).items():
            if key in ("_parameters", "_buffers", "_modules", "training", "_non_persistent_buffers_set"):
                continue
            try:
                attributes[key] = (value, copy.deepcopy(value))
            except Exception:  # an attribute that cannot be copied is restored by reference
                attributes[key] = (value, value)
        saved.append((parameters, buffers, persistent, attributes, dict(m._modules)))
    try:
        yield module
    finally:
        _restore_modes(modules, modes)
        with torch.no_grad():
            for m, (parameters, buffers, persistent, attributes, children) in zip(modules, saved):
                for name, (p, value, grad) in parameters.items():
                    if p is not None and value is not None:
                        if p.shape == value.shape:
                            p.copy_(value)
                        p.requires_grad_(bool(grad))
                    m._parameters[name] = p
                for name in [n for n in m._parameters if n not in parameters]:
                    del m._parameters[name]
                for name, (b, value) in buffers.items():
                    if b is not None and value is not None and b.shape == value.shape and b.dtype == value.dtype:
                        b.copy_(value)
                    else:
                        b = value
                    m._buffers[name] = b
                for name in [n for n in m._buffers if n not in buffers]:
                    del m._buffers[name]
                m._non_persistent_buffers_set = persistent
                for key in [k for k in vars(m) if k not in attributes and k not in (
                        "_parameters", "_buffers", "_modules", "training", "_non_persistent_buffers_set")]:
                    delattr(m, key)
                for key, (original, snapshot) in attributes.items():
                    object.__setattr__(m, key, _restore_value(original, snapshot))
                m._modules.clear()
                m._modules.update(children)


def _restore_value(original, snapshot):
    """The original object with its snapshot content back (containers and tensors in place), else the snapshot."""
    if snapshot is original:
        return original
    if isinstance(original, dict) and isinstance(snapshot, dict):
        original.clear()
        original.update(snapshot)
    elif isinstance(original, list) and isinstance(snapshot, list):
        original[:] = snapshot
    elif isinstance(original, set) and isinstance(snapshot, set):
        original.clear()
        original.update(snapshot)
    elif isinstance(original, torch.Tensor) and isinstance(snapshot, torch.Tensor) and \
            original.shape == snapshot.shape and original.dtype == snapshot.dtype and not original.is_inference():
        with torch.no_grad():
            original.copy_(snapshot)
    elif isinstance(original, (int, float, str, bytes, bool, tuple, frozenset, type(None), torch.dtype, torch.device)):
        return original if original == snapshot else snapshot
    else:
        return snapshot
    return original


def _restore_modes(modules, modes):
    """``train(mode)`` as each module defines it: the root first, then every module whose mode differs."""
    modules[0].train(modes[0])
    for m, mode in zip(modules[1:], modes[1:]):
        if m.training != mode:
            m.train(mode)
