"""Brute-force oracles and small planted layers for ``test_red_team_measures.py``.

Nothing here imports the implementation it judges: the oracles replay models with their own hooks, loop
over every group element, shift images by their own FFT and count interval coverage by Monte Carlo or by
summing the binomial law exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# ----------------------------------------------------------------------------- planted layers


def circular_conv(c_in=1, c_out=1, seed=0, dtype=torch.float64):
    """A 3x3 circular convolution with small integer weights (exact mode): equivariant to every circular shift."""
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="circular", bias=False).to(dtype)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-2, 3, conv.weight.shape, generator=generator).to(dtype))
    return conv


class ColumnGain(nn.Module):
    """Multiplies column 0 by 3: breaks every horizontal shift (the planted breaker); ``inplace`` writes into
    its input like ``ReLU(inplace=True)`` does."""

    def __init__(self, width, inplace=False):
        super().__init__()
        self.inplace = inplace
        gain = torch.ones(width, dtype=torch.float64)
        gain[0] = 3.0
        self.register_buffer("gain", gain)

    def forward(self, x):
        gain = self.gain.to(x.dtype)
        return x.mul_(gain) if self.inplace else x * gain


class Transpose(nn.Module):
    """Swaps H and W: equivariant, with output action ``shift(a, b) -> shift(b, a)`` (not the input's)."""

    def forward(self, x):
        return x.transpose(-1, -2)


class SignFlipColumn(nn.Module):
    """Negates column 0 (breaks shifts); ``Abs`` after it restores the symmetry."""

    def forward(self, x):
        sign = torch.ones(x.shape[-1], dtype=x.dtype)
        sign[0] = -1
        return x * sign


class Abs(nn.Module):
    def forward(self, x):
        return x.abs()


class Amplify(nn.Module):
    def forward(self, x):
        return 100 * x


class BreaksOnlyWhenLarge(nn.Module):
    """Doubles column 0 only where |h| > 50: equivariant on every N(0, 1) input, broken on amplified ones."""

    def forward(self, h):
        gain = torch.ones(h.shape[-1], dtype=h.dtype)
        gain[0] = 2.0
        return torch.where(h.abs() > 50, h * gain, h)


class Loud(nn.Module):
    """Two channels: the input times 1e6, and the input itself."""

    def forward(self, x):
        return torch.cat([x[:, :1] * 1e6, x[:, :1]], 1)


class QuietBreak(nn.Module):
    """Channel 1 (only) gets a gain that grows along W: a real break, in the quiet channel."""

    def forward(self, x):
        out = x.clone()
        out[:, 1] = out[:, 1] * torch.linspace(1, 2, x.shape[-1], dtype=x.dtype)
        return out


class AddPosition(nn.Module):
    """``h + pos``: a position embedding added by a module that takes the constant first."""

    def __init__(self, constant_first=True):
        super().__init__()
        self.constant_first = constant_first

    def forward(self, a, b):
        return a + b


class PositionNet(nn.Module):
    def __init__(self, side, constant_first=True):
        super().__init__()
        self.conv = circular_conv()
        self.add = AddPosition(constant_first)
        self.constant_first = constant_first
        self.register_buffer("pos", torch.arange(side, dtype=torch.float64).expand(1, 1, side, side).clone())

    def forward(self, x):
        h = self.conv(x)
        return self.add(self.pos, h) if self.constant_first else self.add(h, self.pos)


# ----------------------------------------------------------------------------- attribution oracle


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def record_every_call(model, x):
    """[(name, call index, [input tensors], [output tensors])] for every call of every submodule, in forward
    order; inputs are cloned *before* the call (a pre-hook), outputs right after it, every tensor of a tuple,
    list or dict, and every positional argument."""
    calls, counts, pending, handles = [], {}, {}, []

    def pre(name):
        def hook(module, args):
            pending.setdefault(name, []).append([t.detach().clone() for t in _tensors(args)])
        return hook

    def post(name):
        def hook(module, args, output):
            k = counts.get(name, 0)
            counts[name] = k + 1
            calls.append((name, k, pending[name].pop(), [t.detach().clone() for t in _tensors(output)]))
        return hook

    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(pre(name)))
        handles.append(module.register_forward_hook(post(name)))
    try:
        with torch.no_grad():
            model(x.clone())
    finally:
        for h in handles:
            h.remove()
    return calls


def violated(model, x, element, output_action=None, rel=1e-9):
    """Brute force on one element: is ``f(g·x) = ρ(g)·f(x)`` false (``ρ`` = the element itself, or trivial)?"""
    with torch.no_grad():
        y, gy = model(x.clone()), model(element(x.clone()))
    expected = y if output_action == "invariant" else element(y)
    scale = float(expected.abs().max().clamp_min(1e-300))
    return float((gy.double() - expected.double()).abs().max()) > rel * scale


