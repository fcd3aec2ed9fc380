"""The orbit engine: same numbers as the naive loop, bounded chunks, OOM halving, float64 arbitration."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import integer_weights_, min_side_for
from convnet_invariances import (
    CircularShift,
    FiniteGroup,
    LayerError,
    Translations,
    ZeroShift,
    assert_equivariant,
    c4,
    conv_layers,
    d4,
    equivariance_error,
    images,
    orbit_error,
    same_action,
    strided_action,
    trivial_action,
)


def naive_errors(f, x, group, output_action):
    """What users and existing tools write: transform, forward, compare — one element at a time."""
    with torch.no_grad():
        y = f(x)
        return torch.tensor(
            [float((f(g(x)) - output_action(g)(y)).abs().max()) for g in group], dtype=torch.float64
        )


@given(data=st.data(), group_name=st.sampled_from(["translations", "C4", "D4", "strided"]))
def test_fast_path_gives_the_same_per_element_errors_as_the_naive_loop(data, group_name):
    stride = 2 if group_name == "strided" else 1
    conv = data.draw(conv_layers(in_channels=(1, 2), kernel_sizes=(1, 2, 3), strides=(stride,),
                                 padding_modes=("circular", "zeros")))
    side = max(min_side_for(conv), 2)
    x = data.draw(images(channels=conv.in_channels, square=True, divisible_by=2, min_side=side, max_side=side + 4))
    group = {"translations": Translations(x.shape[2:]), "C4": c4(), "D4": d4(),
             "strided": Translations(x.shape[2:], stride=2)}[group_name]
    action = strided_action(2) if stride == 2 else same_action()
    fast = orbit_error(conv, x, group, output_action=action, mode="exact")
    assert torch.equal(fast.errors, naive_errors(conv, x, group, action))
    assert fast.holds == bool((fast.errors == 0).all())


@given(x=images(channels=(1, 3), min_side=2, max_side=6), group_name=st.sampled_from(["translations", "D4"]))
def test_gathered_orbit_equals_applying_each_element(x, group_name):
    group = Translations(x.shape[2:]) if group_name == "translations" else d4()
    if group_name == "D4" and x.shape[-1] != x.shape[-2]:
        x = x[..., : min(x.shape[2:]), : min(x.shape[2:])]
    for g, moved in zip(group, inputs_seen(x, group)):
        assert torch.equal(moved, g(x)), g


def test_zero_fill_orbit_gather_matches_the_action():
    x = torch.arange(1.0, 26.0).view(1, 1, 5, 5)
    group = FiniteGroup("zero-fill shifts", [ZeroShift((dy, dx)) for dy in range(-4, 5) for dx in range(-4, 5)])
    for g, moved in zip(group, inputs_seen(x, group)):
        assert torch.equal(moved, g(x)), g


def inputs_seen(x, group):
    """The transformed inputs the engine hands the layer, in group order (one per element for a batch of 1)."""
    seen = []

    def record(batch):
        seen.append(batch.clone())
        return batch

    orbit_error(record, x, group, output_action=trivial_action(), mode="exact")
    return torch.cat(seen[1:]).unsqueeze(1)  # the first call is the reference f(x); (G, 1, C, *S)


class BatchRecorder(torch.nn.Module):
    """Wraps a layer and records the batch size of every call."""

    def __init__(self, inner, fail_above=None):
        super().__init__()
        self.inner, self.fail_above, self.batches = inner, fail_above, []

    def forward(self, x):
        self.batches.append(x.shape[0])
        if self.fail_above is not None and x.shape[0] > self.fail_above:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.inner(x)


def test_memory_budget_bounds_the_chunk_size_and_keeps_the_results():
    conv = integer_weights_(torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular"))
    x = torch.randint(-3, 4, (1, 2, 16, 16)).float()
    full = orbit_error(conv, x, Translations((16, 16)), mode="exact")
    per_element = 2 * 2 * 16 * 16 * 4 + 3 * 4 * 16 * 16 * 4 + 4 * 4 * 16 * 16 * 4  # the engine's own estimate
    recorder = BatchRecorder(conv)
    small = orbit_error(recorder, x, Translations((16, 16)), mode="exact", memory_budget=10 * per_element)
    assert torch.equal(small.errors, full.errors)
    # one call for the reference f(x); the orbit's identity element doubles as its determinism check
    assert recorder.batches[0] == 1 and max(recorder.batches[1:]) == 10
    assert sum(recorder.batches[1:]) == 256
    recorder = BatchRecorder(conv)
    orbit_error(recorder, x, Translations((16, 16)), mode="exact")  # a large budget: CPU chunks of CPU_CHUNK
    assert max(recorder.batches[1:]) == 32


def test_an_orbit_without_the_identity_spends_one_more_call_on_determinism():
    conv = integer_weights_(torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular"))
    x = torch.randint(-3, 4, (1, 2, 8, 8)).float()
    recorder = BatchRecorder(conv)
    orbit_error(recorder, x, FiniteGroup("two shifts", [CircularShift((1, 0)), CircularShift((0, 1))]))
    assert recorder.batches == [1, 1, 2]  # f(x), f(x) again, the two shifted inputs as one batch


@pytest.mark.parametrize("layer, message", [
    pytest.param(lambda x: x + torch.rand(()), "non-deterministic: two calls on the same input", id="random"),
    # a function of the whole batch, not of each sample: x − batch mean is 0 alone, not within the orbit
    pytest.param(lambda x: x - x.mean(dim=0, keepdim=True),
                 "computed alone and within a batch differ .* depends on the rest of the batch", id="batch-coupled"),
])
@pytest.mark.parametrize("mode", ["float", "exact"])
def test_the_identity_element_catches_a_layer_that_is_not_a_function_of_its_input(layer, message, mode):
    x = torch.randint(-3, 4, (1, 1, 6, 6)).float()
    with pytest.raises(LayerError, match=message):
        orbit_error(layer, x, Translations((6, 6)), output_action=same_action(), mode=mode)


def test_exact_mode_on_inexact_arithmetic_is_explained_not_called_a_violation():
    # integers beyond 2^24 round in float32, so a batched kernel may round differently from a single call
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-2**20, 2**20, conv.weight.shape).float())
    x = torch.randint(-2**20, 2**20, (1, 8, 16, 16)).float()
    with pytest.raises(LayerError, match=r"alone and within a batch differ.*the arithmetic is not exact.*mode='float'"):
        orbit_error(conv.eval(), x, Translations((16, 16)), mode="exact")
    assert orbit_error(conv, x, Translations((16, 16)), mode="float").holds  # rounding, by the tolerance model


def test_out_of_memory_halves_the_chunk_and_completes():
    conv = integer_weights_(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"))
    x = torch.randint(-3, 4, (1, 1, 8, 8)).float()
    recorder = BatchRecorder(conv, fail_above=5)
    result = orbit_error(recorder, x, Translations((8, 8)), mode="exact")
    assert result.holds and len(result.errors) == 64
    assert max(b for b in recorder.batches if b <= 5) <= 5


def test_out_of_memory_on_a_single_element_is_reported():
    recorder = BatchRecorder(torch.nn.Identity(), fail_above=0)
    with pytest.raises(LayerError, match="out of memory"):
        orbit_error(recorder, torch.zeros(1, 1, 3, 3), Translations((3, 3)))


def cancelling_window_sum(x):
    """A circular 3-wide window sum computed through a running sum of (x + 10⁴).

    Mathematically shift-equivariant, but its rounding depends on the absolute
    position (the running sum grows along the axis) and its intermediates are
    10⁴ times its output: the tolerance model alone cannot tell that from a
    violation; the float64 re-run can.
    """
    padded = torch.cat([x[..., -1:], x, x[..., :1]], dim=-1) + 1e4
    running = torch.cumsum(padded, dim=-1)
    running = torch.cat([torch.zeros_like(running[..., :1]), running], dim=-1)
    return running[..., 3:] - running[..., :-3] - 3e4


def test_float64_rerun_clears_position_dependent_rounding():
    x = torch.rand(1, 1, 64, generator=torch.Generator().manual_seed(1))
    group = Translations((64,))
    result = orbit_error(cancelling_window_sum, x, group, mode="float")
    assert (result.errors > result.tolerances).any(), "the float32 error should exceed the tolerance model"
    assert result.holds, result.report()
    worst = result.measurement(int(torch.argmax(result.errors / result.tolerances)))
    assert worst.float64_error is not None and worst.float64_error < worst.max_error * 2**-20


def test_float64_rerun_keeps_a_real_violation():
    def window_sum_with_a_bump(x):
        y = cancelling_window_sum(x)
        y[..., 5] += 1e-3  # a real, position-dependent violation
        return y

    x = torch.rand(1, 1, 64, generator=torch.Generator().manual_seed(1))
    result = orbit_error(window_sum_with_a_bump, x, Translations((64,)), mode="float")
    assert not result.holds
    report = result.report()
    assert "did not shrink" in report and "output[0, 0, 5]" in report or "output[0, 0," in report


def test_float_mode_tolerance_is_tight_enough_to_see_a_small_violation():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular")
    x = torch.randn(2, 3, 8, 8)

    class Perturbed(torch.nn.Module):
        def forward(self, x):
            y = conv(x)
            y[..., 2, 3] += 1e-4 * y.abs().max()
            return y

    measurement = equivariance_error(Perturbed(), x, Translations((8, 8)).elements()[1], mode="float")
    assert not measurement.holds, measurement.report()
    assert measurement.location[2:] in {(2, 3), (2, 4)}  # the perturbed pixel, before or after the shift


def test_invariance_report_names_the_output_action():
    pool = torch.nn.MaxPool2d(2)
    x = torch.tensor([[[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    result = orbit_error(pool, x, Translations((2, 4)), output_action=trivial_action(), mode="exact")
    text = result.report()
    assert "invariance f(g·x) = f(x): VIOLATED" in text
    assert "g = shift(0, 1)" in text  # the simplest violating element leads the report
    assert "reproduce:  convnet_invariances.assert_invariant(layer, x, shift(0, 1), mode='exact')" in text


def test_assert_equivariant_returns_the_measurement_when_the_claim_holds():
    conv = integer_weights_(torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular"))
    m = assert_equivariant(conv, torch.randint(-3, 4, (1, 1, 7)).float(), Translations((7,)).elements()[3])
    assert m.holds and m.max_error == 0.0 and m.mode == "exact"
