"""Targets: a layer named by text (``package.module:name`` or ``path/to/file.py:name``), built reproducibly.

The command line audits a target; reproductions rebuild it with the same text.  Both go through
:func:`resolve_target`, which builds after whatever seed the caller set, and remembers what it built so a
reproduction of that very module can name its target.  :func:`rebuilds` checks that a target, built after
``torch.manual_seed(0)``, gives back exactly the weights of a module: only then may a reproduction rebuild the
module from its target instead of carrying its weights.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import weakref
from pathlib import Path

import torch

from ._errors import InvalidArgument
from ._safety import rng_preserved

#: the (target, folder) each module built by resolve_target came from
_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolve_target(text: str, folder: str | os.PathLike | None = None) -> torch.nn.Module:
    """``package.module:name`` or ``path/to/file.py:name`` -> an nn.Module (a class is instantiated, a factory
    called, a module instance returned as is).  Packages are looked up in ``folder`` first (default: the
    current directory), as ``python -m`` does.

    >>> resolve_target("torch.nn:Identity")
    Identity()
    """
    if not isinstance(text, str) or ":" not in text:
        raise InvalidArgument(f"TARGET={text!r} must look like package.module:name or path/to/file.py:name")
    where, _, name = text.rpartition(":")
    if where.endswith(".py") or "/" in where or os.sep in where:
        module = _import_file(text, Path(where))
    else:
        # `python -m` puts the current directory on sys.path and a console script does not: both should find a
        # package in the directory the user is standing in
        home = str(Path(folder or os.getcwd()).resolve())
        if home not in sys.path:
            sys.path.insert(0, home)
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise InvalidArgument(f"TARGET={text!r}: cannot import {where!r} ({exc}); is it on PYTHONPATH?") from None
        except Exception as exc:
            raise InvalidArgument(f"TARGET={text!r}: importing {where} raised {type(exc).__name__}: {exc}") from None
    if not hasattr(module, name):
        available = sorted(n for n in dir(module) if not n.startswith("_"))[:15]
        raise InvalidArgument(f"TARGET={text!r}: {where} has no attribute {name!r}; it has {', '.join(available)}")
    built = _build(text, name, getattr(module, name))
    _BUILT[built] = (text, None if folder is None else str(folder))
    return built


def _import_file(text, path):
    if not path.is_file():
        raise InvalidArgument(f"TARGET={text!r}: no file {str(path)!r}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"TARGET={text!r}: {path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent.resolve())  # the file's own imports of its neighbours work, as when run as a script
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InvalidArgument(f"TARGET={text!r}: importing {path} raised {type(exc).__name__}: {exc}") from None
    return module


def _build(text, name, obj):
    if isinstance(obj, torch.nn.Module):
        return obj
    if not callable(obj):
        raise InvalidArgument(f"TARGET={text!r}: {name} is a {type(obj).__name__}, not an nn.Module, a Module class "
                              f"or a factory")
    try:
        built = obj()
    except TypeError as exc:
        raise InvalidArgument(f"TARGET={text!r}: {name}() needs arguments ({exc}); point at a zero-argument "
                              f"factory") from None
    except Exception as exc:
        raise InvalidArgument(f"TARGET={text!r}: {name}() raised {type(exc).__name__}: {exc}") from None
    if not isinstance(built, torch.nn.Module):
        raise InvalidArgument(f"TARGET={text!r}: {name}() returned {type(built).__name__}, not a torch.nn.Module")
    return built


def target_of(module) -> tuple[str, str | None] | None:
    """The (target, folder) ``module`` was built from by :func:`resolve_target`, if it was."""
    try:
        return _BUILT.get(module)
    except TypeError:  # not weakly referenceable
        return None


def rebuilds(module, target: str, folder: str | None = None) -> bool:
    """True when ``resolve_target(target, folder)`` after ``torch.manual_seed(0)`` builds a module of the same
    class with exactly the state of ``module`` (the caller's random state is left as it was).

    >>> torch.manual_seed(0); conv = torch.nn.Conv2d(1, 1, 3)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> rebuilds(torch.nn.Identity(), "torch.nn:Identity"), rebuilds(conv, "torch.nn:Identity")
    (True, False)
    """
    try:
        with rng_preserved():
            torch.manual_seed(0)
            fresh = resolve_target(target, folder)
    except InvalidArgument:
        return False
    kind = lambda m: (type(m).__module__, type(m).__qualname__)  # noqa: E731 - a file target re-executes its class
    if kind(fresh) != kind(module):
        return False
    mine, theirs = module.state_dict(), fresh.state_dict()
    return mine.keys() == theirs.keys() and all(
        mine[k].shape == theirs[k].shape and mine[k].dtype == theirs[k].dtype
        and torch.equal(mine[k].detach().cpu(), theirs[k].detach().cpu()) for k in mine)
