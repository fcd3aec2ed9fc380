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
    """The transformed inputs the engine hands the layer, in group order (one per element for a batch of 1).

    The calls are: f(x), f(x) again, then chunks of elements each carrying the anchor x second and last, then
    f(x) once more.
    """
    seen = []

    def record(batch):
        seen.append(batch.clone())
        return batch

    orbit_error(record, x, group, output_action=trivial_action(), mode="exact")
    chunks = [torch.cat([batch[:1], batch[2:-1]]) for batch in seen[2:-1]]  # drop each chunk's anchors
    assert all(torch.equal(batch[-1:], x) and torch.equal(batch[1:2], x) for batch in seen[2:-1])
    return torch.cat(chunks).unsqueeze(1)  # (G, 1, C, *S)


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
    # f(x) twice, chunks of 10 elements plus the anchor x twice, f(x) once more
    assert recorder.batches[:2] == [1, 1] and recorder.batches[-1] == 1 and max(recorder.batches) == 12
    assert sum(b - 2 for b in recorder.batches[2:-1]) == 256
    recorder = BatchRecorder(conv)
    orbit_error(recorder, x, Translations((16, 16)), mode="exact")  # a large budget: CPU chunks of CPU_CHUNK
    assert max(recorder.batches) == 32 + 2


def test_the_protocol_of_calls_is_reference_twice_chunks_with_the_anchor_and_reference_again():
    conv = integer_weights_(torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular"))
    x = torch.randint(-3, 4, (1, 2, 8, 8)).float()
    recorder = BatchRecorder(conv)
    orbit_error(recorder, x, FiniteGroup("two shifts", [CircularShift((1, 0)), CircularShift((0, 1))]))
    assert recorder.batches == [1, 1, 4, 1]  # the chunk: the anchor second and last


class Noisy(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return x + self.size * torch.randn_like(x)


class CallCounter(torch.nn.Module):
    """Exact for its first calls, then adds a bias: hidden state, not a function of the input."""

    def __init__(self, honest_calls):
        super().__init__()
        self.calls, self.honest_calls = 0, honest_calls

    def forward(self, x):
        self.calls += 1
        return x if self.calls <= self.honest_calls else x + 1


@pytest.mark.parametrize("make_layer", [
    pytest.param(lambda: Noisy(7e-4), id="noise-7e-4"), pytest.param(lambda: Noisy(1e-6), id="noise-1e-6"),
    pytest.param(lambda: CallCounter(2), id="changes-after-two-calls"),
    pytest.param(lambda: CallCounter(3), id="changes-mid-orbit"),
])
@pytest.mark.parametrize("mode", ["float", "exact", "auto"])
def test_a_layer_that_is_not_a_function_of_its_input_is_an_error(make_layer, mode):
    x = torch.randint(-3, 4, (1, 1, 6, 6)).float()
    with pytest.raises(LayerError, match="not a function of its input"):
        orbit_error(make_layer(), x, Translations((6, 6)), output_action=same_action(), mode=mode)


@pytest.mark.parametrize("mode", ["float", "auto"])
def test_a_layer_of_whole_batches_is_checked_one_element_per_call(mode):
    # x − batch mean couples the samples: shift-equivariant as a function of whole batches
    def centre(x):
        return x - x.mean(dim=0, keepdim=True)

    x = torch.randn(3, 1, 6, 6)
    result = orbit_error(centre, x, Translations((6, 6)), output_action=same_action(), mode=mode)
    assert result.holds, result.report()
    assert any("couples the samples of a batch" in note for note in result.notes)

    def centre_and_pad(x):  # the same, plus zero padding: violated, and still found one element per call
        return torch.nn.functional.pad(centre(x), (1, 1, 1, 1))[..., 1:-1, :-2]

    assert not orbit_error(centre_and_pad, x, Translations((6, 6)), output_action=same_action(), mode=mode).holds


def test_a_layer_that_changes_with_the_batch_size_is_judged_per_batch():
    def clean_alone_shifted_in_batches(x):
        return x if x.shape[0] == 1 else torch.roll(x, 1, -1) * 0 + x.flip(-1)

    x = torch.randn(1, 1, 5, 5)
    result = orbit_error(clean_alone_shifted_in_batches, x, Translations((5, 5)), output_action=same_action())
    assert result.holds, "at batch 1 the layer is the identity: every element is checked at batch 1"
    x3 = torch.randn(3, 1, 5, 5)
    assert not orbit_error(clean_alone_shifted_in_batches, x3, Translations((5, 5)), output_action=same_action()).holds


def test_a_layer_that_accepts_one_sample_at_a_time_is_checked_one_element_per_call():
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")

    def one_at_a_time(x):
        if x.shape[0] != 1:
            raise ValueError("batch size must be 1")
        return conv(x)

    result = orbit_error(one_at_a_time, torch.randn(1, 1, 6, 6), Translations((6, 6)))
    assert result.holds and any("limits its size" in note for note in result.notes)


def test_inexact_arithmetic_on_integer_data_falls_back_to_float_mode_and_holds():
    # integers beyond 2^24 round in float32: a batched kernel may round differently from a single call
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-2**20, 2**20, conv.weight.shape).float())
    x = torch.randint(-2**20, 2**20, (1, 8, 16, 16)).float()
    auto = orbit_error(conv.eval(), x, Translations((16, 16)))
    assert auto.holds, auto.report()  # rounding, by the arbiter (or bitwise, where the kernels agree)


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
    assert worst.twin_error is not None and worst.twin_error < worst.max_error * 2**-20


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
    assert "reproduce (runs as printed):" in text
    assert "ci.assert_invariant(layer, x, ci.CircularShift((0, 1)), mode='exact')" in text


