"""What every measure of a trained network does before and while it calls the model.

- One validation of its arguments at the entry (a callable model; images that are a non-empty, finite,
  floating tensor of the right rank; numbers in range), raising :class:`InvalidArgument` that names the
  argument, the value it had and what would be valid.
- Calls of the model that cannot change anything the user passed in: a module runs as an audited copy in
  eval mode (:func:`audited_copy`: parameters, buffers, training flags and random generators of the original
  stay as they were), a plain function under :func:`rng_preserved`; every call gets a copy of its input and
  its output is checked (:class:`ProtectedLayer`: an in-place first layer cannot write into the user's images).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ._actions import Action
from ._errors import InvalidArgument, describe_value, require_spatial
from ._layer_calls import ProtectedLayer
from ._output_actions import OutputAction
from ._safety import audited_copy, rng_preserved


def require_model(model, name: str = "model", *, module_only: bool = False) -> None:
    """``model`` must be a torch.nn.Module (or, unless ``module_only``, a callable on tensors)."""
    if isinstance(model, torch.nn.Module):
        return
    if module_only:
        raise InvalidArgument(f"{name}={describe_value(model)} must be a torch.nn.Module (wrap a function in a small "
                              f"Module subclass)")
    if not callable(model):
        raise InvalidArgument(f"{name}={describe_value(model)} must be a torch.nn.Module or a callable on tensors")


def require_samples(x, name: str = "inputs", *, ranks: tuple = (4,), dtypes: tuple | None = None) -> None:
    """``x`` must be a floating tensor of one of ``ranks`` (4: (N, C, H, W); 3: (N, C, L)) with at least one sample,
    every value finite, and (if given) of one of ``dtypes``."""
    layout = " or ".join({3: "(N, C, L)", 4: "(N, C, H, W)"}[r] for r in ranks)
    if not isinstance(x, torch.Tensor) or x.dim() not in ranks:
        require_spatial(x, name)  # the shared message for a non-tensor or a wrong rank
        raise InvalidArgument(f"{name}={describe_value(x)} must be a tensor of shape {layout}")
    if not x.is_floating_point():
        raise InvalidArgument(f"{name} has dtype {x.dtype}; it must be a floating tensor {layout} "
                              f"(e.g. {name}.float())")
    if dtypes is not None and x.dtype not in dtypes:
        raise InvalidArgument(f"{name} has dtype {x.dtype}; it must be "
                              + " or ".join(str(d) for d in dtypes)
                              + f" (e.g. {name}.float())")
    if x.shape[0] == 0:
        raise InvalidArgument(f"{name} has shape {tuple(x.shape)}: no sample (batch size 0); give at least one")
    if x.numel() == 0:
        raise InvalidArgument(f"{name} has shape {tuple(x.shape)}: an empty axis; every axis needs at least one "
                              f"entry")
    if not bool(torch.isfinite(x).all()):
        first = [int(i) for i in torch.nonzero(~torch.isfinite(x))[0]]
        raise InvalidArgument(f"{name} holds NaN or inf, first at {name}{first}; the measures need finite images")


def require_int(value, name: str, *, minimum: int, meaning: str) -> None:
    """``value`` must be an int (not a bool) no smaller than ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an int ≥ {minimum} ({meaning})")


def require_number(value, name: str, *, meaning: str) -> None:
    """``value`` must be a finite positive real number."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < float("inf"):
        raise InvalidArgument(f"{name}={value!r} must be a finite positive number ({meaning})")


def require_seed(seed) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise InvalidArgument(f"seed={seed!r} must be an int in [0, 2**63)")


def check_culprit_arguments(module, x, element, output_action=None) -> None:
    """The arguments of :func:`find_culprit`: a module (its submodules are what is blamed), an (N, C, H, W) or
    (N, C, L) input with at least one sample, a group element, and an output action (or None)."""
    require_model(module, "module", module_only=True)
    require_samples(x, "x", ranks=(3, 4))
    if not isinstance(element, Action):
        raise InvalidArgument(f"element={describe_value(element)} must be an Action (a group element such as "
                              f"CircularShift((0, 1)) or rot90())")
    element.validate(tuple(x.shape), "x")  # an element that cannot act on x is a usage error, not "no culprit"
    if output_action is not None and not isinstance(output_action, OutputAction):
        raise InvalidArgument(f"output_action={describe_value(output_action)} must be None or an output action: "
                              f"same_action(), trivial_action(), strided_action(s) or regular_c4_action()")


@contextlib.contextmanager
def protected_model(model, probe: torch.Tensor, label: str = "the model") -> Iterator[ProtectedLayer]:
    """Yields the model to call, as a :class:`ProtectedLayer` (copies in, outputs checked): a module's audited
    copy in eval mode, or the function itself with the random generators put back afterwards."""
    if isinstance(model, torch.nn.Module):
        with audited_copy(model, probe=probe.detach().clone()) as (module, _):
            yield ProtectedLayer(module, label=label)
    else:
        with rng_preserved():
            yield ProtectedLayer(model, label=label)
