"""The Lie derivative layer by layer: which module of a network loses its equivariance, and by how much.

For a network whose modules run one after another, the end-to-end Lie derivative telescopes into one term
per module (Gruver et al., ICLR 2023, §5; here computed exactly, not estimated by random probes).  Each leaf
module ``m`` receives an activation ``u`` and returns ``v``; with ``A`` the generator's action on activations
(see :func:`activation_tangent`), its *local* Lie derivative is

    d_m = J_m(u) · A u − A v,

zero exactly when ``m`` itself is equivariant to first order.  Pushed to the output by the derivative of the
rest of the network with respect to ``v`` (a forward-mode product through the network, with ``ε·d_m`` added
to ``m``'s output), it is ``m``'s *contribution* ``C_m``, and

    L_X f(x) = Σ_m C_m + R,

where ``R`` collects what happens outside leaf modules (functional operations in a ``forward``: a residual
``+``, ``torch.flatten``); it is zero when those are themselves equivariant, as an add of two equally moving
branches is.  Every term is reported relative to ``‖f(x)‖``, per sample, like :func:`lie_derivative`.

**How intermediate activations move** (the convention, stated): an activation with the input's number of
axes and a spatial shape moves like the input, with translations scaled by its size relative to the input
(a stride-2 map moves half a pixel per input pixel), rotations and scalings about its own centre; any other
activation (flat features, logits) is taken as invariant.  A module called more than once (shared weights)
has one term per call.  Calls with several inputs, or non-tensor or integer outputs, are not measured on their
own: their share lands in ``R``, reported as ``OUTSIDE`` — and named by ``largest()`` when it outweighs every
module, so a defect in a functional operation is never pinned on an equivariant module.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch

from ._attribution import whole_resampling
from ._errors import InvalidArgument, describe_value
from ._layer_calls import ProtectedLayer
from ._lie import Generator, OutputActionLike, _check_input, _jvp, _resolve_output_action, flow_tangent
from ._lie import _output_generator
from ._safety import audited_copy

__all__ = ["OUTSIDE", "LayerwiseLieDerivative", "activation_tangent", "layerwise_lie_derivative"]

#: the name under which ``relative`` reports the remainder: what happens outside leaf modules (and rounding)
OUTSIDE = "(outside modules)"


def activation_tangent(activation: torch.Tensor, generator: str, input_spatial: tuple) -> torch.Tensor:
    """``A h``: how an intermediate activation moves under the generator (the module docstring's convention).

    >>> h = torch.randn(1, 3, 4, 4)
    >>> t = activation_tangent(h, "translation-x", (8, 8))  # a stride-2 map: half the input's speed
    >>> torch.allclose(t, 0.5 * flow_tangent(h, "translation-x"))
    True
    >>> bool(activation_tangent(torch.randn(1, 10), "rotation", (8, 8)).eq(0).all())  # flat: invariant
    True
    """
    rank = len(input_spatial)
    if not activation.is_floating_point() or activation.dim() != rank + 2 or min(activation.shape[2:]) < 1:
        return torch.zeros_like(activation) if activation.is_floating_point() else activation.new_zeros(())
    tangent = flow_tangent(activation, generator)
    if generator.startswith("translation"):
        axis = -1 if generator == "translation-x" else -2
        tangent = tangent * (activation.shape[axis] / input_spatial[axis])
    return tangent


def _moves_with_the_input(activation: torch.Tensor, generator: str, input_spatial: tuple) -> bool:
    """Whether a translation of the input moves this activation by a known amount: its grid is a whole
    resampling of the input's (the same size, or a whole multiple or divisor per axis).  A padded or cropped
    map (12 → 16) moves by no fixed amount: a module producing or receiving one has no local term of its own.

    >>> _moves_with_the_input(torch.zeros(1, 1, 4, 4), "translation-x", (8, 8))
    True
    >>> _moves_with_the_input(torch.zeros(1, 1, 16, 16), "translation-x", (12, 12))
    False
    """
    if not generator.startswith("translation") or activation.dim() != len(input_spatial) + 2:
        return True
    return whole_resampling(activation.shape[2:], input_spatial)


@dataclass
class LayerwiseLieDerivative:
    """Per leaf module, its contribution to the end-to-end Lie derivative.

    ``contributions[name]`` is ``C_m`` (the output's shape); ``relative[name]`` is ``‖C_m‖ / ‖f(x)‖`` per
    sample, and ``relative[OUTSIDE]`` the same for ``remainder = total − Σ C_m`` (what happens outside leaf
    modules, plus rounding); ``total`` is ``L_X f(x)`` computed end to end.  Names are the modules' qualified
    names in forward order; a module called more than once has one term per call, ``"name (call k)"``.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")).double()
    >>> result = layerwise_lie_derivative(net, torch.randn(1, 1, 8, 8, dtype=torch.float64), "rotation",
    ...                                   output_action="equivariant")
    >>> list(result.relative), bool(result.remainder.abs().max() < 1e-12)
    (['0', '(outside modules)'], True)
    """

    contributions: dict[str, torch.Tensor]
    relative: dict[str, torch.Tensor]
    total: torch.Tensor
    remainder: torch.Tensor
    output_norm: torch.Tensor
    generator: str

    def largest(self) -> str:
        """The term with the largest contribution (summed over samples): a module, or ``OUTSIDE`` when what
        happens outside leaf modules (a functional operation in a ``forward``) weighs more than any of them."""
        return max(self.relative, key=lambda name: float(self.relative[name].sum()))

    def table(self) -> str:
        """One line per module: its relative contribution (mean over samples), largest marked."""
        top = self.largest()
        mark = {True: "  <- largest", False: ""}
        lines = [f"{'module':<32} {'‖C‖/‖f‖':>10}"]
        for name, value in self.relative.items():
            if name != OUTSIDE:
                lines.append(f"{name:<32} {float(value.mean()):>10.3g}{mark[name == top]}")
        rest = self.relative[OUTSIDE]
        lines.append(f"{'(outside modules, rounding)':<32} {float(rest.mean()):>10.3g}{mark[top == OUTSIDE]}")
        lines.append(f"{'end to end':<32} {float(_relative(self.total, self.output_norm).mean()):>10.3g}")
        return "\n".join(lines)


def _relative(t, norm):
    numerator = t.flatten(1).norm(dim=1)
    return torch.where(norm == 0, torch.where(numerator == 0, 0.0, math.inf), numerator / norm.clamp_min(1e-300))


def layerwise_lie_derivative(
    module: torch.nn.Module,
    x: torch.Tensor,
    generator: Generator,
    *,
    output_action: OutputActionLike | None = None,
) -> LayerwiseLieDerivative:
    """Each leaf module's exact contribution ``C_m`` to ``L_X f(x)``; see the module documentation.

    ``output_action`` says how the network's output moves (``"invariant"`` for logits, ``"equivariant"``
    for maps of the input's size); it is never guessed.  The module is measured in eval mode on a copy;
    neither it nor ``x`` is changed.  The contributions add up to the end-to-end derivative, up to the
    ``remainder`` of operations outside leaf modules.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
    ...                           torch.nn.Conv2d(2, 2, 3, padding=1))  # zero padding: not equivariant
    >>> result = layerwise_lie_derivative(net, torch.randn(2, 1, 8, 8), "translation-x",
    ...                                   output_action="equivariant")
    >>> result.largest()
    '1'
    """
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(f"module={describe_value(module)} must be a torch.nn.Module (its leaf modules are "
                              f"what the derivative is split over)")
    _check_input(x, generator)
    action = _resolve_output_action(output_action, generator)
    x = x.detach().clone()
    spatial = tuple(x.shape[2:])
    with audited_copy(module, probe=x) as (model, _):
        leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
        local = _local_derivatives(model, leaves, x, generator, spatial)
        output, pushed = _jvp(ProtectedLayer(model), x, flow_tangent(x, generator))
        total = pushed - _output_generator(action, output, x, generator, x.dim() - 2)
        modules = dict(leaves)
        contributions = {term.label: _pushed_to_output(model, modules[term.name], term.call, term.direction, x)
                         for term in local}
    norm = output.flatten(1).norm(dim=1)
    remainder = total - sum(contributions.values(), torch.zeros_like(total))
    relative = {n: _relative(c, norm) for n, c in contributions.items()} | {OUTSIDE: _relative(remainder, norm)}
    return LayerwiseLieDerivative(contributions, relative, total, remainder, norm, generator)


@dataclass
class _Term:
    """One call of one leaf module, and its local Lie derivative ``d_m`` there."""

    name: str
    call: int  # which call of the module, from 0
    calls: int  # how many calls the module got
    direction: torch.Tensor

    @property
    def label(self) -> str:
        return self.name if self.calls == 1 else f"{self.name} (call {self.call + 1})"


def _local_derivatives(model, leaves, x, generator, spatial):
    """Per call of each measurable leaf, in forward order, ``d_m = J_m(u)·A u − A v`` on the activations it
    receives.  A call with several inputs, a non-tensor or integer output, or a padded or cropped map on either
    side (under a translation) is not measurable on its own: its share stays in the remainder."""
    calls: list[tuple[str, int, torch.Tensor | None, torch.Tensor | None]] = []
    counts: dict[str, int] = {}

    received: dict[str, list] = {}

    def receiver(name):  # the input is copied before the call: an in-place module overwrites it
        def pre_hook(m, args):
            one = len(args) == 1 and isinstance(args[0], torch.Tensor) and args[0].is_floating_point()
            received.setdefault(name, []).append(args[0].detach().clone() if one else None)
        return pre_hook

    def recorder(name):
        def hook(m, args, output):
            k = counts.get(name, 0)
            counts[name] = k + 1
            u = received[name].pop()
            if u is not None and isinstance(output, torch.Tensor) and output.is_floating_point():
                calls.append((name, k, u, output.detach().clone()))
            else:
                calls.append((name, k, None, None))
        return hook

    with contextlib.ExitStack() as hooks, torch.no_grad():  # a hook handle removes itself on exit
        for name, m in leaves:
            hooks.enter_context(m.register_forward_pre_hook(receiver(name)))
            hooks.enter_context(m.register_forward_hook(recorder(name)))
        ProtectedLayer(model)(x, "the network, recording its activations")
    modules = dict(leaves)
    terms = []
    for name, k, u, v in calls:
        if u is None or v is None or not (_moves_with_the_input(u, generator, spatial) and
                                          _moves_with_the_input(v, generator, spatial)):
            continue  # its share stays in the remainder (OUTSIDE), so the terms still add up
        out, pushed = _jvp(ProtectedLayer(modules[name], label=f"module {name!r}"), u,
                           activation_tangent(u, generator, spatial))
        terms.append(_Term(name, k, counts[name], pushed - activation_tangent(out, generator, spatial)))
    return terms


def _pushed_to_output(model, leaf, call, direction, x):
    """``∂f/∂v_m · d_m``: the network's forward-mode derivative in ``ε`` with ``ε·d_m`` added to the output of
    ``leaf``'s ``call``-th call (its other calls unchanged)."""

    def run(eps):  # one ε per sample (the batch axis the call protection expects); samples are independent
        moved = eps.reshape((-1,) + (1,) * (direction.dim() - 1)) * direction
        seen = [0]

        def add(m, args, output):
            seen[0] += 1
            return output + moved if seen[0] == call + 1 else output

        with leaf.register_forward_hook(add):  # removed on exit, even when the model raises
            return model(x)

    zero = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    _, pushed = _jvp(ProtectedLayer(run, label="the network with a module's output moved"), zero,
                     torch.ones_like(zero))
    return pushed