def test_assert_equivariant_returns_the_measurement_when_the_claim_holds():
    conv = integer_weights_(torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular"))
    m = assert_equivariant(conv, torch.randint(-3, 4, (1, 1, 7)).float(), Translations((7,)).elements()[3])
    assert m.holds and m.max_error == 0.0 and m.mode == "exact"


def test_a_loud_channel_does_not_hide_a_quiet_channels_violation():
    # channel 0 carries a bias of 1e5; channel 1 is zero padded (not circular) with O(1) errors at the border
    class LoudAndQuiet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.loud = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
            self.quiet = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="zeros", bias=False)
            with torch.no_grad():
                self.loud.bias.fill_(1e5)

        def forward(self, x):
            return torch.cat([self.loud(x), self.quiet(x)], dim=1)

    x = torch.randn(1, 1, 8, 8)
    result = orbit_error(LoudAndQuiet(), x, Translations((8, 8)))
    assert not result.holds
    assert result.measurement().location[1] == 1  # the quiet channel


class Bumped(torch.nn.Module):
    """A circular conv plus a constant at one output pixel: a position-dependent violation of any size."""

    def __init__(self, size):
        super().__init__()
        self.conv, self.size = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), size

    def forward(self, x):
        y = self.conv(x)
        y[..., 1, 2] += self.size
        return y


@pytest.mark.parametrize("size", [3e-5, 1e-6, 1e-9])
def test_a_tiny_position_dependent_bump_is_seen_by_the_float64_arbiter(size):
    layer = Bumped(size)
    x = torch.randn(1, 2, 8, 8)
    result = orbit_error(layer, x, Translations((8, 8)))
    assert not result.holds, result.report()
    assert result.measurement().twin_error is not None
    assert orbit_error(layer.conv, x, Translations((8, 8))).holds  # the negative twin: the clean layer holds


def test_a_function_whose_twin_cannot_run_is_judged_in_its_own_precision_and_says_so():
    conv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")  # float32, closed over

    def bumped(x):
        y = conv(x)
        y[..., 1, 2] += 1e-6  # below float32's worst-case bound for these inputs: invisible without a twin
        return y

    result = orbit_error(bumped, torch.randn(1, 2, 8, 8), Translations((8, 8)))
    assert result.arbiter.startswith("unavailable: the float64 twin fails")