def per_element_break(expected, got, dtype):
    """Per output element, the error against a rounding bound of that element's own magnitude (a loud element
    cannot hide a quiet one): True when some element is off by more than 64 ulps of itself plus a tiny floor."""
    eps = torch.finfo(dtype).eps
    bound = 64 * eps * torch.maximum(expected.abs(), got.abs()).double() + 1e-30
    return bool(((expected.double() - got.double()).abs() > bound).any())


# ----------------------------------------------------------------------------- measures oracles


def fourier_shift(x, dy, dx):
    """The band-limited shift of odd-sized images by (dy, dx) pixels (content moves by +dy, +dx), by the FFT;
    ``dy``, ``dx`` are numbers or one per sample."""
    h, w = x.shape[-2:]
    assert h % 2 and w % 2, "odd sizes only: no Nyquist bin to argue about"
    ky = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    kx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    dy, dx = torch.as_tensor(dy, dtype=torch.float64), torch.as_tensor(dx, dtype=torch.float64)
    if dy.dim():  # one move per sample
        dy, dx = dy.view(-1, 1, 1, 1), dx.view(-1, 1, 1, 1)
    phase = torch.exp(-2j * math.pi * (ky * dy + kx * dx))
    return torch.fft.ifft2(torch.fft.fft2(x.double()) * phase).real


def wilson_exact_coverage(interval, p, n):
    """P(interval(k, n) contains p) for k ~ Binomial(n, p), summed exactly."""
    total = 0.0
    for k in range(n + 1):
        lo, hi = interval(k, n)
        if lo <= p <= hi:
            total += math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return total


class Lattice(nn.Module):
    """Four class scores, one per 2x2 sub-lattice sum: invariant to shifts in 2Z^2, permuted by odd ones."""

    def forward(self, x):
        parts = [x[..., i::2, j::2].sum((1, 2, 3)) for i in (0, 1) for j in (0, 1)]
        return torch.stack(parts, 1)


class RowGain(nn.Module):
    """A gain that varies along H only: equivariant to horizontal motion, not to vertical motion."""

    def forward(self, x):
        i = torch.arange(x.shape[-2], dtype=x.dtype)
        return x * (1 + 0.5 * torch.cos(2 * math.pi * i / x.shape[-2]))[:, None]


class BatchCentred(nn.Module):
    """Scores from one pixel minus its mean over the batch: the prediction depends on the other samples."""

    def forward(self, x):
        v = x[:, 0, 0, 0]
        s = v - v.mean()
        return torch.stack([s, -s], 1)


def first_breaking_call(model, x, element):
    """The hook oracle for models whose activations all live on the input's grid: replay on ``x`` and
    ``g·x``; a call *breaks* when each of its input tensors is either the same in both runs (a constant) or
    the element applied to its value on ``x`` (and at least one moves), while some output tensor is not the
    element applied to its value on ``x``.  Calls are scanned in completion order (a submodule finishes
    before the module that called it), so the first breaking call is the most specific one.  Returns
    (name, call index) or None."""
    on_x, on_gx = record_every_call(model, x), record_every_call(model, element(x.clone()))
    by_key = {(n, k): (i, o) for n, k, i, o in on_gx}
    for name, k, inputs, outputs in on_x:
        inputs_g, outputs_g = by_key[(name, k)]
        if len(inputs) != len(inputs_g) or len(outputs) != len(outputs_g):
            continue
        moving = 0
        related = True
        for a, b in zip(inputs, inputs_g):
            if a.shape == b.shape and torch.equal(a, b) and not torch.equal(element(a), a):
                continue  # a constant argument (it did not move with the input)
            if a.dim() < 3 or a.shape != b.shape or per_element_break(element(a), b, a.dtype):
                related = False
                break
            moving += 1
        if not related or not moving:
            continue
        for a, b in zip(outputs, outputs_g):
            if a.dim() < 3 or a.shape != b.shape or per_element_break(element(a), b, a.dtype):
                return name, k
    return None


def knocked_out(model, name, replacement=None):
    """A copy of ``model`` with submodule ``name`` replaced (by an identity unless told)."""
    import copy

    twin = copy.deepcopy(model)
    parent_name, _, leaf = name.rpartition(".")
    parent = twin.get_submodule(parent_name) if parent_name else twin
    setattr(parent, leaf, replacement if replacement is not None else nn.Identity())
    return twin


def holds_on_every_shift(model, x, output_action="invariant", rel=1e-9):
    """Exhaustive: the claim holds for every circular shift of ``x``'s grid."""
    from itertools import product

    h, w = x.shape[-2:]
    with torch.no_grad():
        y = model(x.clone())
        for dy, dx in product(range(h), range(w)):
            gx = torch.roll(x, (dy, dx), (-2, -1))
            expected = y if output_action == "invariant" else torch.roll(y, (dy, dx), (-2, -1))
            got = model(gx)
            if float((got.double() - expected.double()).abs().max()) > rel * float(expected.abs().max()) + 1e-12:
                return False
    return True
