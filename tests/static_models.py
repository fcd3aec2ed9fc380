"""Random layer stacks for the static certifier's oracle and for layer attribution.

``stacks()`` draws a model: a random depth of convolutions (kernel sizes,
strides, dilations, groups, padding modes and amounts, explicit ``F.pad``),
poolings (max/avg, padding, ``ceil_mode``, adaptive, global), batch norm in
eval mode, activations, residual adds, nearest upsampling, pixel shuffle —
and, sometimes, a planted layer that breaks the symmetries (a positional
embedding, a dense layer over positions, a position-dependent scaling).
Weights are small integers; kernels are sometimes made rot90- or
D4-symmetric, so that rot90 and flip claims can be certified too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from hypothesis import strategies as st


class Residual(torch.nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class ExplicitPad(torch.nn.Module):
    def __init__(self, pad, mode):
        super().__init__()
        self.pad, self.mode = pad, mode

    def forward(self, x):
        return F.pad(x, self.pad, mode=self.mode)


class PositionScale(torch.nn.Module):
    """Planted: scales every position by its own factor (a buffer that varies over positions)."""

    def __init__(self, shape, seed):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("embedding", torch.randperm(math.prod(shape), generator=generator).reshape(shape).double() + 1)
        self.embedding.view(-1)[0] = 5  # never uniform

    def forward(self, x):
        return x * self.embedding


class RowDense(torch.nn.Module):
    """Planted: a dense layer over the last spatial axis."""

    def __init__(self, width, seed):
        super().__init__()
        self.dense = torch.nn.Linear(width, width, bias=False).double()
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.dense.weight.copy_(torch.randint(-2, 3, (width, width), generator=generator).double())

    def forward(self, x):
        return self.dense(x)


def _symmetrise(weight, how):
    if how == "rot90":
        return sum(torch.rot90(weight, k, (-2, -1)) for k in range(4))
    if how == "d4":
        c4 = sum(torch.rot90(weight, k, (-2, -1)) for k in range(4))
        return c4 + torch.flip(c4, (-1,))
    return weight


def _integer_(module, seed, symmetry):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            values = torch.randint(1, 3, p.shape, generator=generator) * (
                torch.randint(0, 2, p.shape, generator=generator) * 2 - 1)
            if name.endswith("weight") and p.dim() == 4 and p.shape[-1] == p.shape[-2] and symmetry != "none":
                # a sum of rotations of mixed signs may cancel to zero, which keeps every symmetry: one sign each
                values = _symmetrise(values.abs() * values.flatten(1)[:, :1, None, None].sign(), symmetry)
            p.copy_(values.double())
    return module


@st.composite
def stacks(draw, *, planted=None, min_side=4, max_side=12, square=None):
    """(model in float64 and eval mode, input shape (C, H, W), the planted layer's name or None).

    ``planted``: True to always plant a breaking layer (at a random depth), False never, None sometimes."""
    channels = draw(st.integers(1, 2))
    square = draw(st.booleans()) if square is None else square
    h = draw(st.integers(min_side, max_side))
    w = h if square else draw(st.integers(min_side, max_side))
    symmetry = draw(st.sampled_from(["none", "rot90", "d4"]))
    depth = draw(st.integers(1, 4))
    plant = draw(st.booleans()) if planted is None else planted
    plant_at = draw(st.integers(0, depth - 1)) if plant else -1
    layers: list = []
    c, size = channels, (h, w)
    seed = draw(st.integers(0, 1000))
    planted_name = None

    def out_size(n, k, s, d, before, after, ceil=False):
        span = d * (k - 1)
        if ceil:
            return -(-(n + before + after - span - 1) // s) + 1
        return (n + before + after - span - 1) // s + 1

    for index in range(depth):
        if index == plant_at:
            kind = draw(st.sampled_from(["position", "row_dense"]))
            if kind == "position":
                layers.append(PositionScale((c, *size), seed + index))
            else:
                layers.append(RowDense(size[1], seed + index))
            planted_name = str(len(layers) - 1)
            continue
        kind = draw(st.sampled_from(["conv", "conv", "pool", "relu", "bn", "residual", "pad_conv", "adaptive",
                                     "upsample", "shuffle"]))
        if kind in ("conv", "pad_conv", "residual"):
            k = draw(st.sampled_from([1, 2, 3]))
            stride = 1 if kind == "residual" else draw(st.sampled_from([1, 1, 2]))
            dilation = draw(st.sampled_from([1, 1, 2]))
            mode = draw(st.sampled_from(["zeros", "circular", "reflect", "replicate"]))
            out_c = c if kind == "residual" else draw(st.integers(1, 3))
            groups = c if (c == out_c and draw(st.booleans())) else 1
            span = dilation * (k - 1)
            if kind == "residual":
                if span % 2:
                    k, span = 3, 2 * dilation
                padding = span // 2
            else:
                padding = draw(st.sampled_from([0, span // 2, (span + 1) // 2, min(span, 2)]))
            if mode != "zeros" and padding > min(size) - 1:
                mode = "zeros"
            if kind == "pad_conv":
                before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))
                pad_mode = draw(st.sampled_from(["constant", "circular", "reflect", "replicate"]))
                if pad_mode != "constant" and max(before, after) > min(size) - 1:
                    pad_mode = "constant"
                layers.append(ExplicitPad((before, after, before, after), pad_mode))
                size = (size[0] + before + after, size[1] + before + after)
                padding = 0
            conv = torch.nn.Conv2d(c, out_c, k, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                   padding_mode=mode, bias=draw(st.booleans())).double()
            _integer_(conv, seed + 31 * index, symmetry)
            new = tuple(out_size(n, k, stride, dilation, padding, padding) for n in size)
            if min(new) < 1:
                return draw(st.nothing())
            if kind == "residual":
                layers.append(Residual(torch.nn.Sequential(conv, torch.nn.ReLU())))
            else:
                layers.append(conv)
            c, size = out_c, new
        elif kind == "pool":
            k = draw(st.sampled_from([1, 2, 3]))
            stride = draw(st.sampled_from([1, 2, k]))
            padding = draw(st.integers(0, k // 2))
            ceil = draw(st.booleans())
            pool_type = draw(st.sampled_from([torch.nn.MaxPool2d, torch.nn.AvgPool2d]))
            layers.append(pool_type(k, stride, padding, ceil_mode=ceil))
            new = tuple(out_size(n, k, stride, 1, padding, padding, ceil) for n in size)
            if ceil:  # torch drops a last window that starts in the right padding
                new = tuple(o - 1 if (o - 1) * stride >= n + padding else o for o, n in zip(new, size))
            if min(new) < 1:
                return draw(st.nothing())
            size = new
        elif kind == "relu":
            layers.append(draw(st.sampled_from([torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.LeakyReLU(0.5)])))
        elif kind == "bn":
            bn = torch.nn.BatchNorm2d(c).double()
            _integer_(bn, seed + index, "none")
            bn.running_mean.copy_(torch.arange(c, dtype=torch.float64))
            bn.running_var.copy_(torch.arange(1, c + 1, dtype=torch.float64))
            layers.append(bn.eval())
        elif kind == "adaptive":
            o = draw(st.integers(1, max(1, min(size))))
            layers.append(draw(st.sampled_from([torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d]))(o))
            size = (o, o)
        elif kind == "upsample":
            if max(size) > 8:
                continue
            layers.append(torch.nn.Upsample(scale_factor=2, mode="nearest"))
            size = (2 * size[0], 2 * size[1])
        elif kind == "shuffle":
            if draw(st.booleans()) and size[0] % 2 == 0 and size[1] % 2 == 0:
                layers.append(torch.nn.PixelUnshuffle(2))
                c, size = 4 * c, (size[0] // 2, size[1] // 2)
            elif c % 4 == 0:
                layers.append(torch.nn.PixelShuffle(2))
                c, size = c // 4, (2 * size[0], 2 * size[1])
        if min(size) > 24 or min(size) < 1:
            return draw(st.nothing())
    head = draw(st.sampled_from(["none", "none", "gap", "gap_linear"]))
    if head == "gap":
        layers.append(torch.nn.AdaptiveAvgPool2d(1))
        layers.append(torch.nn.Flatten())
    elif head == "gap_linear":
        layers.append(torch.nn.AdaptiveMaxPool2d(1))
        layers.append(torch.nn.Flatten())
        layers.append(_integer_(torch.nn.Linear(c, 2).double(), seed + 99, "none"))
    model = torch.nn.Sequential(*layers).eval()
    return model, (channels, h, w), planted_name
