"""Hypothesis strategies for images, kernels, shifts, group elements and layers.

Every strategy takes keyword-only options with the same names throughout
(``dims``, ``channels``, ``min_side``/``max_side``, ``min_value``/``max_value``,
``dtype``) and shrinks toward small, simple examples: few channels, small
sides, zero values, zero shifts, the identity element, kernel size 1.

``values="integers"`` (the default) draws small integers stored as floats, so
convolution, pooling, roll and rot90 are exact and checks can demand
bitwise equality.
"""

from __future__ import annotations

import math
from typing import Literal

import hypothesis.extra.numpy as hnp
import numpy as np
import torch
from hypothesis import note
from hypothesis import strategies as st

from ._errors import InvalidArgument

VALUE_DOMAINS = ("integers", "floats", "smooth", "spikes", "object")


def _check_int(name, value, minimum=0):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an int ≥ {minimum}")


def _as_strategy(name, value, minimum=1):
    """Accept a fixed int, a (min, max) pair, or a strategy; return a strategy of ints."""
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        _check_int(name, value, minimum)
        return st.just(value)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        low, high = value
        if low < minimum or high < low:
            raise InvalidArgument(f"{name}={value!r} must be a (min, max) pair with {minimum} ≤ min ≤ max")
        return st.integers(low, high)
    raise InvalidArgument(f"{name}={value!r} must be an int, a (min, max) pair of ints, or a strategy")


def _torch_dtype(dtype):
    if dtype not in (torch.float32, torch.float64):
        raise InvalidArgument(f"dtype={dtype!r} must be torch.float32 or torch.float64")
    return dtype


