"""The precision regime: which unit roundoff sets the bound, from the device and torch's settings.

The CUDA settings are simulated here (the flags exist on CPU builds; autocast is patched), so the
detection is tested on every machine; the checks on a real GPU run where one is present.
"""

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances._tolerance import precision_regime, unit_roundoff

CUDA = torch.device("cuda")
CPU = torch.device("cpu")


@pytest.fixture
def tf32_flags():
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def test_tf32_on_cuda_sets_a_10_bit_mantissa_and_names_the_flag(tf32_flags):
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = True, False
    regime = precision_regime(torch.float32, CUDA)
    assert regime.unit_roundoff == 2.0**-11 and "torch.backends.cudnn.allow_tf32" in regime.reason
    assert "matmul" not in regime.reason


def test_without_tf32_cuda_float32_keeps_its_own_roundoff(tf32_flags):  # negative twin of the above
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = False, False
    regime = precision_regime(torch.float32, CUDA)
    assert regime.unit_roundoff == unit_roundoff(torch.float32) and regime.reason == "float32 on cuda"


def test_tf32_flags_change_nothing_on_cpu_or_for_float64(tf32_flags):
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    assert precision_regime(torch.float32, CPU).unit_roundoff == unit_roundoff(torch.float32)
    assert precision_regime(torch.float64, CUDA).unit_roundoff == unit_roundoff(torch.float64)


def test_autocast_on_cuda_sets_the_half_precision(monkeypatch):
    monkeypatch.setattr(torch, "is_autocast_enabled", lambda device_type=None: device_type == "cuda")
    monkeypatch.setattr(torch, "get_autocast_dtype", lambda device_type: torch.bfloat16)
    regime = precision_regime(torch.float32, CUDA)
    assert regime.dtype == torch.bfloat16 and regime.unit_roundoff == unit_roundoff(torch.bfloat16)
    assert "autocast to bfloat16" in regime.reason
    assert precision_regime(torch.float32, CPU).unit_roundoff == unit_roundoff(torch.float32)


def test_integers_are_compared_exactly_everywhere():
    assert precision_regime(torch.int64, CUDA).unit_roundoff == 0.0


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@needs_cuda
@pytest.mark.parametrize("tf32", [False, True])
def test_on_cuda_an_equivariant_conv_holds_and_a_zero_padded_one_is_caught(tf32_flags, tf32):
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.manual_seed(0)
    x = torch.randn(8, 3, 32, 32, device="cuda")
    circular = torch.nn.Conv2d(3, 8, 3, padding=1, padding_mode="circular").cuda()
    zeros = torch.nn.Conv2d(3, 8, 3, padding=1).cuda()
    group = ci.Translations((32, 32))
    assert ci.orbit_error(circular, x, group).holds
    assert not ci.orbit_error(zeros, x, group).holds


# ----------------------------------------------------------------------------- exact mode where it is exact


def test_exact_mode_under_tf32_needs_integers_that_fit_11_bits(tf32_flags):
    from convnet_invariances._tolerance import exact_mode_obstacle

    torch.backends.cudnn.allow_tf32 = True
    conv = torch.nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        conv.weight.fill_(3.0)
    small = torch.full((1, 1, 4, 4), 2048.0)
    assert exact_mode_obstacle(small, conv, CUDA) is None  # 2^11: every integer up to it fits
    reason = exact_mode_obstacle(small + 1, conv, CUDA)
    assert reason is not None and "2048" in reason and "2049" in reason
    # the negative twins: the same values are exact on CPU, and on CUDA without TF32
    assert exact_mode_obstacle(small + 1, conv, CPU) is None
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    assert exact_mode_obstacle(small + 1, conv, CUDA) is None


def test_exact_mode_under_autocast_is_never_bitwise(monkeypatch):
    from convnet_invariances._tolerance import exact_mode_obstacle

    monkeypatch.setattr(torch, "is_autocast_enabled", lambda device_type=None: device_type == "cuda")
    monkeypatch.setattr(torch, "get_autocast_dtype", lambda device_type: torch.float16)
    reason = exact_mode_obstacle(torch.ones(1, 1, 4, 4), None, CUDA)
    assert reason is not None and "autocast to float16" in reason


@needs_cuda
def test_on_cuda_under_tf32_large_integers_are_checked_in_float_mode_and_say_why(tf32_flags):
    torch.backends.cudnn.allow_tf32 = True
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular", bias=False).cuda()
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-3, 4, conv.weight.shape).float())
    x = torch.randint(-5000, 5001, (1, 1, 16, 16), device="cuda").float()
    result = ci.orbit_error(conv, x, ci.Translations((16, 16)))
    assert result.holds, result.report()
    assert any("exact mode is not exact here" in note for note in result.notes)
