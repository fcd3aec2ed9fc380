"""ResNet50Like states what its docstring says: logits of the right shape, invariance to multiples of its total
stride 32 at most, and not even that exactly (zero padding) — checked statically and on data."""

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances.models import InvalidHyperparameter, ResNet50Like


def small():
    return ResNet50Like(widths=(2, 2, 2, 2), classes=3).double().eval()


def test_the_static_certifier_reads_the_total_stride_and_the_zero_padding():
    report = ci.certify_static(small(), (3, 64, 64), ["translation-invariant", "translation-invariant[stride=32]"])
    for verdict in report.verdicts:
        assert verdict.verdict == "not certified", verdict
        reasons = " ".join(verdict.reasons)
        assert "stride 2 at `stem.0`" in reasons and "padding that is not circular" in reasons


def test_shifts_by_its_total_stride_still_move_the_logits():
    """Zero padding: a shift by 32 (a multiple of the total stride) is not exact either; a shift by 0 is."""
    net = small()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    moved = net(torch.roll(x, (32, 32), dims=(2, 3))) - net(x)
    assert moved.abs().max() > 1e-6
    assert torch.equal(net(x.clone()), net(x))


def test_stages_need_one_width_and_one_depth_each():
    with pytest.raises(InvalidHyperparameter, match=r"widths=\(64, 128\) and blocks=\(3, 4, 6, 3\)"):
        ResNet50Like(widths=(64, 128))
