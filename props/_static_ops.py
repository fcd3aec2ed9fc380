"""The static certifier's table: for each known operation, what it does to an abstract value.

One :class:`Interpreter` runs over the traced graph for one symmetry
(``translation``, ``rot90`` or ``flip``); every node gets a
:class:`._static_values.Value`.  The rules, by family:

- **pointwise** (activations, casts, arithmetic, comparisons, dropout and
  norms in eval mode with running statistics): keep the property; several
  operands combine — lattices by lcm, margins by max — and a constant or
  invariant operand must be spatially uniform (broadcast over the spatial
  axes; a positional embedding breaks translations);
- **windows** (convolutions, poolings, BlurPool, APS, P4 layers): see
  :mod:`._static_values`; for rot90 and flips the kernel itself must be
  symmetric, which is checked on the weights (exact equality);
- **global reductions** (mean/sum/amax over every spatial axis, global and
  size-1 adaptive pooling, the Fourier magnitude): equivariance becomes
  invariance, if it held everywhere (no margin);
- **statistics over the whole map** (GroupNorm, InstanceNorm, LayerNorm over
  (C, *S)): keep the property where it held everywhere;
- **anything applied to invariant values** (the classifier head) stays
  invariant, if the operation is a deterministic function (every table
  entry; not random draws, not unknown modules);
- everything else is ``unknown``.
"""

from __future__ import annotations

import operator
import os
from dataclasses import replace
from fractions import Fraction

import torch
import torch.nn.functional as F

from ._static_values import (
    Event, Value, Window, broken, lcm, merge_events, pad_window, reflect_through, shift_through, unknown,
)

_MODELS = "convnet_invariances.models."

_ACTIVATIONS = (
    torch.nn.ReLU, torch.nn.ReLU6, torch.nn.LeakyReLU, torch.nn.GELU, torch.nn.SiLU, torch.nn.Sigmoid,
    torch.nn.Tanh, torch.nn.ELU, torch.nn.CELU, torch.nn.SELU, torch.nn.Softplus, torch.nn.Hardtanh,
    torch.nn.Hardsigmoid, torch.nn.Hardswish, torch.nn.Mish, torch.nn.Softsign, torch.nn.Tanhshrink,
    torch.nn.Hardshrink, torch.nn.Softshrink, torch.nn.LogSigmoid, torch.nn.Threshold, torch.nn.Identity,
)
_DROPOUTS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.AlphaDropout)
_BATCHNORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)
_CONVS = (torch.nn.Conv1d, torch.nn.Conv2d)
_MAXPOOLS = (torch.nn.MaxPool1d, torch.nn.MaxPool2d)
_AVGPOOLS = (torch.nn.AvgPool1d, torch.nn.AvgPool2d)
_LPPOOLS = (torch.nn.LPPool1d, torch.nn.LPPool2d)
_ADAPTIVE = (torch.nn.AdaptiveAvgPool1d, torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool1d,
             torch.nn.AdaptiveMaxPool2d)
_PADS = {torch.nn.ZeroPad1d: "zeros", torch.nn.ZeroPad2d: "zeros", torch.nn.ConstantPad1d: "zeros",
         torch.nn.ConstantPad2d: "zeros", torch.nn.ReflectionPad1d: "reflect", torch.nn.ReflectionPad2d: "reflect",
         torch.nn.ReplicationPad1d: "replicate", torch.nn.ReplicationPad2d: "replicate",
         torch.nn.CircularPad1d: "circular", torch.nn.CircularPad2d: "circular"}
_OTHER_MODULES = (torch.nn.Linear, torch.nn.Flatten, torch.nn.GroupNorm, torch.nn.InstanceNorm1d,
                  torch.nn.InstanceNorm2d, torch.nn.LayerNorm, torch.nn.PReLU, torch.nn.Upsample,
                  torch.nn.PixelShuffle, torch.nn.PixelUnshuffle, torch.nn.Softmax, torch.nn.LogSoftmax)
TORCH_MODULES = (_ACTIVATIONS + _DROPOUTS + _BATCHNORMS + _CONVS + _MAXPOOLS + _AVGPOOLS + _LPPOOLS + _ADAPTIVE
                 + tuple(_PADS) + _OTHER_MODULES)
#: the project's reference layers the table knows, by class name in ``convnet_invariances.models``
PROJECT_MODULES = ("Conv", "Pool", "GlobalPool", "BlurPool", "MaxBlurPool", "APS", "P4Lifting", "P4GroupConv",
                   "OrientationPool", "FourierMagnitude", "CoordConv", "CirculantLinear", "DenseLinear")
#: their methods a call runs, as the library defines them (captured at import: a later patch is seen)
_METHODS = {cls: {name: getattr(cls, name) for name in ("forward", "_conv_forward") if hasattr(cls, name)}
            for cls in TORCH_MODULES}

_POINTWISE_FUNCTIONS = {
    F.relu, torch.relu, F.relu6, F.leaky_relu, F.gelu, F.silu, F.sigmoid, torch.sigmoid, F.tanh, torch.tanh, F.elu,
    F.celu, F.selu, F.softplus, F.hardtanh, F.hardsigmoid, F.hardswish, F.mish, F.softsign, F.logsigmoid,
    torch.abs, torch.exp, torch.log, torch.sqrt, torch.rsqrt, torch.square, torch.neg, torch.sin, torch.cos,
    torch.clamp, torch.clip, torch.sign, torch.erf, operator.neg, operator.pos, operator.abs,
    torch.add, torch.sub, torch.mul, torch.div, torch.maximum, torch.minimum, torch.pow, torch.where,
    torch.true_divide, torch.floor, torch.ceil, torch.round, torch.trunc, torch.gt, torch.lt, torch.ge, torch.le,
    torch.eq, torch.ne, operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
    operator.pow, operator.mod, operator.gt, operator.lt, operator.ge, operator.le, operator.eq, operator.ne,
    operator.and_, operator.or_, torch.logical_and, torch.logical_or, torch.logical_not,
}
_POINTWISE_METHODS = {
    "relu", "sigmoid", "tanh", "abs", "exp", "log", "sqrt", "rsqrt", "square", "neg", "clamp", "clip", "sign",
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "float", "double", "half", "contiguous", "clone",
    "floor", "ceil", "round", "gt", "lt", "ge", "le", "eq", "ne", "__add__", "__sub__", "__mul__", "__truediv__",
    "__radd__", "__rmul__", "__rsub__", "__neg__", "__pow__", "detach", "relu_", "sigmoid_", "tanh_", "clamp_",
    "abs_", "mul_", "add_", "sub_", "div_", "neg_", "exp_", "sqrt_",
}
_FACTORIES = {torch.arange, torch.zeros, torch.ones, torch.full, torch.linspace, torch.eye, torch.tensor,
              torch.empty}
_REDUCTIONS = {torch.mean: "mean", torch.sum: "sum", torch.amax: "amax", torch.amin: "amin",
               torch.logsumexp: "logsumexp"}
_REDUCTION_METHODS = {"mean", "sum", "amax", "amin", "logsumexp"}
_FLATTENS = {torch.flatten: "flatten"}
_RESHAPE_METHODS = {"flatten", "view", "reshape"}
_RANDOM = {"rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "bernoulli",
           "multinomial", "normal", "poisson", "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d",
           "dropout2d", "dropout3d", "rrelu", "native_dropout", "uniform_", "normal_", "bernoulli_", "exponential_",
           "random_", "geometric_", "cauchy_", "log_normal_"}
#: operations whose output may share memory with an input (an in-place write through them reaches that input)
_FRESH_FUNCTIONS = {torch.conv1d, torch.conv2d, F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d,
                    operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub, torch.mul,
                    torch.div, torch.cat, F.relu, torch.relu, F.gelu, F.silu, torch.sigmoid, torch.tanh, F.linear,
                    F.interpolate, F.pad, torch.mean, torch.sum}
