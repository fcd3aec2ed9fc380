"""The measures' own sanity suite: zero (or at the floor) on invariant models, positive on planted violations,
monotone in the planted violation's size, samplers that never draw the identity, intervals that mean something."""

import math

import pytest
import torch

from convnet_invariances import (
    InvalidArgument,
    bootstrap_interval,
    consistency,
    eq_psnr,
    top1_change,
    wilson_interval,
)


class PooledClassifier(torch.nn.Module):
    """Circular conv → global average pool → linear: translation-invariant for circular shifts.  ``tilt`` plants
    a violation of that size: that share of the features is read at one pixel instead of pooled (0: invariant)."""

    def __init__(self, tilt=0.0, classes=5):
        super().__init__()
        torch.manual_seed(7)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, padding_mode="circular")
        self.head = torch.nn.Linear(8, classes)
        self.tilt = tilt

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.head((1 - self.tilt) * y.mean(dim=(-2, -1)) + self.tilt * y[..., 2, 3])


def images(n=64, seed=0):
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- Azulay & Weiss


def test_top1_change_is_zero_on_an_invariant_model_and_positive_on_a_planted_violation():
    clean = top1_change(PooledClassifier(), images(), boundary="circular")
    assert clean["p_top1_change"] == 0.0 and clean["mac"] < 1e-6
    assert clean["p_top1_change_ci"][0] == 0.0 and clean["p_top1_change_ci"][1] < 0.1
    broken = top1_change(PooledClassifier(tilt=1.0), images(), boundary="circular")
    assert broken["p_top1_change"] > 0 and broken["mac"] > 1e-3


def test_the_mac_grows_with_the_planted_violation():
    macs = [top1_change(PooledClassifier(tilt=t), images(), boundary="circular")["mac"] for t in (0.01, 0.1, 1.0)]
    assert macs[0] < macs[1] < macs[2], macs


def test_zero_fill_follows_the_papers_black_canvas_and_sees_the_border():
    # the canvas protocol brings in zeros: even a circular-invariant model changes a little
    assert top1_change(PooledClassifier(), images())["mac"] > 0


@pytest.mark.parametrize("kwargs, name", [({"shift": (0, 0)}, "shift="), ({"shift": (1,)}, "shift="),
                                          ({"boundary": "reflect"}, "boundary=")])
def test_top1_change_names_a_bad_argument(kwargs, name):
    with pytest.raises(InvalidArgument, match=name):
        top1_change(PooledClassifier(), images(4), **kwargs)


# ----------------------------------------------------------------------------- StyleGAN3's EQ-T / EQ-R


def test_eq_t_is_at_the_float64_floor_for_a_circular_conv_and_finite_for_zero_padding():
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    circular = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular").double()
    zero = torch.nn.Conv2d(1, 2, 3, padding=1).double()
    assert eq_psnr(circular, x)["psnr_db"] > 250  # MSE at float64 rounding: over 250 dB
    broken = eq_psnr(zero, x)
    assert 0 < broken["psnr_db"] < 60
    lo, hi = broken["psnr_db_ci"]
    assert lo <= broken["psnr_db"] <= hi


def test_eq_t_falls_as_the_planted_gain_grows():
    class Gain(torch.nn.Module):
        def __init__(self, size):
            super().__init__()
            self.size = size

        def forward(self, x):
            return x * (1 + self.size * torch.linspace(-1, 1, x.shape[-1], dtype=x.dtype))

    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    values = [eq_psnr(Gain(s), x)["psnr_db"] for s in (1e-3, 1e-2, 1e-1)]
    assert values[0] > values[1] > values[2], values


def test_eq_r_is_at_the_floor_for_a_pointwise_linear_map_and_finite_for_an_asymmetric_kernel():
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    assert eq_psnr(lambda t: 3.0 * t, x, "rotation")["psnr_db"] > 250  # commutes with any resampling
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))  # "read the pixel above"
    assert eq_psnr(conv, x, "rotation")["psnr_db"] < 60


@pytest.mark.parametrize("generator, limit, key", [("translation", 0.5, "max_shift"), ("rotation", math.pi, "max_angle")])
def test_the_samplers_never_draw_the_identity(generator, limit, key):
    result = eq_psnr(lambda t: t, torch.randn(1, 1, 8, 8, dtype=torch.float64), generator, draws=50,
                     **{key: limit})
    assert len(result["elements"]) == 50 and all(len(per_sample) == 1 for per_sample in result["elements"])
    for per_sample in result["elements"]:  # elements[d][n]: draw d of sample n (each sample draws its own)
        for moves in per_sample:
            size = math.hypot(*(amount for _, amount in moves))
            assert limit / 4 - 1e-6 <= size <= limit + 1e-6, moves


def test_consistency_never_compares_a_shift_with_itself():
    calls = []

    class Spy(torch.nn.Module):
        def forward(self, x):
            calls.append(x.clone())
            return x.mean(dim=(-2, -1))

    x = images(2)
    consistency(Spy(), x, pairs=40, max_shift=1)  # 9 shifts: equal pairs would be common without the guard
    def shifted(c):  # a call of the pairs: every image a circular shift of its own (not the copy checks' inputs)
        return c.shape == x.shape and all(any(torch.equal(c[n], torch.roll(x[n], (i, j), (-2, -1)))
                                              for i in range(x.shape[-2]) for j in range(x.shape[-1]))
                                          for n in range(x.shape[0]))

    calls = [c for c in calls if shifted(c)]
    pairs = list(zip(calls[0::2], calls[1::2]))
    assert len(pairs) >= 40 and all(not torch.equal(a, b) for a, b in pairs)
    result = consistency(PooledClassifier(), images(), pairs=2)
    lo, hi = result["consistency_ci"]
    assert lo <= result["consistency"] <= hi


@pytest.mark.parametrize("kwargs, name", [({"generator": "scale"}, "generator="), ({"draws": 0}, "draws="),
                                          ({"max_shift": -1.0}, "max_shift="), ({"data_range": 0}, "data_range=")])
def test_eq_psnr_names_a_bad_argument(kwargs, name):
    with pytest.raises(InvalidArgument, match=name):
        eq_psnr(lambda t: t, torch.randn(1, 1, 8, 8), **kwargs)


# ----------------------------------------------------------------------------- the intervals


def test_wilson_intervals_contain_the_share_stay_in_range_and_narrow_with_more_trials():
    for k, n in ((0, 10), (3, 10), (10, 10), (30, 100)):
        lo, hi = wilson_interval(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert wilson_interval(50, 1000)[1] - wilson_interval(50, 1000)[0] < wilson_interval(5, 100)[1] - \
        wilson_interval(5, 100)[0]
    with pytest.raises(InvalidArgument, match="trials"):
        wilson_interval(3, 2)


def test_the_bootstrap_is_reproducible_and_covers_a_known_mean():
    values = torch.randn(400, generator=torch.Generator().manual_seed(1)) + 5.0
    assert bootstrap_interval(values, seed=3) == bootstrap_interval(values, seed=3)
    lo, hi = bootstrap_interval(values)
    assert lo < 5.0 < hi and hi - lo < 0.3
    with pytest.raises(InvalidArgument, match="confidence="):
        bootstrap_interval(values, confidence=1.5)
