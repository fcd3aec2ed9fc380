"""pytest-benchmark timings of the fast path (CI runs each once as a smoke test, benchmarking disabled).

Run them for real with ``pytest tests/benchmarks --benchmark-enable``, or
``invariances bench`` for the table of ratios.  On a machine with CUDA the
same cases run on the GPU too; elsewhere those are skipped.
"""

import pytest
import torch

from convnet_invariances import Translations, c4, certify_translation_equivariance, d4, orbit_error, trivial_action
from convnet_invariances.app import SmallCNN, bare_forward, naive_loop

DEVICES = [pytest.param("cpu"), pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device on this machine"))]
SIDE = 8  # smoke-test size; `invariances bench` uses 32×32 and 64×64


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture
def small_cnn(device):
    return SmallCNN().to(device).eval(), torch.randint(-2, 3, (1, 3, SIDE, SIDE)).float().to(device)


def test_naive_loop_all_shifts(benchmark, small_cnn):
    model, x = small_cnn
    errors = benchmark(naive_loop, model, x, Translations((SIDE, SIDE)), trivial_action())
    assert errors[0] == 0.0 and max(errors) > 0  # max pooling with stride 2: only the stride-2 shifts commute


def test_fast_path_all_shifts(benchmark, small_cnn):
    model, x = small_cnn
    result = benchmark(orbit_error, model, x, Translations((SIDE, SIDE)), output_action=trivial_action(), mode="exact")
    assert result.errors.tolist() == naive_loop(model, x, Translations((SIDE, SIDE)), trivial_action())


def test_bare_batched_forward_all_shifts(benchmark, small_cnn):
    model, x = small_cnn
    benchmark(bare_forward(model, x, Translations((SIDE, SIDE))))


@pytest.mark.parametrize("group", [c4(), d4()], ids=["C4", "D4"])
def test_fast_path_finite_rotation_groups(benchmark, small_cnn, group):
    model, x = small_cnn
    result = benchmark(orbit_error, model, x, group, output_action=trivial_action(), mode="exact")
    assert len(result.errors) == len(group)


def test_linear_certificate(benchmark, device):
    conv = torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-1, 2, conv.weight.shape).float())
    certificate = benchmark(certify_translation_equivariance, conv.to(device), (4, SIDE, SIDE))
    assert certificate.certified
