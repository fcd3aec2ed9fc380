"""Pooling: invariance within the window, non-expansiveness, exact invariance of global pooling.

(proofs: max_pooling, pointwise_and_composition for global pooling.)
"""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import falsify
from convnet_invariances import (
    CircularShift,
    Translations,
    assert_invariant,
    assert_orbit,
    d4,
    images,
    pooling_layers,
    shifts,
    trivial_action,
)


@st.composite
def peaks_that_stay_in_their_windows(draw):
    """(x, k, t): each k×k window has one peak that the circular shift t keeps inside that window.

    Background values are in [0, 3] and peaks in [5, 9], so a shift brings no
    value into a window that is larger than its peak.
    """
    k = draw(st.integers(2, 3))
    windows = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    t = draw(st.tuples(st.integers(-(k - 1), k - 1), st.integers(-(k - 1), k - 1)))
    channels = draw(st.integers(1, 2))
    x = np.array(draw(st.lists(st.integers(0, 3), min_size=channels * windows[0] * windows[1] * k * k,
                               max_size=channels * windows[0] * windows[1] * k * k)), dtype=np.float64)
    x = x.reshape(1, channels, windows[0] * k, windows[1] * k)
    for c in range(channels):
        for wy in range(windows[0]):
            for wx in range(windows[1]):
                # a peak position a with a + t inside [0, k) on both axes
                ay = draw(st.integers(max(0, -t[0]), k - 1 - max(0, t[0])))
                ax = draw(st.integers(max(0, -t[1]), k - 1 - max(0, t[1])))
                x[0, c, wy * k + ay, wx * k + ax] = draw(st.integers(5, 9))
    return torch.from_numpy(x).float(), k, t


@given(peaks_that_stay_in_their_windows())
def test_max_pool_is_invariant_to_shifts_that_keep_each_maximum_in_its_window(example):
    x, k, t = example
    assert_invariant(torch.nn.MaxPool2d(k), x, CircularShift(t), mode="exact")


def test_twin_one_pixel_shift_changes_a_max_pooled_output():
    @given(x=images(min_side=2, max_side=6, divisible_by=2))
    def max_pool_ignores_one_pixel_shifts(x):
        assert_invariant(torch.nn.MaxPool2d(2), x, CircularShift((0, 1)), mode="exact")

    found = falsify(max_pool_ignores_one_pixel_shifts)
    # 2×2 cannot falsify it (a one-column roll stays inside the single window): 2×4 is the minimum
    assert found.input_shape[2:] == (2, 4), found.report()


def _sup_norm(t):
    return float(t.abs().max()) if t.numel() else 0.0


@given(pool=pooling_layers(kinds=("max",), kernel_sizes=(1, 2, 3), strides=(None, 1, 2)),
       x=images(values="floats", min_side=3, max_side=7), t=shifts(max_shift=3))
def test_max_pool_is_non_expansive_in_the_sup_norm(pool, x, t):
    moved = CircularShift(t)(x)
    assert _sup_norm(pool(moved) - pool(x)) <= _sup_norm(moved - x)


def test_twin_sum_pooling_is_expansive():
    @given(x=images(min_side=2, max_side=4), t=shifts(max_shift=2))
    def sum_pool_is_non_expansive(x, t):
        sum_pool = torch.nn.LPPool2d(1, 2)  # p = 1 without absolute values: the plain window sum
        moved = CircularShift(t)(x)
        assert _sup_norm(sum_pool(moved) - sum_pool(x)) <= _sup_norm(moved - x)

    falsify(sum_pool_is_non_expansive, expected=AssertionError)


GLOBAL_POOLS = {
    "global_max": lambda x: x.amax(dim=tuple(range(2, x.dim()))),
    "global_avg": lambda x: x.mean(dim=tuple(range(2, x.dim()))),
}


@given(name=st.sampled_from(sorted(GLOBAL_POOLS)), x=images(channels=(1, 3), min_side=1, max_side=7))
def test_global_pooling_is_exactly_invariant_to_every_circular_shift(name, x):
    assert_orbit(GLOBAL_POOLS[name], x, Translations(x.shape[2:]), output_action=trivial_action(), mode="exact")


@given(name=st.sampled_from(sorted(GLOBAL_POOLS)), x=images(square=True, max_side=6))
def test_global_pooling_is_exactly_invariant_to_rotations_and_flips(name, x):
    assert_orbit(GLOBAL_POOLS[name], x, d4(), output_action=trivial_action(), mode="exact")


@given(x=images(dims=1, channels=(1, 3), max_side=9))
def test_global_pooling_1d_is_exactly_invariant(x):
    assert_orbit(GLOBAL_POOLS["global_max"], x, Translations(x.shape[2:]), output_action=trivial_action(), mode="exact")


def test_twin_local_max_pool_is_not_shift_invariant():
    @given(x=images(min_side=2, max_side=6, divisible_by=2))
    def local_pool_is_invariant(x):
        assert_orbit(torch.nn.MaxPool2d(2), x, Translations(x.shape[2:]), output_action=trivial_action(), mode="exact")

    found = falsify(local_pool_is_invariant)
    assert found.input_shape[2:] in {(2, 2), (2, 4)}, found.report()
