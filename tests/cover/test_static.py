"""The static certifier attacked: layers built to make it certify what is false, and the rules it must know."""

import random

import pytest
import torch
import torch.nn.functional as F

import convnet_invariances as ci
from convnet_invariances._static import StaticAnalysis, certify_static


def _verdict(module, shape, claim):
    return StaticAnalysis(module).verdict(shape, claim)


def _symmetric_conv(c_in=1, c_out=2, k=3, **kw):
    conv = torch.nn.Conv2d(c_in, c_out, k, **kw).double()
    with torch.no_grad():
        w = torch.randint(-2, 3, conv.weight.shape).double()
        conv.weight.copy_(sum(torch.rot90(w, r, (-2, -1)) for r in range(4)))
        if conv.bias is not None:
            conv.bias.copy_(torch.randint(-2, 3, conv.bias.shape).double())
    return conv


def _holds(module, shape, claim, seed=0):
    x = torch.randn((2,) + tuple(shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return ci.check_claim(module, x, claim).holds


# ----------------------------------------------------------------------------- red team: never certified


class ShiftedConv(torch.nn.Conv2d):
    """A Conv2d subclass whose forward adds a ramp: read from its code, not looked up by its base class."""

    def forward(self, x):
        return super().forward(x) * torch.arange(x.shape[-1], dtype=x.dtype) + 0


class BranchOnValues(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return torch.roll(x, 1, -1)


class BranchOnDtype(torch.nn.Module):
    def forward(self, x):
        if x.dtype == torch.float64:
            return x.flip(-1)
        return x


class PythonRandom(torch.nn.Module):
    def forward(self, x):
        return torch.roll(x, random.randint(0, 3), -1)


class Counter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * self.calls


class SliceWrite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        y = self.conv(x)
        corner = y[:, :, :2]
        corner.mul_(2)
        return y.mean((2, 3))


class AugmentedAdd(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        out = self.conv(x)
        skip = out
        out += 1  # writes into skip too: the graph would show two different tensors
        return out + skip


def _bump(t, other):
    t += other  # in place: the caller's tensor changes too
    return t


class HelperWrite(torch.nn.Module):
    """The write hides in a helper function forward calls: the scan covers every function the trace runs."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        y = self.conv(x)
        z = _bump(y, torch.arange(x.shape[-1], dtype=x.dtype))
        return z + y


class OwnCall(torch.nn.Module):
    def __call__(self, x):
        return torch.roll(x, 1, -1) * 0 + x[..., :1]

    def forward(self, x):
        return x


class RandomNoise(torch.nn.Module):
    def forward(self, x):
        return x + torch.rand_like(x)


class AlwaysTraining(torch.nn.Module):
    """Keeps its dropout in training mode whatever eval() says (Monte Carlo dropout)."""

    def __init__(self):
        super().__init__()
        self.dropout = torch.nn.Dropout(0.5)

    def train(self, mode=True):
        super().train(mode)
        self.dropout.train(True)
        return self

    def forward(self, x):
        return self.dropout(x)


def _hooked():
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    conv.register_forward_hook(lambda m, args, out: out * torch.arange(out.shape[-1]))
    return torch.nn.Sequential(conv, torch.nn.AdaptiveAvgPool2d(1))


def _pre_hooked():
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    conv.register_forward_pre_hook(lambda m, args: (args[0].roll(1, -1) * torch.arange(args[0].shape[-1]),))
    return conv


def _patched_instance():
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    conv.forward = lambda x: torch.nn.Conv2d.forward(conv, x) * torch.arange(x.shape[-1])
    return conv


def _no_running_stats():
    return torch.nn.Sequential(torch.nn.BatchNorm2d(1, track_running_stats=False), torch.nn.AdaptiveAvgPool2d(1))


RED_TEAM = {
    "subclass with its own forward": (lambda: ShiftedConv(1, 1, 3, padding=1, padding_mode="circular"),
                                      "translation-equivariant"),
    "forward hook": (_hooked, "translation-invariant"),
    "forward pre-hook": (_pre_hooked, "translation-equivariant"),
    "patched instance forward": (_patched_instance, "translation-equivariant"),
    "branch on values": (BranchOnValues, "translation-equivariant"),
    "branch on dtype": (BranchOnDtype, "flip-equivariant"),
    "python random": (PythonRandom, "translation-equivariant"),
    "state counter": (Counter, "translation-equivariant"),
    "in-place write through a slice": (SliceWrite, "translation-invariant"),
    "augmented assignment aliasing": (AugmentedAdd, "translation-equivariant"),
    "in-place write in a helper": (HelperWrite, "translation-equivariant"),
    "own __call__": (OwnCall, "translation-equivariant"),
    "random noise": (RandomNoise, "translation-equivariant"),
    "dropout kept in training": (AlwaysTraining, "translation-equivariant"),
    "batch norm without running stats": (_no_running_stats, "translation-invariant"),
    "bilinear interpolation": (lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear"), "translation-equivariant"),
    "ceil_mode window": (lambda: torch.nn.MaxPool2d(2, 2, ceil_mode=True), "flip-equivariant"),
}


@pytest.mark.parametrize("name", list(RED_TEAM))
def test_red_team_is_never_certified(name):
    factory, claim = RED_TEAM[name]
    verdict = _verdict(factory(), (1, 7, 7) if "ceil" in name else (1, 8, 8), claim)
    assert verdict.verdict in ("unknown", "not certified"), f"{name}: {verdict}"
    assert verdict.reasons


def test_a_patched_torch_class_is_declined(monkeypatch):
    original = torch.nn.Conv2d.forward
    monkeypatch.setattr(torch.nn.Conv2d, "forward", lambda self, x: original(self, x).roll(1, -1) * 2)
    verdict = _verdict(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), (1, 8, 8),
                       "translation-equivariant")
    assert verdict.verdict == "unknown" and "patched" in verdict.reasons[0]


def test_a_patched_functional_is_declined(monkeypatch):
    original = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *args, **kwargs: original(*args, **kwargs).roll(1, -1))
    verdict = _verdict(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), (1, 8, 8),
                       "translation-equivariant")
    assert verdict.verdict == "unknown" and "conv2d" in verdict.reasons[0]


def test_a_global_hook_is_declined():
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, a, out: out)
    try:
        verdict = _verdict(torch.nn.Conv2d(1, 1, 1), (1, 4, 4), "translation-equivariant")
    finally:
        handle.remove()
    assert verdict.verdict == "unknown" and "global" in verdict.reasons[0]


def test_the_users_module_is_not_changed():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.Dropout(),
                                torch.nn.AdaptiveAvgPool2d(1))
    counter = Counter()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    certify_static(model, (1, 8, 8))
    certify_static(counter, (1, 8, 8))
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert counter.calls == 0


# ----------------------------------------------------------------------------- rules it must know


@pytest.mark.parametrize("mode, margin_free", [("circular", True), ("zeros", False), ("reflect", False),
                                               ("replicate", False)])
def test_padding_modes_and_margins(mode, margin_free):
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode=mode).double()
    stack = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Conv2d(2, 1, 3, padding=1, padding_mode=mode).double())
    plain = _verdict(stack, (1, 10, 10), "translation-equivariant")
    assert plain.certified == margin_free
    assert _verdict(stack, (1, 10, 10), "translation-equivariant[margin=2]").certified
    if not margin_free:
        assert not _verdict(stack, (1, 10, 10), "translation-equivariant[margin=1]").certified
        assert plain.certified_instead == "translation-equivariant[margin=2]"
        assert "distance ≥ 2" in plain.reasons[0]
    assert _holds(stack, (1, 10, 10), "translation-equivariant[margin=2]")


def test_strides_multiply_and_name_their_layers():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, stride=2, padding=1, padding_mode="circular"), torch.nn.ReLU(),
        torch.nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode="circular"), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(2, 3)).double()
    verdict = _verdict(net, (1, 16, 16), "translation-invariant")
    assert verdict.verdict == "not certified"
    assert verdict.reasons[0] == "equivariant on 4Z² only: stride 2 at `0`, stride 2 at `2`"
    assert verdict.certified_instead == "translation-invariant[stride=4]"
    assert not _verdict(net, (1, 16, 16), "translation-invariant[stride=2]").certified
    certified = _verdict(net, (1, 16, 16), "translation-invariant[stride=4]")
    assert certified.certified and "invariant after `4`" in certified.reasons[-1]
    assert _holds(net, (1, 16, 16), "translation-invariant[stride=4]")
    assert not _holds(net, (1, 16, 16), "translation-invariant[stride=2]")


@pytest.mark.parametrize("size", range(7, 14))
def test_rot90_with_stride_needs_odd_sizes(size):
    net = torch.nn.Sequential(_symmetric_conv(stride=2, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1))
    verdict = _verdict(net, (1, size, size), "rot90-invariant")
    assert verdict.certified == (size % 2 == 1)
    assert _holds(net, (1, size, size), "rot90-invariant") == (size % 2 == 1)


def test_kernel_symmetry_is_read_from_the_weights():
    conv = _symmetric_conv(padding=1)
    assert _verdict(conv, (1, 6, 6), "rot90-equivariant").certified
    with torch.no_grad():
        conv.weight[0, 0, 0, 1] += 1
    verdict = _verdict(conv, (1, 6, 6), "rot90-equivariant")
    assert verdict.verdict == "not certified" and "not invariant under rot90" in verdict.reasons[-1]


def test_asymmetric_padding_breaks_reflections_but_not_translations():
    class Padded(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = _symmetric_conv(k=3)

        def forward(self, x):
            return self.conv(F.pad(x, (0, 2, 0, 2), mode="circular"))

    assert _verdict(Padded(), (1, 6, 6), "translation-equivariant").certified
    assert not _verdict(Padded(), (1, 6, 6), "flip-equivariant").certified
    assert not _holds(Padded(), (1, 6, 6), "flip-equivariant")


def test_adaptive_pooling_that_does_not_divide():
    net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(3)).double()
    assert _verdict(net, (1, 7, 7), "translation-equivariant").verdict == "not certified"
    assert not _holds(net, (1, 7, 7), "translation-equivariant")
    assert _verdict(net, (1, 7, 7), "rot90-equivariant").certified
    assert _holds(net, (1, 7, 7), "rot90-equivariant")


def test_pixel_shuffle_keeps_translations_not_rotations():
    net = torch.nn.Sequential(torch.nn.PixelUnshuffle(2), _symmetric_conv(4, 4, 1), torch.nn.PixelShuffle(2))
    assert _verdict(net, (1, 8, 8), "translation-equivariant[stride=2]").certified
    assert _holds(net, (1, 8, 8), "translation-equivariant[stride=2]")
    assert _verdict(net, (1, 8, 8), "rot90-equivariant").verdict == "unknown"  # channels reordered, untracked


def test_groups_dilation_and_residuals():
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.depthwise = torch.nn.Conv2d(2, 2, 3, padding=2, dilation=2, groups=2, padding_mode="circular")
            self.bn = torch.nn.BatchNorm2d(2)

        def forward(self, x):
            return F.relu(self.bn(self.depthwise(x))) + x

    net = torch.nn.Sequential(Block(), Block()).double().eval()
    assert _verdict(net, (2, 9, 9), "translation-equivariant").certified
    assert _holds(net, (2, 9, 9), "translation-equivariant")


def test_a_positional_embedding_is_not_followed():
    class Embedded(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.position = torch.nn.Parameter(torch.randn(1, 1, 6, 6))

        def forward(self, x):
            return F.relu(x + self.position).mean((2, 3))

    verdict = _verdict(Embedded(), (1, 6, 6), "translation-invariant")
    assert verdict.verdict == "unknown" and "positional embedding" in verdict.reasons[0]


def test_scale_and_rotation_are_left_to_the_search():
    assert _verdict(torch.nn.Identity(), (1, 4, 4), "scale-invariant").verdict == "unknown"


def test_zero_fill_invariance_follows_from_circular_invariance():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
                              torch.nn.AdaptiveMaxPool2d(1)).double()
    verdict = _verdict(net, (1, 6, 6), "translation-invariant[boundary=zero]")
    assert verdict.certified
    assert _holds(net, (1, 6, 6), "translation-invariant[boundary=zero]")


def test_size_rule_of_a_strided_stack():
    net = torch.nn.Sequential(_symmetric_conv(stride=2), torch.nn.ReLU(), _symmetric_conv(2, 2, stride=2),
                              torch.nn.AdaptiveAvgPool2d(1))
    report = certify_static(net, (1, 11, 11), ["rot90-invariant"], sizes=range(7, 24))
    assert report.verdicts[0].size_rule == "H = W ≡ 3 mod 4"
    for n, verdict, *_ in report.size_table["rot90-invariant"]:
        assert (verdict == "certified") == _holds(net, (1, n, n), "rot90-invariant"), n


def test_the_registry_size_table_is_confirmed_row_by_row():
    """The e2cnn-issue-36 table: a C4 network with two strided layers is rot90-invariant for H = W ≡ 3 mod 4."""
    from convnet_invariances.models import C4StridedCNN

    net = C4StridedCNN().double()
    report = certify_static(net, (1, 11, 11), ["rot90-invariant"], sizes=range(8, 24))
    assert report.verdicts[0].size_rule == "H = W ≡ 3 mod 4"
    for n, verdict, _, layer in report.size_table["rot90-invariant"]:
        assert verdict in ("certified", "not certified")
        assert (verdict == "certified") == _holds(net, (1, n, n), "rot90-invariant"), n
        assert verdict == "certified" or layer in ("conv1", "conv2")