def _smooth(draw, shape, bandwidth, min_value, max_value):
    """A real signal whose spectrum is zero above ``bandwidth`` (and so at Nyquist): band-limited."""
    spatial = shape[2:]
    grids = np.meshgrid(*[np.arange(n) for n in spatial], indexing="ij")
    out = np.zeros(shape)
    limits = [min(bandwidth, (n - 1) // 2) for n in spatial]
    count = draw(st.integers(1, 3))
    for _ in range(count):
        freq = [draw(st.integers(-b, b)) for b in limits]
        phase = draw(st.floats(0, 2 * math.pi, allow_nan=False))
        amp = draw(hnp.arrays(np.float64, shape[:2], elements=st.floats(-1, 1, allow_nan=False, width=32)))
        wave = np.cos(sum(2 * math.pi * k * g / n for k, g, n in zip(freq, grids, spatial)) + phase)
        out += amp[(...,) + (None,) * len(spatial)] * wave
    scale = max(abs(min_value), abs(max_value)) / count
    return out * scale


@st.composite
def images(
    draw,
    *,
    batch=1,
    channels=1,
    dims=2,
    shape=None,
    min_side=3,
    max_side=8,
    square=False,
    divisible_by=1,
    dtype=torch.float32,
    values="integers",
    min_value=-4,
    max_value=4,
    background=2,
    bandwidth=2,
):
    """Batches of signals, (N, C, H, W) for ``dims=2`` or (N, C, L) for ``dims=1``.

    ``values`` picks the domain: ``"integers"`` in [min_value, max_value] (exact
    mode), ``"floats"`` bounded, ``"smooth"`` band-limited (no energy above
    ``bandwidth`` cycles, none at Nyquist), ``"spikes"`` a few integer spikes
    on zeros, ``"object"`` integer content with at least ``background`` zero
    pixels on every side (for zero-fill shifts of up to ``background``).

    >>> from hypothesis import given
    >>> @given(images(dims=1, min_side=4, max_side=4))
    ... def check(x):
    ...     assert x.shape == (1, 1, 4)
    >>> check()
    """
    if dims not in (1, 2):
        raise InvalidArgument(f"dims={dims!r} must be 1 (signals (N, C, L)) or 2 (images (N, C, H, W))")
    if values not in VALUE_DOMAINS:
        raise InvalidArgument(f"values={values!r} must be one of {VALUE_DOMAINS}")
    _check_int("divisible_by", divisible_by, 1)
    _check_int("background", background, 0)
    dtype = _torch_dtype(dtype)
    if min_value > max_value:
        raise InvalidArgument(f"min_value={min_value!r} must not exceed max_value={max_value!r}")
    n = draw(_as_strategy("batch", batch))
    c = draw(_as_strategy("channels", channels))
    if shape is not None:
        spatial = (shape,) if isinstance(shape, int) else tuple(shape)
        if len(spatial) != dims:
            raise InvalidArgument(f"shape={shape!r} must have {dims} entr{'y' if dims == 1 else 'ies'} for dims={dims}")
    else:
        _check_int("min_side", min_side, 1)
        if max_side < min_side:
            raise InvalidArgument(f"max_side={max_side!r} must be ≥ min_side={min_side!r}")
        low = -(-min_side // divisible_by)
        high = max_side // divisible_by
        if high < low:
            raise InvalidArgument(
                f"no side in [min_side={min_side}, max_side={max_side}] is divisible by divisible_by={divisible_by}"
            )
        side = st.integers(low, high).map(lambda k: k * divisible_by)
        if square:
            spatial = (draw(side),) * dims
        else:
            spatial = tuple(draw(side) for _ in range(dims))
    full = (n, c) + spatial

    if values == "integers":
        array = draw(hnp.arrays(np.int64, full, elements=st.integers(min_value, max_value))).astype(np.float64)
    elif values == "floats":
        width: Literal[32, 64] = 32 if dtype == torch.float32 else 64
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
        array = draw(hnp.arrays(np.float64, full, elements=elements))
    elif values == "smooth":
        array = _smooth(draw, full, bandwidth, min_value, max_value)
    elif values == "spikes":
        array = np.zeros(full)
        flat = array.reshape(-1)
        count = draw(st.integers(1, min(4, flat.size)))
        for _ in range(count):
            position = draw(st.integers(0, flat.size - 1))
            flat[position] = draw(st.integers(min_value, max_value).filter(bool)) if (min_value, max_value) != (0, 0) else 0
    else:  # object on an empty background
        if any(s <= 2 * background for s in spatial):
            raise InvalidArgument(
                f"shape {spatial} has no room for content inside a background of {background} zero pixels; "
                f"increase min_side to at least {2 * background + 1}"
            )
        inner = tuple(s - 2 * background for s in spatial)
        content = draw(hnp.arrays(np.int64, (n, c) + inner, elements=st.integers(min_value, max_value)))
        array = np.zeros(full)
        array[(...,) + tuple(slice(background, background + i) for i in inner)] = content
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)


@st.composite
def kernels(
    draw,
    *,
    in_channels=1,
    out_channels=1,
    size=(1, 3),
    dims=2,
    dtype=torch.float32,
    values="integers",
    min_value=-3,
    max_value=3,
):
    """Convolution weights of shape (out_channels, in_channels, k[, k]); integer-valued by default.

    >>> from hypothesis import given
    >>> @given(kernels(size=3, in_channels=2))
    ... def check(k):
    ...     assert k.shape == (1, 2, 3, 3)
    >>> check()
    """
    if dims not in (1, 2):
        raise InvalidArgument(f"dims={dims!r} must be 1 or 2")
    if values not in ("integers", "floats"):
        raise InvalidArgument(f"values={values!r} must be 'integers' (exact mode) or 'floats'")
    dtype = _torch_dtype(dtype)
    k = draw(_as_strategy("size", size))
    shape = (draw(_as_strategy("out_channels", out_channels)), draw(_as_strategy("in_channels", in_channels))) + (k,) * dims
    if values == "integers":
        array = draw(hnp.arrays(np.int64, shape, elements=st.integers(min_value, max_value))).astype(np.float64)
    else:
        array = draw(hnp.arrays(np.float64, shape, elements=st.floats(min_value, max_value, allow_nan=False, width=32)))
    return torch.from_numpy(array).to(dtype)


def shifts(*, dims=2, max_shift=3, multiple_of=1, nonzero=False):
    """Integer translations as tuples, each component in [-max_shift, max_shift] and a multiple of ``multiple_of``.

    ``nonzero=True`` excludes the identity.  Shrinks toward (0, 0), then toward
    the smallest non-trivial shift.

    >>> from hypothesis import given
    >>> @given(shifts(dims=2, max_shift=4, multiple_of=2))
    ... def check(t):
    ...     assert all(c % 2 == 0 and abs(c) <= 4 for c in t)
    >>> check()
    """
    if dims not in (1, 2):
        raise InvalidArgument(f"dims={dims!r} must be 1 or 2")
    _check_int("max_shift", max_shift, 0)
    _check_int("multiple_of", multiple_of, 1)
    steps = max_shift // multiple_of
    if nonzero and steps == 0:
        raise InvalidArgument(
            f"max_shift={max_shift} admits no nonzero multiple of {multiple_of}; raise max_shift to ≥ {multiple_of}"
        )
    component = st.integers(-steps, steps).map(lambda k: k * multiple_of)
    strategy = st.tuples(*[component] * dims)
    return strategy.filter(any) if nonzero else strategy


def group_elements(group, *, exclude_identity=False):
    """Elements of a finite group (``Translations``, ``c4()``, ``d4()``, ``flips()``), shrinking toward the first.

    >>> from hypothesis import given
    >>> from convnet_invariances import c4
    >>> @given(group_elements(c4(), exclude_identity=True))
    ... def check(g):
    ...     assert not g.is_identity
    >>> check()
    """
    from ._groups import FiniteGroup

    if not isinstance(group, FiniteGroup):
        raise InvalidArgument(f"group={group!r} must be a FiniteGroup such as c4(), d4() or Translations((H, W))")
    elements = [g for g in group.elements() if not (exclude_identity and g.is_identity)]
    if not elements:
        raise InvalidArgument(f"group={group!r} has no element besides the identity")
    return st.sampled_from(elements)


def _set_weights(draw, layer, exact, dtype, min_value=-3, max_value=3):
    with torch.no_grad():
        for name, param in layer.named_parameters():
            if exact:
                array = draw(hnp.arrays(np.int64, tuple(param.shape), elements=st.integers(min_value, max_value)))
            else:
                elements = st.floats(-1, 1, allow_nan=False, width=32)
                array = draw(hnp.arrays(np.float64, tuple(param.shape), elements=elements))
            param.copy_(torch.from_numpy(array.astype(np.float64)))
            note(f"{name} = {param.tolist()}")
    return layer.to(dtype)


@st.composite
def conv_layers(
    draw,
    *,
    dims=2,
    in_channels=(1, 3),
    out_channels=(1, 3),
    kernel_sizes=(1, 2, 3, 4, 5),
    strides=(1,),
    dilations=(1, 2),
    paddings=("same",),
    padding_modes=("circular",),
    groups=True,
    bias=(False, True),
    exact=True,
    dtype=torch.float32,
):
    """``torch.nn.Conv1d``/``Conv2d`` layers with hyperparameters and weights drawn by the strategy.

    ``paddings`` holds ints or ``"same"``; with a stride > 1, ``"same"`` means
    the padding ``dilation·(k−1)//2`` that makes the output size ``size/stride``
    on sizes divisible by the stride.  ``groups=True`` draws a group count that
    divides both channel counts.  ``exact=True`` draws integer weights in
    [-3, 3]; the weights are printed with every falsifying example.

    >>> from hypothesis import given
    >>> @given(conv_layers(dims=1, kernel_sizes=(3,)))
    ... def check(conv):
    ...     assert conv.kernel_size == (3,) and conv.padding_mode == "circular"
    >>> check()
    """
    if dims not in (1, 2):
        raise InvalidArgument(f"dims={dims!r} must be 1 or 2")
    for name, options in [("kernel_sizes", kernel_sizes), ("strides", strides), ("dilations", dilations),
                          ("paddings", paddings), ("padding_modes", padding_modes), ("bias", bias)]:
        if not isinstance(options, (tuple, list)) or not options:
            raise InvalidArgument(f"{name}={options!r} must be a non-empty tuple of options to draw from")
    bad_modes = set(padding_modes) - {"zeros", "circular", "reflect", "replicate"}
    if bad_modes:
        raise InvalidArgument(f"padding_modes={padding_modes!r}: {sorted(bad_modes)} not in zeros, circular, reflect, replicate")
    c_in = draw(_as_strategy("in_channels", in_channels))
    c_out = draw(_as_strategy("out_channels", out_channels))
    k = draw(st.sampled_from(kernel_sizes))
    stride = draw(st.sampled_from(strides))
    dilation = draw(st.sampled_from(dilations))
    padding = draw(st.sampled_from(paddings))
    padding_mode = draw(st.sampled_from(padding_modes))
    has_bias = draw(st.sampled_from(bias))
    n_groups = 1
    if groups:
        common = [g for g in range(1, math.gcd(c_in, c_out) + 1) if c_in % g == 0 and c_out % g == 0]
        n_groups = draw(st.sampled_from(common))
    if padding == "same" and stride > 1:
        padding = dilation * (k - 1) // 2
    cls = torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d
    layer = cls(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, groups=n_groups,
                bias=has_bias, padding_mode=padding_mode)
    return _set_weights(draw, layer, exact, dtype)


@st.composite
def pooling_layers(draw, *, dims=2, kinds=("max", "avg", "lp"), kernel_sizes=(1, 2, 3), strides=(None,),
                   norm_types=(1, 2, 3)):
    """Max, average and Lp (power-average) pooling layers.

    ``strides`` entries of None mean "stride = kernel size" (torch's default).

    >>> from hypothesis import given
    >>> @given(pooling_layers(kinds=("max",), kernel_sizes=(2,)))
    ... def check(pool):
    ...     assert isinstance(pool, torch.nn.MaxPool2d)
    >>> check()
    """
    if dims not in (1, 2):
        raise InvalidArgument(f"dims={dims!r} must be 1 or 2")
    unknown = set(kinds) - {"max", "avg", "lp"}
    if not kinds or unknown:
        raise InvalidArgument(f"kinds={kinds!r} must be a non-empty subset of ('max', 'avg', 'lp')")
    kind = draw(st.sampled_from(kinds))
    k = draw(st.sampled_from(kernel_sizes))
    stride = draw(st.sampled_from(strides))
    nn = torch.nn
    if kind == "max":
        return (nn.MaxPool1d if dims == 1 else nn.MaxPool2d)(k, stride)
    if kind == "avg":
        return (nn.AvgPool1d if dims == 1 else nn.AvgPool2d)(k, stride)
    p = draw(st.sampled_from(norm_types))
    return (nn.LPPool1d if dims == 1 else nn.LPPool2d)(p, k, stride)
