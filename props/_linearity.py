"""Is a module affine?  Proved from its ``torch.fx`` graph, never guessed from probes.

A layer that happens to be linear on the points tried (a per-pixel
quantiser ``round(x)`` is the identity on integers; a dead zone
``x·(|x| > ½)`` too) must not pass for linear.  So linearity is read off the
traced graph: every operation on a value that depends on the input must be
affine in that value — convolutions, linear layers, padding, shifts and
reshapes, sums, averages, scaling by constants, batch norm in eval mode — and
every product or quotient must have a constant on one side.  Anything else,
a graph that cannot be traced, or data-dependent control flow, means "not
proved affine", with the reason.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

_AFFINE_MODULES = (
    torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d,
    torch.nn.Linear, torch.nn.Identity, torch.nn.Flatten,
    torch.nn.Unflatten, torch.nn.ZeroPad2d, torch.nn.ConstantPad1d, torch.nn.ConstantPad2d,
    torch.nn.ReflectionPad1d, torch.nn.ReflectionPad2d, torch.nn.ReplicationPad1d, torch.nn.ReplicationPad2d,
    torch.nn.CircularPad1d, torch.nn.CircularPad2d, torch.nn.AvgPool1d, torch.nn.AvgPool2d,
    torch.nn.AdaptiveAvgPool1d, torch.nn.AdaptiveAvgPool2d, torch.nn.PixelShuffle, torch.nn.PixelUnshuffle,
    torch.nn.ChannelShuffle,
)
#: modules that are affine in eval mode only (the certificate runs the module in eval mode)
_AFFINE_IN_EVAL = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.Dropout, torch.nn.Dropout1d,
                   torch.nn.Dropout2d)
_AFFINE_FUNCTIONS = {
    F.conv1d, F.conv2d, F.conv3d, F.linear, F.pad, F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d,
    F.adaptive_avg_pool2d, F.pixel_shuffle, F.pixel_unshuffle, torch.roll, torch.flip, torch.rot90, torch.cat,
    torch.stack, torch.reshape, torch.flatten, torch.transpose, torch.permute, torch.squeeze, torch.unsqueeze,
    torch.sum, torch.mean, torch.neg, torch.conv1d, torch.conv2d, torch.narrow,
    operator.getitem, operator.neg, operator.pos, torch.chunk, torch.split, torch.movedim, torch.swapaxes,
    torch.repeat_interleave, torch.tile,
}
_AFFINE_METHODS = {
    "view", "reshape", "permute", "transpose", "flatten", "unflatten", "contiguous", "squeeze", "unsqueeze",
    "sum", "mean", "neg", "roll", "flip", "rot90", "expand", "expand_as", "repeat", "chunk", "split", "narrow",
    "movedim", "clone", "view_as", "reshape_as", "repeat_interleave", "__getitem__",
}
_ADDITIVE = {operator.add, operator.sub, torch.add, torch.sub, "add", "sub", "__add__", "__sub__", "__radd__"}
_SCALING = {operator.mul, torch.mul, "mul", "__mul__", "__rmul__", operator.matmul, torch.matmul, "matmul"}
_DIVIDING = {operator.truediv, torch.div, "div", "__truediv__"}


def graph_is_affine(module: torch.nn.Module) -> tuple[bool, str]:
    """(True, "") when the traced graph of ``module`` is made of affine operations; else (False, why).

    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    >>> graph_is_affine(conv)
    (True, '')
    >>> graph_is_affine(torch.nn.Sequential(conv, torch.nn.ReLU()))[1]
    "the operation ReLU (at '1') is not affine"
    """
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:  # control flow on values, unsupported Python: not traceable, so not proved
        return False, f"the module cannot be traced by torch.fx ({type(exc).__name__}: {str(exc)[:120]})"
    modules = dict(module.named_modules())
    depends: dict[str, bool] = {}
    for node in graph.nodes:
        inputs = _input_nodes(node)
        variable = any(depends.get(n.name, False) for n in inputs)
        if node.op == "placeholder":
            depends[node.name] = True
            continue
        if node.op in ("get_attr", "output") or not variable:
            depends[node.name] = variable
            continue
        depends[node.name] = True
        target = node.target
        if node.op == "call_module":
            layer = modules[target]
            # the exact torch classes only: a subclass may override forward with anything
            if type(layer) in _AFFINE_MODULES or type(layer) in _AFFINE_IN_EVAL:
                continue
            return False, f"the operation {type(layer).__name__} (at {target!r}) is not affine"
        if target in _ADDITIVE:
            continue
        if target in _SCALING:
            if sum(depends.get(n.name, False) for n in inputs) <= 1:
                continue
            return False, f"{node.format_node()!s} multiplies two values that both depend on the input"
        if target in _DIVIDING:
            divisor = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(divisor, torch.fx.Node) and depends.get(divisor.name, False)):
                continue
            return False, f"{node.format_node()!s} divides by a value that depends on the input"
        if (node.op == "call_function" and target in _AFFINE_FUNCTIONS) or \
                (node.op == "call_method" and target in _AFFINE_METHODS):
            # affine in its data argument only: an index, a shape or a padding read from the input
            # (x[x > 0], torch.roll(x, int(x.sum()))) makes the operation depend on the values
            if target in _MANY_DATA or not _reads_input_beyond_data(node, depends):
                continue  # (padding with a constant other than 0 is affine too: the certificate handles f(0))
            return False, f"{node.format_node()!s} reads an index or a size from a value that depends on the input"
        name = getattr(target, "__name__", str(target))
        return False, f"the operation {name} (in {node.format_node()!s}) is not affine"
    return True, ""


#: affine operations whose several data arguments may all depend on the input
_MANY_DATA = {torch.cat, torch.stack}


def _reads_input_beyond_data(node: torch.fx.Node, depends: dict) -> bool:
    """Whether an argument other than the first (the data) depends on the input."""
    rest = list(node.args[1:]) + list(node.kwargs.values())
    found: list[torch.fx.Node] = []

    def collect(n: torch.fx.Node) -> torch.fx.Node:
        found.append(n)
        return n

    torch.fx.node.map_arg(rest, collect)
    return any(depends.get(n.name, False) for n in found)


def _input_nodes(node: torch.fx.Node) -> list[torch.fx.Node]:
    """The nodes a node reads (its arguments, nested in lists and dicts too)."""
    found: list[torch.fx.Node] = []

    def collect(n: torch.fx.Node) -> torch.fx.Node:
        found.append(n)
        return n

    torch.fx.node.map_arg((node.args, node.kwargs), collect)
    return found
