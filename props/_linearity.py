"""Is a module affine?  Proved from its ``torch.fx`` graph, never guessed from probes.

A layer that happens to be linear on the points tried (a per-pixel
quantiser ``round(x)`` is the identity on integers; a dead zone
``x·(|x| > ½)`` too) must not pass for linear.  So linearity is read off the
traced graph: every operation on a value that depends on the input must be
affine in that value — convolutions, linear layers, padding, shifts and
reshapes, sums, averages, scaling by constants, batch norm in eval mode — and
every product or quotient must have a constant on one side.  The list is an
allowlist of operations *and* of their arguments: ``torch.div`` with a
``rounding_mode``, ``sum(dtype=torch.int64)`` or a cast to another dtype
round, so they are not affine.  Anything else, a graph that cannot be traced,
or data-dependent control flow, means "not proved affine", with the reason.

The graph only describes the module if a call runs what ``torch.fx`` traced:
the class's ``forward``.  Forward hooks (on any module, or global ones), a
class that overrides ``__call__``, an instance attribute that replaces a
method (a patched ``forward``) or an operation that writes into a tensor (a
buffer updated in forward) all run code or change state the graph does not
show, so they also mean "not proved".
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


#: keyword arguments that leave an allowed operation affine: dimensions, sizes, layouts, constant weights
_NEUTRAL_KWARGS = {
    "input", "other", "tensors", "dim", "dims", "keepdim", "start_dim", "end_dim", "dim0", "dim1", "axis0", "axis1",
    "source", "destination", "shifts", "k", "shape", "size", "sizes", "start", "length", "chunks",
    "split_size_or_sections", "split_size", "repeats", "output_size", "memory_format", "alpha", "weight", "bias",
    "stride", "padding", "dilation", "groups", "pad", "mode", "value", "kernel_size", "ceil_mode",
    "count_include_pad", "divisor_override", "upscale_factor", "downscale_factor",
    "out",  # only as out=None: a tensor given there is a write, declined before the arguments are read
}
#: Python's augmented assignments write into their left operand
_INPLACE_OPERATORS = {operator.setitem, operator.iadd, operator.isub, operator.imul, operator.itruediv,
                      operator.ifloordiv, operator.imod, operator.ipow, operator.imatmul, operator.iand,
                      operator.ior, operator.ixor, operator.ilshift, operator.irshift}
#: a call of a module runs its hooks and its forward through these; they must be nn.Module's own, as torch
#: defines them (captured at import: a patch of nn.Module itself counts too)
_CALL_METHODS = {name: getattr(torch.nn.Module, name) for name in ("__call__", "_wrapped_call_impl", "_call_impl")}


def graph_is_affine(module: torch.nn.Module) -> tuple[bool, str]:
    """(True, "") when the traced graph of ``module`` is made of affine operations; else (False, why).

    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    >>> graph_is_affine(conv)
    (True, '')
    >>> graph_is_affine(torch.nn.Sequential(conv, torch.nn.ReLU()))[1]
    "the operation ReLU (at '1') is not affine"
    """
    traced, why = traced_affine(module)
    return traced is not None, why


def traced_affine(module: torch.nn.Module) -> tuple[torch.fx.GraphModule | None, str]:
    """(the traced ``GraphModule``, "") when ``module`` is proved affine from its graph; else (None, why)."""
    unseen = untraced_code(module)
    if unseen:
        return None, unseen
    attributes = set(vars(module))
    try:
        traced = torch.fx.symbolic_trace(module)
    except Exception as exc:  # control flow on values, unsupported Python: not traceable, so not proved
        return None, f"the module cannot be traced by torch.fx ({type(exc).__name__}: {str(exc)[:120]})"
    finally:
        # the tracer stores the tensors forward creates on the traced root (the GraphModule keeps its own
        # references): take them off, so the module is as it was and a state change is the module's own
        for key in set(vars(module)) - attributes:
            if key.startswith("_tensor_constant"):
                delattr(module, key)
    modules = dict(module.named_modules())
    depends: dict[str, bool] = {}
    for node in traced.graph.nodes:
        # a write into a tensor changes the module (a buffer) or a value behind the graph's back, whether or
        # not it depends on the input: the graph of one call then does not describe the next
        effect = _writes(node)
        if effect:
            return None, effect
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
            if type(layer) in _AFFINE_MODULES:
                continue
            if type(layer) in _AFFINE_IN_EVAL:
                # batch norm without running statistics normalises by the batch's own, even in eval mode
                batch_statistics = isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) and \
                    (layer.running_mean is None or layer.running_var is None)
                if not layer.training and not batch_statistics:
                    continue
                return None, (f"the operation {type(layer).__name__} (at {target!r}) is not affine: it is in training "
                              f"mode or normalises by the batch's own statistics")
            return None, f"the operation {type(layer).__name__} (at {target!r}) is not affine"
        allowed = target in _ADDITIVE or target in _SCALING or target in _DIVIDING or \
            (node.op == "call_function" and target in _AFFINE_FUNCTIONS) or \
            (node.op == "call_method" and target in _AFFINE_METHODS)
        if not allowed:
            name = getattr(target, "__name__", str(target))
            return None, f"the operation {name} (in {node.format_node()!s}) is not affine"
        rounding = _rounding_argument(node)
        if rounding:
            return None, rounding
        if target in _ADDITIVE:
            continue
        if target in _SCALING:
            if sum(depends.get(n.name, False) for n in inputs) <= 1:
                continue
            return None, f"{node.format_node()!s} multiplies two values that both depend on the input"
        if target in _DIVIDING:
            divisor = node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
            if not (isinstance(divisor, torch.fx.Node) and depends.get(divisor.name, False)):
                continue
            return None, f"{node.format_node()!s} divides by a value that depends on the input"
        # affine in its data argument only: an index, a shape or a padding read from the input
        # (x[x > 0], torch.roll(x, int(x.sum()))) makes the operation depend on the values
        if target in _MANY_DATA or not _reads_input_beyond_data(node, depends):
            continue  # (padding with a constant other than 0 is affine too: the certificate handles f(0))
        return None, f"{node.format_node()!s} reads an index or a size from a value that depends on the input"
    return traced, ""


def untraced_code(module: torch.nn.Module) -> str:
    """Why calling ``module`` may run code its ``torch.fx`` trace does not contain, or "" when it cannot.

    ``torch.fx`` traces the class's ``forward`` and records leaf modules as calls: hooks, a ``__call__``
    of the class's own or a method replaced on the instance are never seen.

    >>> conv = torch.nn.Conv2d(1, 1, 3)
    >>> untraced_code(conv)
    ''
    >>> _ = conv.register_forward_hook(lambda module, args, output: output.round())
    >>> untraced_code(conv)
    'the root module has a forward hook, which torch.fx does not trace'
    """
    hooks = torch.nn.modules.module
    if hooks._global_forward_hooks or hooks._global_forward_pre_hooks:
        return ("a global forward hook is registered (torch.nn.modules.module.register_module_forward_hook or "
                "_pre_hook): it runs on every module call, and torch.fx does not trace it")
    for name, m in module.named_modules():
        where = f"the submodule {name!r}" if name else "the root module"
        if m._forward_hooks or m._forward_pre_hooks:
            kind = "forward hook" if m._forward_hooks else "forward pre-hook"
            return f"{where} has a {kind}, which torch.fx does not trace"
        for method, original in _CALL_METHODS.items():
            if getattr(type(m), method, None) is not original:
                return (f"{where} ({type(m).__name__}) has a {method} other than torch.nn.Module's: a call runs it, "
                        f"while torch.fx traces forward only")
        for key, value in vars(m).items():
            if callable(getattr(type(m), key, None)) and callable(value):
                return (f"{where} ({type(m).__name__}) has an instance attribute {key!r} that replaces the class's "
                        f"method: a call runs it, while torch.fx traces the class's code")
    return ""


def _writes(node: torch.fx.Node) -> str:
    """Why ``node`` writes into a tensor (an in-place operation, ``out=``), or ""."""
    name = getattr(node.target, "__name__", node.target if isinstance(node.target, str) else "")
    in_place = isinstance(name, str) and name.endswith("_") and not name.endswith("__")
    if node.op in ("call_method", "call_function") and (in_place or node.target in _INPLACE_OPERATORS):
        return (f"the in-place operation {name} (in {node.format_node()!s}) writes into a tensor: the module's "
                f"state or values the graph has already read may change from call to call")
    if node.op in ("call_method", "call_function") and node.kwargs.get("out") is not None:
        return f"{node.format_node()!s} writes into a tensor given as out="
    if node.op in ("call_method", "call_function") and node.kwargs.get("inplace"):
        return f"{node.format_node()!s} writes into its input (inplace=True)"
    return ""


def _rounding_argument(node: torch.fx.Node) -> str:
    """Why an allowed operation is made non-affine by its arguments (a rounding mode, a cast, an unknown
    keyword), or ""."""
    dtypes: list = [a for a in node.args if isinstance(a, torch.dtype)]
    for key, value in node.kwargs.items():
        if key == "dtype":
            dtypes.append(value)
        elif key == "rounding_mode":
            if value is not None:
                return f"{node.format_node()!s} rounds (rounding_mode={value!r}), so it is not affine"
        elif key not in _NEUTRAL_KWARGS:
            return (f"{node.format_node()!s} passes the keyword {key}={value!r}, which the certificate does not "
                    f"know to keep the operation affine")
    for dtype in dtypes:
        # the certificate computes in float64: a cast to any other dtype rounds or truncates the values
        if dtype is not None and dtype != torch.float64:
            return (f"{node.format_node()!s} casts to {dtype}, which rounds or truncates values, so it is not "
                    f"affine")
    return ""


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
