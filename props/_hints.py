"""Hints for a violation, chosen from what the layer does and where the error sits — or none.

A hint is advice the reader acts on, so a wrong one costs more than a missing one. Each hint here fires only
when two things agree: the error's place or shape says what kind of failure it is, and the layer's own
structure (its padding, its stride, its mode) says the failure can come from there. When the layer's
structure cannot be read (a custom module that may pad or crop in its ``forward``), the hint says so
instead of guessing.
"""

from __future__ import annotations

import torch

from ._actions import Dihedral, ZeroShift, _Shift
from ._output_actions import Trivial

#: torch layers whose padding is fully described by their attributes
_PADDED = (torch.nn.modules.conv._ConvNd, torch.nn.modules.pooling._MaxPoolNd, torch.nn.modules.pooling._AvgPoolNd)


def batch_dependent_in_training(f) -> bool:
    """True for a module in training mode with layers that then mix the batch or draw randomness."""
    return isinstance(f, torch.nn.Module) and f.training and any(
        isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Dropout)) for m in f.modules())


def padding_modes(f) -> tuple[dict[str, list[str]], bool]:
    """The padding modes the layer uses, each with the sub-layers using it, and whether the list is complete.

    The list is complete only when every sub-layer is a torch layer whose padding its attributes describe
    (or that cannot pad); a custom module may pad in its ``forward``, so its presence makes the list partial.

    >>> padding_modes(torch.nn.Conv2d(1, 1, 3, padding=1))
    ({'zeros': ['(the layer)']}, True)
    >>> padding_modes(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"))
    ({'circular': ['(the layer)']}, True)
    """
    modes: dict[str, list[str]] = {}
    complete = isinstance(f, torch.nn.Module)
    if not complete:
        return modes, False
    for name, module in f.named_modules():
        label = name or "(the layer)"
        if isinstance(module, _PADDED):
            padding = module.padding
            pads = padding == "same" or (padding != "valid" and any(
                p != 0 for p in (padding if isinstance(padding, tuple) else (padding,))))
            if pads:
                mode: str
                if isinstance(module, torch.nn.modules.conv._ConvNd):
                    mode = module.padding_mode
                else:  # max pooling pads with −∞, average pooling with zeros: both non-periodic
                    mode = "zeros" if isinstance(module, torch.nn.modules.pooling._AvgPoolNd) else "−∞"
                modes.setdefault(mode, []).append(label)
        elif isinstance(module, torch.nn.modules.padding._ReflectionPadNd):
            modes.setdefault("reflect", []).append(label)
        elif isinstance(module, torch.nn.modules.padding._ReplicationPadNd):
            modes.setdefault("replicate", []).append(label)
        elif isinstance(module, torch.nn.modules.padding._CircularPadNd):
            modes.setdefault("circular", []).append(label)
        elif isinstance(module, torch.nn.modules.padding._ConstantPadNd):
            modes.setdefault("zeros" if module.value == 0 else f"constant {module.value:g}", []).append(label)
        elif not type(module).__module__.startswith("torch.nn"):
            complete = False  # custom code: its forward may pad, crop or index the border
    return modes, complete


def hints_for(f, x, y0, location, margin, violated: bool, g, output_action) -> tuple[str, ...]:
    """The hints for one measured element ``g``: training mode, stride, border — each only when it applies."""
    if not violated:
        return ()
    hints = []
    if batch_dependent_in_training(f):
        hints.append(TRAIN_MODE)
    shifts = isinstance(g, _Shift) and not isinstance(g, Dihedral)
    equivariant = output_action is not None and not isinstance(output_action, Trivial)
    in_sizes, out_sizes = x.shape[2:], y0.shape[2:]
    if shifts and equivariant and out_sizes and len(out_sizes) == len(in_sizes) and all(
            o and i % o == 0 and i // o > 1 for i, o in zip(in_sizes, out_sizes)):
        factors = {i // o for i, o in zip(in_sizes, out_sizes)}
        if len(factors) == 1 and not _strided_action(output_action):
            hints.append(STRIDE.format(factor=factors.pop()))
    border = _border_hint(f, y0, location, margin, g, shifts)
    if border:
        hints.append(border)
    return tuple(hints)


def _strided_action(output_action) -> bool:
    return getattr(output_action, "stride", 1) != 1


def _border_hint(f, y0, location, margin, g, shifts) -> str | None:
    if not shifts or location is None or len(location) <= 2 or margin is not None:
        return None
    sizes = y0.shape[2:]
    if not all(n >= 7 for n in sizes):  # no interior to speak of
        return None
    distance = min(min(i, n - 1 - i) for i, n in zip(location[2:], sizes))
    if distance > 1:
        return None
    where = "on the output border" if distance == 0 else "next to the output border"
    modes, complete = padding_modes(f)
    periodic = {"circular"}
    breaking = {mode: names for mode, names in modes.items() if mode not in periodic}
    if isinstance(g, ZeroShift):
        return (f"the error sits {where}: a zero-fill shift moves content across the border, where what the "
                f"layer sees differs from what it saw; state how far from the border the claim holds "
                f"(border=<receptive-field radius>).")
    if breaking:
        used = "; ".join(f"{mode} in {', '.join(names[:3])}" + (" …" if len(names) > 3 else "")
                         for mode, names in breaking.items())
        return (f"the error sits {where}, and the layer pads non-periodically ({used}): circular-shift "
                f"equivariance breaks there. It can hold on the interior (margin=<receptive-field radius>), or "
                f"everywhere with padding_mode='circular'.")
    if not complete:
        return (f"the error sits {where}. If the layer pads, crops or indexes the border in its own code, "
                f"circular-shift equivariance breaks there; it can then hold on the interior "
                f"(margin=<receptive-field radius>).")
    return None  # every padding is circular (or there is none): the border is not the cause


TRAIN_MODE = (
    "the layer is in training mode: BatchNorm uses batch statistics and dropout draws random masks, so "
    "outputs depend on the rest of the batch. Call layer.eval() before checking (the audit does this for you)."
)
STRIDE = (
    "the output is {factor}× smaller than the input: a stride-{factor} layer is at best equivariant to shifts "
    "in {factor}Z^d, with the output moving by t/{factor}. Use output_action=strided_action({factor}) and "
    "shifts that are multiples of {factor}."
)