_FRESH_METHODS = {"mean", "sum", "add", "sub", "mul", "div", "relu", "sigmoid", "tanh", "clone"}
_NOT_FRESH_MODULES = (torch.nn.Identity, torch.nn.Flatten) + _DROPOUTS

#: the kernel of a convolution whose weights forward computes (``w * mask``, ``w.double()``): it exists, but the
#: certifier holds no tensor to check its symmetry on
COMPUTED_WEIGHTS = object()


#: the functions torch's layers call at run time, as torch defines them (captured at import: a later global patch
#: of ``torch.nn.functional.conv2d`` would change what every Conv2d computes)
_FUNCTIONAL = {name: getattr(F, name) for name in (
    "conv1d", "conv2d", "pad", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "batch_norm",
    "group_norm", "instance_norm", "layer_norm", "linear", "relu", "gelu", "silu", "leaky_relu", "interpolate",
    "pixel_shuffle", "pixel_unshuffle", "dropout", "softmax", "log_softmax")}


def is_project_layer(m) -> str:
    """The reference layer's class name when ``m`` is exactly one of the project's known layers, else ""."""
    cls = type(m)
    if cls.__module__.startswith(_MODELS) and cls.__qualname__ in PROJECT_MODULES:
        return cls.__qualname__
    return ""


def is_known(m) -> bool:
    return type(m) in _METHODS or bool(is_project_layer(m))


def declined(m) -> str:
    """Why a table module cannot be trusted to run its library code, or "" (a patched torch function is found
    once per analysis, by :func:`patched_torch`)."""
    cls = type(m)
    for name, original in _METHODS.get(cls, {}).items():
        if getattr(cls, name) is not original:
            return f"{cls.__name__}.{name} is not torch's own (patched)"
    if is_project_layer(m):
        for klass in cls.__mro__:
            if klass is torch.nn.Module:
                break
            method = vars(klass).get("forward")
            if method is not None and not getattr(method, "__module__", "").startswith(_MODELS):
                return f"{cls.__name__}.forward is not the reference layer's own (patched)"
    return ""


#: what a pool's own padding holds: for a max, nothing it can pick; for an average with count_include_pad=False,
#: nothing at all.  Joined with an explicit padding of zeros, the border is filled two ways ("mixed").
MAX_FILL, EXCLUDED_FILL = "max-ignored", "excluded"


def _constant_fill(value) -> str:
    """The name of a padding filled with a non-zero constant: joined only with the same constant."""
    return f"constant {float(value)!r}"


#: torch's namespaces whose functions its layers call, as they were when this module was imported: a later
#: global replacement (``torch.relu = ...``, which every ``nn.ReLU`` then calls) makes every verdict unknown
_TORCH_NAMESPACES = ((torch, "torch"), (F, "torch.nn.functional"), (torch._C._nn, "torch._C._nn"),
                     (torch.Tensor, "torch.Tensor"))
_TORCH_AT_IMPORT = {label: dict(vars(namespace)) for namespace, label in _TORCH_NAMESPACES}


_TORCH_FILES = os.path.dirname(torch.__file__)


def _torch_own(value) -> bool:
    """Whether a replacement comes from torch itself (torch.compile wraps ``torch.manual_seed``, for one)."""
    try:
        code = getattr(getattr(value, "__func__", value), "__code__", None)
    except Exception:  # an object whose attribute lookup raises (torch's custom-class proxies)
        return False
    return code is not None and code.co_filename.startswith(_TORCH_FILES)


def patched_torch() -> str:
    """Which of torch's functions was replaced since this library was imported, or ""."""
    for namespace, label in _TORCH_NAMESPACES:
        before = _TORCH_AT_IMPORT[label]
        for name, value in vars(namespace).items():
            if name in before and value is not before[name] and callable(before[name]) and not _torch_own(value):
                return f"{label}.{name} was replaced after import (patched): every layer calling it computes " \
                       f"something else"
    for name, original in _FUNCTIONAL.items():
        if getattr(F, name) is not original:
            return f"torch.nn.functional.{name} is not torch's own (patched)"
    return ""


def _uniform_over_positions(v: Value, shape) -> bool:
    """Whether a constant or invariant operand is the same at every flattened position it meets.

    A constant must be a number (size 1 on every axis).  An invariant value may vary over the batch (its
    first axis: one value per sample) but, aligned with the output's axes, must have size 1 on every other
    axis: ``x.mean() * pos`` is invariant yet weights each flattened position differently.
    """
    if v.shape is None or v.shape == ():
        return True
    if v.kind == "constant":
        return all(n == 1 for n in v.shape)
    if shape is None or len(v.shape) > len(shape):
        return False
    aligned = (1,) * (len(shape) - len(v.shape)) + tuple(v.shape)  # broadcasting aligns trailing axes
    return all(n == 1 for n in aligned[1:])


class Unreadable(Exception):
    """An operation's argument that is not a literal the table can read (computed in the graph: a ``Node``)."""


def _literal_int(value):
    if isinstance(value, torch.fx.Node) or not isinstance(value, (int, float, torch.SymInt)):
        raise Unreadable(f"an argument computed in the graph ({value!s}), not a number the table can read")
    return int(value)


def _pair(value, d):
    """One number per spatial axis, as torch reads a window argument: a number, or a tuple of one or ``d``.
    A tuple of another length (a 2-D window on a 1-D signal, which torch reads as an image) is unreadable,
    never truncated."""
    if isinstance(value, (tuple, list)):
        if len(value) == d:
            return tuple(_literal_int(v) for v in value)
        if len(value) == 1:
            return (_literal_int(value[0]),) * d
        raise Unreadable(f"a window argument {tuple(value)} with {len(value)} entries for {d} spatial axes")
    return (_literal_int(value),) * d


def _literal_ints(value) -> list[int]:
    """A number or a tuple of numbers read as literal integers (an axis list, roll amounts)."""
    return [_literal_int(v) for v in (value if isinstance(value, (tuple, list)) else (value,))]