def test_a_twin_that_is_not_the_same_function_is_not_trusted():
    class CleanOnlyInFloat64(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")

        def forward(self, x):
            y = self.conv(x)
            if x.dtype != torch.float64:
                y = y + 1e-2 * torch.arange(y.shape[-1], dtype=y.dtype)  # a position-dependent term
            return y

    result = orbit_error(CleanOnlyInFloat64(), torch.randn(1, 1, 8, 8), Translations((8, 8)))
    assert not result.holds
    assert "not the same function" in result.arbiter


def test_complex_parameters_reach_the_twin_as_complex():
    class ComplexFilter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.filter = torch.nn.Parameter(torch.randn(8, dtype=torch.complex64))

        def forward(self, x):  # circular convolution through the FFT with a complex filter: shift-equivariant
            return torch.fft.ifft(torch.fft.fft(x) * self.filter).real

    result = orbit_error(ComplexFilter(), torch.randn(2, 1, 8), Translations((8,)))
    assert result.holds, result.report()
    assert "twin" in result.arbiter and "unavailable" not in result.arbiter


def test_a_layer_writing_into_its_input_does_not_corrupt_the_evidence():
    relu = torch.nn.ReLU(inplace=True)
    x = torch.randn(1, 2, 6, 6)
    before = x.clone()
    result = orbit_error(relu, x, Translations((6, 6)))
    assert result.holds and torch.equal(x, before)
    assert any("writes into its input" in note for note in result.notes)


def test_a_layer_reusing_its_output_buffer_does_not_corrupt_the_reference():
    class Reuses(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.buffer = None

        def forward(self, x):
            if self.buffer is None or self.buffer.shape != x.shape:
                self.buffer = torch.empty_like(x)
            torch.mul(x, 2, out=self.buffer)
            return self.buffer

    x = torch.randn(1, 1, 5, 5)
    assert orbit_error(Reuses(), x, Translations((5, 5))).holds


def test_integer_outputs_are_compared_exactly():
    x = torch.randn(2, 3, 6, 6)
    argmax_of_global_max = lambda x: x.amax(dim=(-2, -1)).argmax(dim=1)  # noqa: E731
    assert orbit_error(argmax_of_global_max, x, Translations((6, 6)), output_action=trivial_action()).holds
    off_by_one = lambda x: x[..., 1:, :].amax(dim=(-2, -1)).argmax(dim=1)  # noqa: E731
    x = torch.zeros(1, 2, 6, 6)
    x[0, 0, 0, 0], x[0, 1, 3, 3] = 5.0, 1.0
    assert not orbit_error(off_by_one, x, Translations((6, 6)), output_action=trivial_action()).holds


@pytest.mark.parametrize("layer, message", [
    pytest.param(lambda x: x.sum(), "0-d output", id="0-d"),
    pytest.param(lambda x: x.sum(dim=0), "keep the batch axis first", id="no-batch-axis"),
])
def test_outputs_without_a_batch_axis_are_errors_naming_the_shape(layer, message):
    with pytest.raises(LayerError, match=message):
        orbit_error(layer, torch.randn(2, 1, 4, 4), Translations((4, 4)), output_action=trivial_action())


# ----------------------------------------------------------------------------- narrow outputs, quantisers, coupling


class _StoredNarrow(torch.nn.Module):
    """A float32 circular conv whose output is stored in ``dtype`` (``.half()`` at the end), with an optional
    position-dependent gain error: the rounding accumulates in float32, the cast rounds once."""

    def __init__(self, dtype, gain_error=0.0):
        super().__init__()
        torch.manual_seed(3)
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
        self.dtype, self.gain_error = dtype, gain_error

    def forward(self, x):
        y = self.conv(x)
        ramp = torch.linspace(-1, 1, y.shape[-1], dtype=y.dtype)
        return (y * (1 + self.gain_error * ramp)).to(self.dtype)


@pytest.mark.parametrize("dtype, gain_error", [(torch.float16, 1e-2), (torch.bfloat16, 5e-2)])
def test_an_output_stored_in_half_precision_is_judged_by_its_computation_plus_one_rounding(dtype, gain_error):
    x = torch.randn(1, 1, 8, 8)
    clean = orbit_error(_StoredNarrow(dtype), x, Translations((8, 8)))
    assert clean.holds, clean.report()
    assert "output stored in" in clean.measurement().regime
    # the negative twin: a gain error far above one rounding of the stored dtype, far below n of them
    broken = orbit_error(_StoredNarrow(dtype, gain_error), x, Translations((8, 8)))
    assert not broken.holds, broken.report()


def test_a_quantiser_in_front_keeps_the_float64_arbiter_and_a_float32_cast_inside_drops_it():
    class Quantised(torch.nn.Module):
        def __init__(self, bump=0.0, quantise=True, inside_float32=False):
            super().__init__()
            torch.manual_seed(4)
            self.conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
            self.bump, self.quantise, self.inside_float32 = bump, quantise, inside_float32

        def forward(self, x):
            q = torch.round(x / 0.07) * 0.07 if self.quantise else x  # piecewise constant: ignores tiny changes
            if self.inside_float32:  # the conv in float32 whatever the input's dtype (its twin rounds alike)
                y = torch.nn.functional.conv2d(torch.nn.functional.pad(q.float(), (1, 1, 1, 1), mode="circular"),
                                               self.conv.weight.float(), self.conv.bias.float()).to(x.dtype)
            else:
                y = self.conv(q)
            return y + self.bump * (torch.arange(8) == 3).to(y.dtype)  # position-dependent

    x = torch.randn(1, 1, 8, 8)
    assert orbit_error(Quantised(), x, Translations((8, 8))).holds
    # a bump below float32's bound for these outputs: only a working float64 arbiter can see it
    bumped = orbit_error(Quantised(bump=1e-6), x, Translations((8, 8)))
    assert not bumped.holds, bumped.report()
    assert bumped.arbiter == "float64 twin"
    # without the quantiser, a twin that computes in float32 inside is set aside (its errors would not shrink);
    # with it, nothing a black box sees tells the two apart, and the twin is kept (a false alarm at worst)
    inside = orbit_error(Quantised(quantise=False, inside_float32=True), x, Translations((8, 8)))
    assert "computes in the layer's precision" in inside.arbiter, inside.arbiter
    assert inside.holds, inside.report()


def test_a_batch_coupling_that_spares_the_anchors_is_searched_one_element_per_call():
    from convnet_invariances import audit

    class SparesAnchors(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)
            self.conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")

        def forward(self, x):
            y = self.conv(x)
            n = x.shape[0]
            if n >= 4:  # rows 2 … n−2 see their neighbour: never the anchors (second and last)
                extra = torch.zeros_like(y)
                extra[2:n - 1] = 0.5 * self.conv(x[1:n - 2])
                y = y + extra
            return y

    result = audit(SparesAnchors(), (1, 8, 8), ["translation-equivariant"], examples=4).results[0]
    assert result.verdict == "holds", result.message
    assert any("once per group element" in note for note in result.notes)
    # the negative twin: with a real violation added, the one-element-per-call search still finds it
    broken = SparesAnchors()
    broken.conv.padding_mode = "zeros"
    assert audit(broken, (1, 8, 8), ["translation-equivariant"], examples=4).results[0].verdict == "violated"


def test_an_output_without_the_channel_axis_is_a_usage_error_not_a_verdict():
    from convnet_invariances import InvalidArgument, audit

    class DropsChannel(torch.nn.Module):
        def __init__(self, pool=False):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
            self.pool = pool

        def forward(self, x):
            y = self.conv(x)[:, 0]  # (N, H, W): the channel axis dropped
            return y.sum(dim=(-2, -1))[:, None] if self.pool else y

    with pytest.raises(InvalidArgument, match="channel axis"):
        orbit_error(DropsChannel(), torch.randn(1, 1, 8, 8), Translations((8, 8)))
    with pytest.raises(InvalidArgument, match="channel axis"):
        audit(DropsChannel(), (1, 8, 8), ["translation-equivariant"])
    # the negative twin: an invariant claim needs no output layout, and is judged
    pooled = audit(DropsChannel(pool=True), (1, 8, 8), ["translation-invariant"], examples=4)
    assert pooled.results[0].verdict in ("holds", "certified")