def _node_name(node) -> str:
    """The user's name for where a node sits: the qualified module name, and the operation for functions."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    owner = ""
    if stack:
        last = list(stack.values())[-1]
        owner = last[0] if isinstance(last, tuple) else str(last)
    what = getattr(node.target, "__name__", str(node.target))
    return f"{owner}.{what}" if owner else what


#: the rules that fold an explicit padding into their windows; every other rule declines a padded value
_CONSUMES_PADDING = frozenset({
    "_conv_module", "_conv_function", "_pool_module", "_pool_function", "_pad_module", "_pad_function", "_upsample",
    "_pixel_shuffle", "_project_Conv", "_project_Pool", "_project_BlurPool", "_project_MaxBlurPool", "_project_APS",
    "_project_P4Lifting", "_project_P4GroupConv"})


class Interpreter:
    """Abstract values for every node of ``graph`` for one ``symmetry``."""

    def __init__(self, graph: torch.fx.GraphModule, shapes: dict, symmetry: str, spatial_rank: int):
        self.graph, self.shapes, self.symmetry, self.d = graph, shapes, symmetry, spatial_rank
        self.modules = dict(graph.named_modules())
        self.values: dict[str, Value] = {}
        self.translation = symmetry == "translation"

    # ------------------------------------------------------------------------- driving

    def run(self) -> Value:
        problem = self._in_place_problem()
        if problem:
            return unknown(problem)
        result = unknown("the graph has no output")
        for node in self.graph.graph.nodes:
            if node.op == "output":
                out = node.args[0]
                if not isinstance(out, torch.fx.Node):
                    return unknown("the module returns something other than one tensor")
                result = self.values[out.name]
                break
            value = self._normalised(self._node(node), node)
            if value.kind == "unknown":
                # even where nothing reads it: an operation the table does not know may write into its inputs
                return value
            self.values[node.name] = value
        return result

    def _in_place_problem(self) -> str:
        for node in self.graph.graph.nodes:
            if not self._writes(node):
                continue
            data = node.args[0] if node.args else None
            if not isinstance(data, torch.fx.Node):
                return f"`{_node_name(node)}` writes in place into something the certifier cannot follow"
            if len(data.users) > 1:
                return (f"`{_node_name(node)}` writes in place into a tensor that other operations also read "
                        f"(`{_node_name(data)}`): the graph does not show which of them see the write")
            if not self._fresh(data):
                return (f"`{_node_name(node)}` writes in place into the result of `{_node_name(data)}`, which may "
                        f"share memory with another tensor")
        return ""

    def _writes(self, node) -> bool:
        if node.op == "call_module":
            return bool(getattr(self.modules[node.target], "inplace", False))
        if node.op in ("call_function", "call_method"):
            name = getattr(node.target, "__name__", node.target if isinstance(node.target, str) else "")
            in_place = isinstance(name, str) and name.endswith("_") and not name.endswith("__")
            return in_place or bool(node.kwargs.get("inplace")) or node.kwargs.get("out") is not None or \
                node.target in (operator.setitem, operator.iadd, operator.isub, operator.imul, operator.itruediv)
        return False

    def _fresh(self, node) -> bool:
        if node.op == "call_module":
            m = self.modules[node.target]
            return is_known(m) and not isinstance(m, _NOT_FRESH_MODULES) and not getattr(m, "inplace", False)
        if node.op == "call_function":
            return node.target in _FRESH_FUNCTIONS and not node.kwargs.get("inplace")
        if node.op == "call_method":
            return node.target in _FRESH_METHODS
        return False

    def _normalised(self, v: Value, node) -> Value:
        if v.kind == "equivariant":
            if v.shape is None or len(v.shape) != 2 + self.d:
                return unknown(f"`{_node_name(node)}` changes the layout of a spatial tensor", _node_name(node))
            if self.translation and any(2 * m >= n for m, n in zip(v.margin, v.sizes)):
                return broken(f"after `{_node_name(node)}` the margin {max(v.margin)} leaves no interior on size "
                              f"{v.sizes}", _node_name(node), v.events)
            if self.d and all(n == 1 for n in v.sizes) and (v.rep == "trivial" or self.translation):
                layer = _node_name(node)
                return replace(v, kind="invariant", events=merge_events(
                    v.events, (Event("invariant", layer, "spatial size 1"),)))
        return v

    def value(self, arg) -> Value:
        if isinstance(arg, torch.fx.Node):
            return self.values[arg.name]
        if isinstance(arg, (list, tuple)):
            values = [self.value(a) for a in arg]
            worst = _first(values, "unknown") or _first(values, "broken")
            return worst or Value("static")
        if isinstance(arg, torch.Tensor):
            return Value("constant", shape=tuple(arg.shape), tensor=arg)
        return Value("static")

    def _node(self, node) -> Value:
        shape = self.shapes.get(node.name)
        if node.op == "placeholder":
            if node.prev.op != "root":
                return unknown("the module takes more than one input")
            one = (Fraction(1),) * self.d
            return Value("equivariant", shape=shape, scale=one, lattice=(1,) * self.d, margin=(0,) * self.d)
        if node.op == "get_attr":
            tensor = _attribute(self.graph, node.target)
            if isinstance(tensor, torch.Tensor):
                return Value("constant", shape=tuple(tensor.shape), tensor=tensor.detach())
            return Value("static")
        inputs = [self.value(a) for a in _node_args(node)]
        worst = _first(inputs, "unknown")
        if worst is not None:
            return worst
        name = _node_name(node)
        if node.op == "call_module":
            module = self.modules[node.target]
            rule = self._module_rule(module)
        elif node.op == "call_function":
            rule = self._function_rule(node)
        else:
            rule = self._method_rule(node)
        random_draw = self._random(node)
        if random_draw:
            return unknown(random_draw, name)
        if rule is None:
            what = type(self.modules[node.target]).__name__ if node.op == "call_module" else \
                getattr(node.target, "__name__", str(node.target))
            return unknown(f"the operation {what} (at `{name}`) is not in the static certifier's table", name)
        if any(v.kind == "padded" for v in inputs) and getattr(rule, "__name__", "") not in _CONSUMES_PADDING:
            return unknown(f"`{name}` uses a padded tensor other than as the input of a convolution or pooling", name)
        broken_input = _first(inputs, "broken")
        if broken_input is not None:
            return broken_input
        if all(v.kind in ("static", "constant") for v in inputs):
            return Value("static" if shape is None else "constant", shape=shape)
        if all(v.kind in ("static", "constant", "invariant") for v in inputs):
            # a deterministic function of invariant values is invariant
            lattice = self._merged_lattice([v for v in inputs if v.kind == "invariant"])
            return Value("invariant", shape=shape, lattice=lattice,
                         events=merge_events(*[v.events for v in inputs]))
        return rule(node, inputs, shape, name)

    def _random(self, node) -> str:
        """Why the node draws random numbers (a dropout in training mode, ``torch.rand``), or ""."""
        if node.op == "call_module":
            m = self.modules[node.target]
            if isinstance(m, _DROPOUTS) and m.training and m.p > 0:
                return f"`{_node_name(node)}` ({type(m).__name__}) is in training mode: it draws a random mask"
            return ""
        name = getattr(node.target, "__name__", node.target if isinstance(node.target, str) else "")
        if node.op in ("call_function", "call_method") and name in _RANDOM:
            if "dropout" in name:
                training = node.kwargs.get("training", node.args[2] if len(node.args) > 2 else True)
                probability = node.kwargs.get("p", node.args[1] if len(node.args) > 1 else 0.5)
                if training is False or probability == 0:
                    return ""
            return f"`{_node_name(node)}` draws random numbers ({name})"
        return ""

    def _merged_lattice(self, values) -> tuple:
        if not self.translation:
            return ()
        lattice = (1,) * self.d
        for v in values:
            lattice = tuple(lcm(a, b) for a, b in zip(lattice, v.lattice or lattice))
        return lattice

    # ------------------------------------------------------------------------- rule lookup

    def _module_rule(self, m):
        project = is_project_layer(m)
        if project:
            return getattr(self, f"_project_{project}")
        cls = type(m)
        if cls in _ACTIVATIONS:
            return self._pointwise
        if cls in _DROPOUTS:
            return self._dropout
        if cls in _BATCHNORMS:
            return self._batchnorm
        if cls in _CONVS:
            return self._conv_module
        if cls in _MAXPOOLS or cls in _AVGPOOLS or cls in _LPPOOLS:
            return self._pool_module
        if cls in _ADAPTIVE:
            return self._adaptive_module
        if cls in _PADS:
            return self._pad_module
        if cls is torch.nn.Linear:
            return self._dense
        if cls is torch.nn.Flatten:
            return self._flatten_module
        if cls in (torch.nn.GroupNorm, torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d, torch.nn.LayerNorm):
            return self._whole_map_norm
        if cls is torch.nn.PReLU:
            return self._per_channel
        if cls is torch.nn.Upsample:
            return self._upsample
        if cls in (torch.nn.PixelShuffle, torch.nn.PixelUnshuffle):
            return self._pixel_shuffle
        if cls in (torch.nn.Softmax, torch.nn.LogSoftmax):
            return self._softmax
        return None

    def _function_rule(self, node):
        target = node.target
        if target in _POINTWISE_FUNCTIONS:
            return self._pointwise
        if target in (torch.conv1d, torch.conv2d):
            return self._conv_function
        if target in (F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d, F.lp_pool1d, F.lp_pool2d):
            return self._pool_function
        if target in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_max_pool1d, F.adaptive_max_pool2d):
            return self._adaptive_function
        if target is F.pad:
            return self._pad_function
        if target in _REDUCTIONS:
            return self._reduction
        if target in _FLATTENS:
            return self._reshape
        if target is torch.cat:
            return self._cat
        if target is F.linear:
            return self._dense
        if target is torch.roll:
            return self._roll
        if target is F.interpolate:
            return self._upsample
        if target in (F.pixel_shuffle, F.pixel_unshuffle):
            return self._pixel_shuffle
        if target in (F.softmax, F.log_softmax, torch.softmax, torch.log_softmax):
            return self._softmax
        if target in (F.dropout, F.dropout1d, F.dropout2d):
            return self._pointwise  # in eval (random draws were declined before)
        if target in _FACTORIES:
            return self._factory
        if target is getattr:
            return self._attribute_of
        if getattr(target, "__module__", "") == _MODELS + "_common" and getattr(target, "__name__", "") == \
                "check_input":
            return self._assertion
        if target is operator.getitem:
            return self._getitem
        return None

    def _method_rule(self, node):
        target = node.target
        if target in _POINTWISE_METHODS:
            return self._pointwise
        if target in _REDUCTION_METHODS:
            return self._reduction
        if target in _RESHAPE_METHODS:
            return self._reshape
        if target in ("size", "dim"):
            return self._attribute_of
        if target == "roll":
            return self._roll
        if target in ("softmax", "log_softmax"):
            return self._softmax
        return None

    # ------------------------------------------------------------------------- pointwise and combinations

    def _pointwise(self, node, inputs, shape, name):
        """Elementwise in space: operands combine; constants and invariant operands must be uniform in space."""
        if any(v.kind == "padded" for v in inputs):
            return unknown(f"`{name}` uses a padded tensor other than as the input of a convolution or pooling", name)
        spatial = [v for v in inputs if v.kind in ("equivariant", "permuted")]
        kinds = {v.kind for v in spatial}
        if len(kinds) > 1:
            return unknown(f"`{name}` combines a spatial map with flattened positions", name)
        if "permuted" in kinds:
            if len(spatial) > 1 or any(not _uniform_over_positions(v, shape) for v in inputs
                                       if v.kind in ("constant", "invariant")):
                return unknown(f"`{name}` combines flattened positions with another tensor", name)
            return replace(spatial[0], shape=shape)
        first = spatial[0]
        if shape is None or tuple(shape[2:]) != first.sizes:
            return unknown(f"`{name}` broadcasts a spatial map to another shape", name)
        events = merge_events(*[v.events for v in inputs])
        lattice, margin = first.lattice, first.margin
        beyond = next((v.beyond for v in inputs if v.beyond), "")
        for v in spatial[1:]:
            if v.sizes != first.sizes or v.scale != first.scale:
                return unknown(f"`{name}` combines spatial maps of different sizes or offsets", name)
            if v.rep != first.rep:
                return broken(f"`{name}` combines maps whose channels rotate differently ({v.rep} and {first.rep})",
                              name, events)
            if self.translation:
                lattice = tuple(lcm(a, b) for a, b in zip(lattice, v.lattice))
                margin = tuple(max(a, b) for a, b in zip(margin, v.margin))
        for v in inputs:
            if v.kind in ("constant", "invariant"):
                problem = self._uniform(v, first, name, additive=_additive(node))
                if problem is not None:
                    return replace(problem, events=merge_events(events, problem.events))
                if v.kind == "invariant" and self.translation:
                    lattice = tuple(lcm(a, b) for a, b in zip(lattice, v.lattice))
        return replace(first, shape=shape, lattice=lattice, margin=margin, events=events, beyond=beyond)

    def _uniform(self, v: Value, spatial: Value, name: str, additive: bool = False) -> Value | None:
        """None when ``v`` (a constant or invariant operand) acts the same at every position, as the symmetry
        needs; else why not."""
        if v.shape is None or v.shape == ():
            return None  # a number
        if len(v.shape) > 2 + self.d:
            return unknown(f"`{name}` broadcasts the spatial map to more axes", name)
        aligned = (1,) * (2 + self.d - len(v.shape)) + tuple(v.shape)  # broadcasting aligns trailing axes
        channels = aligned[1]
        if spatial.rep == "regular" and channels != 1 and not (
                v.kind == "constant" and v.tensor is not None and
                _field_constant(torch.as_tensor(v.tensor).reshape(channels, -1)[:, 0])):
            # checked first: a constant symmetric in space may still scale the orientation channels differently
            return broken(f"`{name}` scales the orientation channels of a field differently", name) \
                if v.kind == "constant" and v.tensor is not None else \
                unknown(f"`{name}` combines orientation channels with per-channel values the certifier cannot "
                        f"read", name)
        if any(n != 1 for n in aligned[2:]):
            if v.kind == "constant" and v.tensor is not None and self._symmetric_constant(v.tensor):
                return None
            if additive:
                # x + e is equivariant up to the constant e: a later average forgives it, a later ReLU does not
                return unknown(f"`{name}` adds a {'constant' if v.kind == 'constant' else 'value'} of shape "
                               f"{tuple(v.shape)} that varies over positions (a positional embedding): the map is "
                               f"equivariant up to it, which the table does not follow", name)
            return broken(f"`{name}` combines the map with a {'constant' if v.kind == 'constant' else 'value'} of "
                          f"shape {tuple(v.shape)} that varies over positions", name)
        if spatial.rep == "regular" and channels != 1:
            if v.kind == "constant" and v.tensor is not None:
                return None if _field_constant(torch.as_tensor(v.tensor).reshape(-1)) else broken(
                    f"`{name}` scales the orientation channels of a field differently", name)
            return unknown(f"`{name}` combines orientation channels with per-channel values the certifier cannot "
                           f"read", name)
        return None

    def _symmetric_constant(self, tensor) -> bool:
        dims = tuple(range(tensor.dim() - self.d, tensor.dim()))
        if self.translation:
            return all(torch.equal(tensor, torch.roll(tensor, 1, dim)) for dim in dims)
        return _kernel_symmetric(tensor, self.symmetry, self.d)

    def _dropout(self, node, inputs, shape, name):
        m = self.modules[node.target]
        if m.training and m.p > 0:
            return unknown(f"`{name}` ({type(m).__name__}) is in training mode: it draws a random mask", name)
        return self._pointwise(node, inputs, shape, name)

    def _batchnorm(self, node, inputs, shape, name):
        m = self.modules[node.target]
        if m.training or m.running_mean is None or m.running_var is None:
            return unknown(f"`{name}` ({type(m).__name__}) normalises by the batch's own statistics (training mode "
                           f"or no running statistics)", name)
        return self._per_channel(node, inputs, shape, name)

    def _per_channel(self, node, inputs, shape, name):
        m = self.modules[node.target]
        v = inputs[0]
        if v.kind == "permuted" and any(t.numel() > 1 for t in _own_tensors(m)):
            # on flattened positions its "channels" are positions: one parameter per position breaks the claim
            return unknown(f"`{name}` ({type(m).__name__}) has a parameter per feature of flattened positions", name)
        if v.kind != "equivariant":
            return self._pointwise(node, inputs, shape, name)
        if v.rep == "regular":
            tensors = [t for t in (getattr(m, "weight", None), getattr(m, "bias", None),
                                   getattr(m, "running_mean", None), getattr(m, "running_var", None))
                       if isinstance(t, torch.Tensor) and t.numel() > 1]
            if not all(_field_constant(t.detach()) for t in tensors):
                return broken(f"`{name}` treats the orientation channels of a field differently", name, v.events)
        return replace(v, shape=shape)

    def _whole_map_norm(self, node, inputs, shape, name):
        """Statistics over every position of a sample: unchanged by a permutation of the positions."""
        m = self.modules[node.target]
        v = inputs[0]
        if v.kind == "permuted":
            return unknown(f"`{name}` normalises flattened positions", name)
        if isinstance(m, (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d)) and m.track_running_stats and m.training:
            return unknown(f"`{name}` is in training mode", name)
        if isinstance(m, torch.nn.LayerNorm):
            if tuple(m.normalized_shape) != tuple(v.shape[1:]):
                return unknown(f"`{name}` (LayerNorm over {tuple(m.normalized_shape)}) normalises part of the map",
                               name)
            for t in (m.weight, m.bias):
                if t is not None and not all(torch.equal(t, t.narrow(dim, 0, 1).expand_as(t))
                                             for dim in range(1, t.dim())):
                    return broken(f"`{name}` (LayerNorm) has affine parameters that vary over positions", name,
                                  v.events)
        if v.rep == "regular" and not isinstance(m, (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d)):
            return unknown(f"`{name}` ({type(m).__name__}) on orientation channels", name)
        if v.rep == "regular" and any(t.numel() > 1 for t in _own_tensors(m)) and \
                not all(_field_constant(t.detach().reshape(-1)) for t in _own_tensors(m)):
            return broken(f"`{name}` treats the orientation channels of a field differently", name, v.events)
        if self.translation and any(v.margin):
            return broken(f"`{name}` ({type(m).__name__}) takes statistics over the whole map, border included, "
                          f"where the map is equivariant only in the interior (margin {max(v.margin)})", name,
                          v.events)
        if isinstance(m, (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d)) and v.rep == "regular" and m.affine:
            if not (_field_constant(m.weight.detach()) and _field_constant(m.bias.detach())):
                return broken(f"`{name}` treats the orientation channels of a field differently", name, v.events)
        return replace(v, shape=shape)

    def _softmax(self, node, inputs, shape, name):
        v = inputs[0]
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        if v.kind == "equivariant" and isinstance(dim, int) and dim % (2 + self.d) == 1 and v.rep == "trivial":
            return replace(v, shape=shape)
        return unknown(f"`{name}` (softmax over dim={dim}) on a spatial map", name)

    def _attribute_of(self, node, inputs, shape, name):
        attribute = node.args[1] if node.op == "call_function" and len(node.args) > 1 else node.target
        if attribute in ("shape", "size", "dim", "ndim", "dtype", "device"):
            return Value("static")
        return unknown(f"`{name}` reads the attribute {attribute!r} of a tensor", name)

    def _factory(self, node, inputs, shape, name):
        """A tensor made from numbers and shapes (``torch.arange(x.shape[-1])``): a constant, values unread."""
        return Value("constant", shape=shape)

    def _assertion(self, node, inputs, shape, name):
        """The reference layers' input check: it raises on a wrong shape (the shape run would have failed) and
        returns nothing."""
        return Value("static")

    def _getitem(self, node, inputs, shape, name):
        v = inputs[0]
        if v.kind == "static":
            return Value("static")
        return unknown(f"`{name}` indexes a tensor (slicing is not in the table)", name)

    # ------------------------------------------------------------------------- windows

    def _window_op(self, v: Value, windows: tuple, shape, name, what, kernel: object = None) -> Value:
        """A convolution or pooling with one :class:`Window` per spatial axis; ``kernel``: the weights, for the
        symmetry check (None: the window is symmetric by construction, as poolings are)."""
        explicit = v.kind == "padded"
        if v.kind == "padded" and v.source is not None:
            (pads, mode), v = v.pad, v.source
            windows = tuple(pad_window(w, a, b, mode) for w, (a, b) in zip(windows, pads))
        if v.kind == "permuted":
            return unknown(f"`{name}` slides a window over flattened positions", name)
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` ({what}) on a value the certifier does not follow", name)
        out = tuple(shape[2:])
        if len(out) != self.d:
            return unknown(f"`{name}` changes the number of spatial axes", name)
        if self.translation:
            result = shift_through(v, windows, out, name, what)
            return replace(result, shape=shape) if result.kind == "equivariant" else result
        if v.rep == "regular" and kernel is not None:
            return broken(f"`{name}` ({what}) is a plain convolution on orientation channels, which rot90 cycles",
                          name, v.events)
        if kernel is not None:
            if not isinstance(kernel, torch.Tensor):
                return unknown(f"`{name}` ({what}): its weights are computed in forward, so their symmetry cannot "
                               f"be read", name)
            if not _kernel_symmetric(kernel, self.symmetry, self.d):
                return broken(f"`{name}` ({what}) has a kernel that is not {self._kernel_words()}", name, v.events)
            v = v.with_events(Event("weights", name, f"kernel {self._kernel_words()} (checked on the weights)"))
        if any(w.mode == "mixed" for w in windows):
            # two fills (an explicit replicate pad, then the window's zeros): each border is symmetric only if
            # each padding is, which one folded window cannot say
            return unknown(f"`{name}` ({what}) pads its input twice with different fills", name)
        result = reflect_through(v, windows, out, name, what, square=self.symmetry == "rot90")
        if result.kind == "broken" and explicit:
            # the lopsided part is an explicit constant border: a later global pooling may not care where it sits
            return unknown(result.reason + "; the padding is explicit, and the table does not follow what later "
                                           "layers make of its lopsided border", name)
        return replace(result, shape=shape) if result.kind == "equivariant" else result

    def _kernel_words(self):
        return "invariant under rot90" if self.symmetry == "rot90" else "symmetric under flips"

    def _conv_module(self, node, inputs, shape, name):
        m = self.modules[node.target]
        k, s, dil = tuple(m.weight.shape[2:]), _pair(m.stride, self.d), _pair(m.dilation, self.d)
        if len(k) != self.d or k != _pair(m.kernel_size, self.d):
            return unknown(f"`{name}`: its weight's window {k} is not its kernel_size {m.kernel_size} (a weight "
                           f"replaced after construction): the table does not guess which one forward uses", name)
        if m.padding_mode != "zeros":
            # torch pads non-zero modes by this private list and convolves with padding 0
            used = list(getattr(m, "_reversed_padding_repeated_twice", []))
            if isinstance(m.padding, str):
                totals = [dd * (kk - 1) for dd, kk in zip(dil, k)]
                halves = [(t // 2, t - t // 2) if m.padding == "same" else (0, 0) for t in totals]
                stated = [p for a, b in reversed(halves) for p in (a, b)]
            else:
                stated = [p for p in reversed(_pair(m.padding, self.d)) for _ in range(2)]
            if used != stated:
                return unknown(f"`{name}` pads by {used} (its _reversed_padding_repeated_twice), not by its padding "
                               f"{m.padding}: the table does not guess which one forward uses", name)
        if isinstance(m.padding, str):
            totals = [dd * (kk - 1) for dd, kk in zip(dil, k)]
            pads = [(t // 2, t - t // 2) if m.padding == "same" else (0, 0) for t in totals]
        else:
            pads = [(p, p) for p in _pair(m.padding, self.d)]
        windows = tuple(Window(kk, ss, dd, a, b, m.padding_mode) for kk, ss, dd, (a, b) in zip(k, s, dil, pads))
        return self._window_op(inputs[0], windows, shape, name, f"{type(m).__name__}", m.weight.detach())

    def _conv_function(self, node, inputs, shape, name):
        args = list(node.args) + [None] * 7
        kw = node.kwargs
        weight = self.value(kw.get("weight", args[1]))
        stride = kw.get("stride", args[3] if args[3] is not None else 1)
        padding = kw.get("padding", args[4] if args[4] is not None else 0)
        dilation = kw.get("dilation", args[5] if args[5] is not None else 1)
        if weight.kind != "constant" or weight.shape is None:
            return unknown(f"`{name}` convolves with weights the certifier does not follow", name)
        k = tuple(weight.shape[2:])
        if len(k) != self.d:  # a 2-D kernel on (N, C, L): torch reads the signal as an unbatched image
            return unknown(f"`{name}` convolves with a {len(k)}-D kernel over {self.d} spatial axes", name)
        s, dil = _pair(stride, self.d), _pair(dilation, self.d)
        if isinstance(padding, str):
            totals = [dd * (kk - 1) for dd, kk in zip(dil, k)]
            pads = [(t // 2, t - t // 2) if padding == "same" else (0, 0) for t in totals]
        else:
            pads = [(p, p) for p in _pair(padding, self.d)]
        windows = tuple(Window(kk, ss, dd, a, b, "zeros") for kk, ss, dd, (a, b) in zip(k, s, dil, pads))
        # weights computed in forward (a mask, a cast) have no tensor to check: never "symmetric by construction"
        kernel = weight.tensor if weight.tensor is not None else COMPUTED_WEIGHTS
        return self._window_op(inputs[0], windows, shape, name, "conv", kernel)

    def _pool_windows(self, kernel, stride, padding, dilation, fill="zeros"):
        """``fill``: what the pool's own padding holds — zeros (an average counting it), nothing a max can pick
        (``MAX_FILL``), or nothing at all (``EXCLUDED_FILL``: an average over the window's inside only)."""
        k = _pair(kernel, self.d)
        s = _pair(stride if stride not in (None, [], ()) else kernel, self.d)
        p = _pair(padding, self.d)
        dil = _pair(dilation, self.d)
        return tuple(Window(kk, ss, dd, pp, pp, fill) for kk, ss, dd, pp in zip(k, s, dil, p))

    def _pool_module(self, node, inputs, shape, name):
        m = self.modules[node.target]
        if getattr(m, "return_indices", False):
            return unknown(f"`{name}` returns indices", name)
        fill = MAX_FILL if isinstance(m, _MAXPOOLS) else \
            EXCLUDED_FILL if not getattr(m, "count_include_pad", True) else "zeros"
        windows = self._pool_windows(m.kernel_size, m.stride, getattr(m, "padding", 0), getattr(m, "dilation", 1),
                                     fill)
        return self._window_op(inputs[0], windows, shape, name, type(m).__name__)

    def _pool_function(self, node, inputs, shape, name):
        target = node.target
        names = (["input", "norm_type", "kernel_size", "stride", "ceil_mode"] if target in (F.lp_pool1d, F.lp_pool2d)
                 else ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
                 if target in (F.max_pool1d, F.max_pool2d)
                 else ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                       "divisor_override"])
        given = dict(zip(names, node.args)) | dict(node.kwargs)
        if given.get("return_indices"):
            return unknown(f"`{name}` returns indices", name)
        fill = MAX_FILL if target in (F.max_pool1d, F.max_pool2d) else \
            EXCLUDED_FILL if given.get("count_include_pad", True) is False else "zeros"
        windows = self._pool_windows(given["kernel_size"], given.get("stride"), given.get("padding", 0),
                                     given.get("dilation", 1), fill)
        return self._window_op(inputs[0], windows, shape, name, getattr(target, "__name__", "pool"))

    def _adaptive(self, v, output_size, shape, name, what):
        if v.kind == "padded":
            return unknown(f"`{name}` pools a padded tensor", name)
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` ({what}) on a value the certifier does not follow", name)
        out = tuple(shape[2:])
        if all(o == 1 for o in out):
            return self._global(v, shape, name, what)
        if all(n % o == 0 for n, o in zip(v.sizes, out)):
            windows = tuple(Window(n // o, n // o) for n, o in zip(v.sizes, out))
            return self._window_op(v, windows, shape, name, what)
        if self.translation:
            return broken(f"`{name}` ({what}) pools size {v.sizes} to {out}, which does not divide it: its windows "
                          f"differ in size and position, so shifts do not carry over", name, v.events)
        if self.symmetry == "rot90" and (len(set(out)) != 1 or len(set(v.sizes)) != 1):
            return broken(f"`{name}` ({what}) pools to a non-square size", name, v.events)
        # adaptive windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) are symmetric about the centre for any n and o
        return replace(v, shape=shape, events=merge_events(
            v.events, (Event("condition", name, f"adaptive windows {v.sizes} → {out} are symmetric"),)))

    def _adaptive_module(self, node, inputs, shape, name):
        m = self.modules[node.target]
        return self._adaptive(inputs[0], m.output_size, shape, name, type(m).__name__)

    def _adaptive_function(self, node, inputs, shape, name):
        return self._adaptive(inputs[0], None, shape, name, getattr(node.target, "__name__", "adaptive pool"))

    def _global(self, v: Value, shape, name, what, channels=False) -> Value:
        """A reduction over every position (and over the channels too, if ``channels``)."""
        if v.kind not in ("equivariant", "permuted"):
            return unknown(f"`{name}` ({what}) on a value the certifier does not follow", name)
        if self.translation and any(v.margin):
            return broken(f"`{name}` ({what}) pools over the whole map, border included, where the map is "
                          f"equivariant only in the interior (margin {max(v.margin)})", name, v.events)
        if v.rep == "regular" and not channels:
            return broken(f"`{name}` ({what}) pools a map whose orientation channels still cycle under rot90",
                          name, v.events)
        return Value("invariant", shape=shape, lattice=v.lattice, beyond=v.beyond, events=merge_events(
            v.events, (Event("invariant", name, what),)))

    def _reduction(self, node, inputs, shape, name):
        v = inputs[0]
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        rank = len(v.shape) if v.shape is not None else 0
        if dim is None or v.shape is None:
            dims = set(range(rank))
        else:
            dims = {d % rank for d in _literal_ints(dim)}
        what = f"{getattr(node.target, '__name__', node.target)} over dims {sorted(dims)}"
        if 0 in dims:
            return unknown(f"`{name}` reduces over the batch", name)
        if v.kind == "permuted":
            if dims == set(range(v.keep, rank)):
                return self._global(v, shape, name, what, channels=v.keep == 1)
            return unknown(f"`{name}` reduces part of the flattened positions", name)
        if v.kind != "equivariant":
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        spatial = set(range(2, 2 + self.d))
        if dims == spatial or dims == spatial | {1}:
            return self._global(v, shape, name, what, channels=1 in dims)
        if dims == {1}:
            return replace(v, shape=shape, rep="trivial")  # a cycle of the orientation channels leaves it as it is
        return unknown(f"`{name}` reduces over part of the spatial axes", name)

    # ------------------------------------------------------------------------- padding, reshapes, the rest

    def _pad(self, v: Value, pad, mode, shape, name) -> Value:
        if v.kind == "invariant":
            return Value("invariant", shape=shape, lattice=v.lattice, events=v.events)
        if v.kind != "equivariant":
            return unknown(f"`{name}` pads a value the certifier does not follow", name)
        pad = [int(p) for p in pad]
        if len(pad) > 2 * self.d or len(pad) % 2 or any(p < 0 for p in pad):
            return unknown(f"`{name}` pads {pad}: only non-negative padding of the spatial axes is in the table",
                           name)
        pad = pad + [0] * (2 * self.d - len(pad))
        per_axis = tuple((pad[2 * (self.d - 1 - axis)], pad[2 * (self.d - 1 - axis) + 1]) for axis in range(self.d))
        return Value("padded", shape=shape, pad=(per_axis, mode), source=v, events=v.events)

    def _pad_module(self, node, inputs, shape, name):
        m = self.modules[node.target]
        mode = _PADS[type(m)]
        if mode == "zeros" and float(getattr(m, "value", 0.0)) != 0.0:
            mode = _constant_fill(m.value)
        return self._pad(inputs[0], m.padding, mode, shape, name)

    def _pad_function(self, node, inputs, shape, name):
        pad = node.kwargs.get("pad", node.args[1] if len(node.args) > 1 else None)
        mode = node.kwargs.get("mode", node.args[2] if len(node.args) > 2 else "constant")
        if not isinstance(pad, (tuple, list)) or any(not isinstance(p, int) for p in pad):
            return unknown(f"`{name}` pads by amounts computed in forward", name)
        value = node.kwargs.get("value", node.args[3] if len(node.args) > 3 else None)
        if mode == "constant":
            if value is not None and not isinstance(value, (int, float)):
                return unknown(f"`{name}` pads with a value computed in forward", name)
            mode = "zeros" if not value else _constant_fill(value)
        elif mode not in ("circular", "reflect", "replicate"):
            return unknown(f"`{name}` pads in mode {mode!r}", name)
        return self._pad(inputs[0], pad, mode, shape, name)

    def _reshape(self, node, inputs, shape, name):
        v = inputs[0]
        if v.kind == "equivariant" and shape is not None:
            if tuple(shape) == tuple(v.shape):
                return v
            if shape[0] == v.shape[0] and len(shape) == 2:
                return replace(v, kind="permuted", shape=shape, keep=1)
            if shape[0] == v.shape[0] and len(shape) == 3 and shape[1] == v.shape[1]:
                return replace(v, kind="permuted", shape=shape, keep=2)
        return unknown(f"`{name}` reshapes a spatial map into {shape}", name)

    def _flatten_module(self, node, inputs, shape, name):
        return self._reshape(node, inputs, shape, name)

    def _dense(self, node, inputs, shape, name):
        v = inputs[0]
        if v.kind in ("equivariant", "permuted"):
            return broken(f"`{name}` is a dense layer over {'positions' if v.kind == 'equivariant' else 'flattened positions'}:"
                          f" it gives every position its own weights", name, v.events)
        return unknown(f"`{name}` on a value the certifier does not follow", name)

    def _cat(self, node, inputs, shape, name):
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        parts = [self.value(a) for a in (node.args[0] if node.args else node.kwargs.get("tensors", ()))]
        rank = 2 + self.d
        if not isinstance(dim, int) or dim % rank != 1 or shape is None:
            return unknown(f"`{name}` concatenates along dim={dim}", name)
        spatial = [v for v in parts if v.kind == "equivariant"]
        if not spatial or len(spatial) != len(parts):
            for v in parts:
                if v.kind == "constant" and (v.tensor is None or not self._symmetric_constant(v.tensor)):
                    return broken(f"`{name}` concatenates a constant map that varies over positions (absolute "
                                  f"coordinates, a positional embedding)", name,
                                  merge_events(*[p.events for p in parts]))
            if any(v.kind not in ("equivariant", "constant") for v in parts):
                return unknown(f"`{name}` concatenates values the certifier does not follow", name)
        if any(v.rep == "regular" and (v.shape or (0, 1))[1] % 4 for v in spatial):
            return unknown(f"`{name}` concatenates orientation channels not in groups of 4", name)
        merged = self._pointwise(node, spatial, shape, name)
        if merged.kind == "equivariant" and merged.rep == "regular" and len(spatial) != len(parts):
            # a constant part would have to cycle with the orientations, which the table does not check
            return unknown(f"`{name}` concatenates a constant with orientation channels", name)
        if merged.kind == "equivariant" and len({v.rep for v in spatial}) > 1:
            return unknown(f"`{name}` concatenates maps whose channels rotate differently", name)
        return merged

    def _roll(self, node, inputs, shape, name):
        v = inputs[0]
        shifts = node.kwargs.get("shifts", node.args[1] if len(node.args) > 1 else None)
        dims = node.kwargs.get("dims", node.args[2] if len(node.args) > 2 else None)
        if v.kind != "equivariant" or dims is None or not isinstance(shifts, (int, tuple, list)):
            return unknown(f"`{name}` rolls by amounts or along axes the certifier does not follow", name)
        dims = [d % (2 + self.d) for d in _literal_ints(dims)]
        if any(d < 2 for d in dims):
            return unknown(f"`{name}` rolls channels or the batch", name)
        if self.translation:
            if any(v.margin):
                return broken(f"`{name}` rolls a map that is equivariant only in the interior", name, v.events)
            return replace(v, shape=shape)
        amounts = _literal_ints(shifts)
        if all(a % n == 0 for a, d in zip(amounts, dims) for n in (v.shape[d],)):
            return replace(v, shape=shape)
        return broken(f"`{name}` rolls the map by {tuple(amounts)}, which moves its centre", name, v.events)

    def _upsample(self, node, inputs, shape, name):
        v = inputs[0]
        if node.op == "call_module":
            mode = self.modules[node.target].mode
        else:
            mode = node.kwargs.get("mode", node.args[3] if len(node.args) > 3 else "nearest")
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        out = tuple(shape[2:])
        if mode != "nearest":
            return unknown(f"`{name}` interpolates in mode {mode!r}: only nearest with integer factors is in the "
                           f"table", name)
        # torch's nearest reads source floor(i / s) from the scale factor the caller gave: the grid is the size
        # ratio's only when that factor is exactly the ratio (or torch recomputes it from the sizes)
        factor = self.modules[node.target].scale_factor if node.op == "call_module" else \
            node.kwargs.get("scale_factor", node.args[2] if len(node.args) > 2 else None)
        recompute = False if node.op == "call_module" else node.kwargs.get("recompute_scale_factor", False)
        if factor is not None and not recompute:
            factors = factor if isinstance(factor, (tuple, list)) else (factor,) * len(out)
            if any(not isinstance(f, (int, float)) or float(f) != o / n for f, n, o in zip(factors, v.sizes, out)):
                return unknown(f"`{name}` resamples by scale_factor={factor!r}, which is not the ratio of the sizes "
                               f"{v.sizes} → {out}: torch reads floor(i / s), another grid than the table's", name)
        if all(o % n == 0 for n, o in zip(v.sizes, out)):
            factors = [o // n for n, o in zip(v.sizes, out)]
            if self.translation:
                return replace(v, shape=shape, scale=tuple(k / f for k, f in zip(v.scale, factors)),
                               margin=tuple(m * f for m, f in zip(v.margin, factors)))
            if self.symmetry == "rot90" and len(set(factors)) != 1:
                return broken(f"`{name}` upsamples the axes by different factors {factors}", name, v.events)
            return replace(v, shape=shape)
        if all(n % o == 0 for n, o in zip(v.sizes, out)):
            windows = tuple(Window(1, n // o) for n, o in zip(v.sizes, out))
            return self._window_op(v, windows, shape, name, "nearest downsampling")
        return unknown(f"`{name}` resamples {v.sizes} to {out} by a factor that is not an integer", name)

    def _pixel_shuffle(self, node, inputs, shape, name):
        v = inputs[0]
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        if not self.translation:
            # a rotation or reflection reorders the sub-pixel positions: a permutation of channels the table does
            # not track (a pixel shuffle right after undoes it)
            return unknown(f"`{name}` (pixel shuffle) arranges channels into sub-pixel positions, which a "
                           f"reflection or rotation reorders as channels the table does not follow", name)
        out = tuple(shape[2:])
        if all(o > n for n, o in zip(v.sizes, out)):
            factors = [o // n for n, o in zip(v.sizes, out)]
            return replace(v, shape=shape, scale=tuple(k / f for k, f in zip(v.scale, factors)),
                           margin=tuple(m * f for m, f in zip(v.margin, factors)))
        windows = tuple(Window(n // o, n // o) for n, o in zip(v.sizes, out))
        result = self._window_op(v, windows, shape, name, "pixel unshuffle")
        if result.kind == "equivariant" and not result.beyond:
            # nothing is lost: a shift off the factor reorders channels and positions (a pixel shuffle undoes it)
            result = replace(result, beyond=f"`{name}` (pixel unshuffle) turns shifts off its factor into a "
                                            f"reordering of channels, which the table does not follow")
        return result

    # ------------------------------------------------------------------------- the project's reference layers

    def _project_Conv(self, node, inputs, shape, name):
        m = self.modules[node.target]
        k = m.weight.shape[-1]
        total = m.dilation * (k - 1)
        window = Window(k, m.stride, m.dilation, total // 2, total - total // 2, m.padding_mode)
        return self._window_op(inputs[0], (window,) * self.d, shape, name, "Conv", m.weight.detach())

    def _project_Pool(self, node, inputs, shape, name):
        m = self.modules[node.target]
        return self._window_op(inputs[0], (Window(m.kernel_size, m.stride),) * self.d, shape, name,
                               f"Pool({m.kind!r})")

    def _project_GlobalPool(self, node, inputs, shape, name):
        m = self.modules[node.target]
        return self._global(inputs[0], shape, name, f"GlobalPool({m.kind!r})")

    def _blur_window(self, m):
        size = m.kernel.shape[-1]
        return Window(size, m.stride, 1, (size - 1) // 2, size // 2, m.padding_mode)

    def _project_BlurPool(self, node, inputs, shape, name):
        m = self.modules[node.target]
        kernel = m.kernel.detach().reshape(1, 1, *m.kernel.shape)
        return self._window_op(inputs[0], (self._blur_window(m),) * self.d, shape, name, "BlurPool", kernel)

    def _project_MaxBlurPool(self, node, inputs, shape, name):
        m = self.modules[node.target]
        v = inputs[0]
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        dense = self._window_op(v, (Window(2, 1, 1, 0, 1, "replicate"),) * self.d, v.shape, name,
                                "MaxBlurPool's dense 2×2 max")
        if dense.kind != "equivariant":
            return dense
        kernel = m.blur.kernel.detach().reshape(1, 1, *m.blur.kernel.shape)
        return self._window_op(dense, (self._blur_window(m.blur),) * self.d, shape, name, "MaxBlurPool's blur",
                               kernel)

    def _project_APS(self, node, inputs, shape, name):
        m = self.modules[node.target]
        v = inputs[0]
        if v.kind != "equivariant" or shape is None:
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        if not self.translation:
            return unknown(f"`{name}` (APS) is rot90/flip-equivariant only without ties between polyphase norms, "
                           f"a condition on the input values", name)
        if any(v.margin):
            return broken(f"`{name}` (APS) compares polyphase norms over the whole map, border included, where "
                          f"the map is equivariant only in the interior", name, v.events)
        # a shift in (stride·Z)^d moves every polyphase component within itself: the same one wins, ties or not
        result = self._window_op(v, (Window(1, m.stride),) * self.d, shape, name, "APS")
        if result.kind == "equivariant" and not result.beyond:
            result = replace(result, beyond=f"`{name}` (APS) follows shifts off its stride lattice only when no two "
                                            f"polyphase norms tie, a condition on the input values")
        return result

    def _project_P4Lifting(self, node, inputs, shape, name):
        m = self.modules[node.target]
        if tuple(m.weight.shape[-2:]) != (m.kernel_size, m.kernel_size):
            return _resized(name, m)
        pad = (m.kernel_size - 1) // 2
        window = Window(m.kernel_size, m.stride, 1, pad, pad, m.padding_mode)
        v = inputs[0]
        if self.symmetry == "flip":
            return unknown(f"`{name}` (P4Lifting) is built for rotations; flips are not in its table entry", name)
        if self.symmetry == "rot90":
            if v.kind == "equivariant" and v.rep != "trivial":
                return broken(f"`{name}` (P4Lifting) expects plain maps", name, v.events)
            result = self._window_op(v, (window,) * self.d, shape, name, "P4Lifting")
            return replace(result, rep="regular") if result.kind == "equivariant" else result
        return self._window_op(v, (window,) * self.d, shape, name, "P4Lifting")

    def _project_P4GroupConv(self, node, inputs, shape, name):
        m = self.modules[node.target]
        if tuple(m.weight.shape[-2:]) != (m.kernel_size, m.kernel_size):
            return _resized(name, m)
        pad = (m.kernel_size - 1) // 2
        window = Window(m.kernel_size, 1, 1, pad, pad, m.padding_mode)
        v = inputs[0]
        if self.symmetry == "flip":
            return unknown(f"`{name}` (P4GroupConv) is built for rotations; flips are not in its table entry", name)
        if self.symmetry == "rot90" and v.kind == "equivariant" and v.rep != "regular":
            return broken(f"`{name}` (P4GroupConv) expects orientation channels", name, v.events)
        return self._window_op(v, (window,) * self.d, shape, name, "P4GroupConv")

    def _project_OrientationPool(self, node, inputs, shape, name):
        v = inputs[0]
        if v.kind != "equivariant":
            return unknown(f"`{name}` on a value the certifier does not follow", name)
        if self.symmetry == "flip" and v.rep != "trivial":
            return unknown(f"`{name}` on orientation channels under flips", name)
        return replace(v, shape=shape, rep="trivial")

    def _project_FourierMagnitude(self, node, inputs, shape, name):
        m = self.modules[node.target]
        v = inputs[0]
        if not self.translation or v.kind != "equivariant" or m.dims != self.d:
            return unknown(f"`{name}` (FourierMagnitude): only translations of the whole grid are in its table "
                           f"entry", name)
        if any(v.margin):
            return broken(f"`{name}` (FourierMagnitude) transforms the whole map, border included", name, v.events)
        return Value("invariant", shape=shape, lattice=v.lattice,
                     events=merge_events(v.events, (Event("invariant", name, "Fourier magnitude"),)))

    def _project_CoordConv(self, node, inputs, shape, name):
        return broken(f"`{name}` (CoordConv) sees absolute coordinates", name, inputs[0].events)

    def _project_DenseLinear(self, node, inputs, shape, name):
        return broken(f"`{name}` (DenseLinear) gives every position its own weights", name, inputs[0].events)

    def _project_CirculantLinear(self, node, inputs, shape, name):
        v = inputs[0]
        if not self.translation:
            return unknown(f"`{name}` (CirculantLinear): only translations are in its table entry", name)
        if v.kind != "equivariant" or any(v.margin) or v.scale != (1,) * self.d:
            return unknown(f"`{name}` (CirculantLinear) on a value the certifier does not follow", name)
        return replace(v, shape=shape)


def _additive(node) -> bool:
    return node.target in (operator.add, operator.sub, torch.add, torch.sub, "add", "sub", "__add__", "__sub__",
                           "__radd__", "__rsub__", "add_", "sub_")


def _first(values, kind):
    return next((v for v in values if v.kind == kind), None)


def _node_args(node) -> list:
    found: list = []

    def collect(n):
        found.append(n)
        return n

    torch.fx.node.map_arg((node.args, node.kwargs), collect)
    return found


def _attribute(graph, target):
    value = graph
    for part in str(target).split("."):
        value = getattr(value, part, None)
    return value


def _own_tensors(m) -> list:
    """A module's own parameters and buffers (running statistics included), not its children's."""
    return [t for t in list(m.parameters(recurse=False)) + list(m.buffers(recurse=False))
            if isinstance(t, torch.Tensor) and t.is_floating_point()]


def _resized(name, m) -> Value:
    return unknown(f"`{name}`: its weight's window {tuple(m.weight.shape[-2:])} is not its kernel_size "
                   f"{m.kernel_size} (a weight replaced after construction)", name)


def _field_constant(t: torch.Tensor) -> bool:
    """Whether a per-channel tensor is the same on the 4 orientation channels of every field."""
    if t.dim() == 0 or t.numel() % 4:
        return t.dim() == 0
    grouped = t.reshape(-1, 4)
    return bool((grouped == grouped[:, :1]).all())


def _kernel_symmetric(kernel: torch.Tensor, symmetry: str, d: int) -> bool:
    """Whether the kernel's spatial part is invariant under the symmetry (exact equality)."""
    if kernel.dim() < d:
        return False  # fewer axes than the map: it broadcasts along some axis only, never symmetric here
    if d == 1:
        return symmetry == "flip" and torch.equal(kernel, torch.flip(kernel, (-1,)))
    if symmetry == "rot90":
        return kernel.shape[-1] == kernel.shape[-2] and torch.equal(kernel, torch.rot90(kernel, 1, (-2, -1)))
    return torch.equal(kernel, torch.flip(kernel, (-1,))) and torch.equal(kernel, torch.flip(kernel, (-2,)))
