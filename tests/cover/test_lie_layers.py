"""layerwise_lie_derivative: exact per-module contributions that add up to the end-to-end Lie derivative."""

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convnet_invariances import InvalidArgument, layerwise_lie_derivative, lie_derivative
from convnet_invariances._lie_layers import OUTSIDE

#: float64 rounding of a few stacked convolutions, relative to the output: far below any planted defect (≥ 1e-3)
FLOAT64_FLOOR = 1e-12


def circular(c_in, c_out, k):
    return torch.nn.Conv2d(c_in, c_out, k, padding=k // 2, padding_mode="circular")


class PositionGain(torch.nn.Module):
    """A planted defect: a gain that varies along the width (breaks translation equivariance everywhere)."""

    def forward(self, x):
        return x * (1 + 0.1 * torch.linspace(-1, 1, x.shape[-1], dtype=x.dtype))


def plant(kind, c):
    if kind == "zero-padding":
        return torch.nn.Conv2d(c, c, 3, padding=1)
    return PositionGain()


@st.composite
def stacks(draw):
    """A stack of circular convolutions (exactly equivariant to sub-pixel translation on band-limited
    inputs), optionally with one planted defect at a random depth; returns (net, planted name or None)."""
    depth = draw(st.integers(2, 5))
    channels = [1] + [draw(st.integers(1, 3)) for _ in range(depth)]
    layers = [circular(channels[i], channels[i + 1], draw(st.sampled_from([1, 3, 5]))) for i in range(depth)]
    planted = None
    if draw(st.booleans()):
        at = draw(st.integers(0, depth))
        layers.insert(at, plant(draw(st.sampled_from(["zero-padding", "gain"])), channels[at]))
        planted = str(at)
    torch.manual_seed(draw(st.integers(0, 2**16)))
    net = torch.nn.Sequential(*layers).double()
    for p in net.parameters():
        torch.nn.init.normal_(p)
    return net, planted


@settings(max_examples=25, deadline=None)
@given(stacks(), st.integers(0, 2**16))
def test_the_planted_layer_carries_the_largest_term_and_clean_layers_sit_at_the_floor(stack, seed):
    net, planted = stack
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    result = layerwise_lie_derivative(net, x, "translation-x", output_action="equivariant")
    others = {name: float(v.max()) for name, v in result.relative.items() if name != planted}
    assert all(v < FLOAT64_FLOOR for v in others.values()), others
    if planted is None:  # the negative twin: nothing planted, nothing above the floor end to end
        assert float(lie_derivative(net, x, "translation-x", output_action="equivariant").max()) < FLOAT64_FLOOR
    else:
        assert result.largest() == planted
        assert float(result.relative[planted].max()) > 1e-3


class Residual(torch.nn.Module):
    """A residual block with a functional add, a ReLU and a global pool: the add happens outside any module."""

    def __init__(self):
        super().__init__()
        self.conv1, self.act, self.conv2 = circular(2, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 2, 3, padding=1)
        self.pool, self.head = torch.nn.AdaptiveAvgPool2d(1), torch.nn.Linear(2, 3)

    def forward(self, x):
        y = x + self.conv2(self.act(self.conv1(x)))
        return self.head(self.pool(y).flatten(1))


@pytest.mark.parametrize("generator", ["translation-x", "translation-y", "rotation", "scale"])
def test_the_contributions_add_up_to_the_end_to_end_derivative(generator):
    torch.manual_seed(0)
    net = Residual().double()
    x = torch.randn(3, 2, 8, 8, dtype=torch.float64)
    result = layerwise_lie_derivative(net, x, generator, output_action="invariant")
    summed = sum(result.contributions.values())
    # an add of two equally moving branches and a flatten of invariant features are equivariant: nothing is left
    torch.testing.assert_close(summed, result.total, rtol=0, atol=1e-12 * float(result.total.abs().max()) + 1e-15)
    end_to_end = lie_derivative(net, x, generator, output_action="invariant")
    torch.testing.assert_close(result.total.flatten(1).norm(dim=1) / result.output_norm, end_to_end)
    assert list(result.relative) == ["conv1", "act", "conv2", "pool", "head", OUTSIDE]  # forward order


def test_a_functional_operation_that_breaks_equivariance_shows_in_the_remainder_and_is_named_largest():
    class FunctionalBug(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = circular(1, 1, 3)

        def forward(self, x):
            return self.conv(x) * torch.linspace(0.9, 1.1, x.shape[-1], dtype=x.dtype)  # outside any module

    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    result = layerwise_lie_derivative(FunctionalBug().double(), x, "translation-x", output_action="equivariant")
    assert float(result.relative["conv"].max()) < FLOAT64_FLOOR
    assert float(result.remainder.abs().max()) > 1e-3 * float(result.total.abs().max())
    assert result.largest() == OUTSIDE  # never an equivariant module at the floor
    assert "<- largest" in result.table().splitlines()[-2]


def test_a_module_called_twice_has_one_term_per_call():
    class Shared(torch.nn.Module):
        def __init__(self, bug=True):
            super().__init__()
            self.conv = circular(1, 1, 3)
            self.bug = PositionGain() if bug else circular(1, 1, 3)

        def forward(self, x):
            return self.bug(self.conv(self.bug(x)))

    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    result = layerwise_lie_derivative(Shared().double(), x, "translation-x", output_action="equivariant")
    assert list(result.contributions) == ["bug (call 1)", "conv", "bug (call 2)"]
    assert result.largest().startswith("bug (call")
    assert float(result.relative[OUTSIDE].max()) < FLOAT64_FLOOR  # each call measured: nothing left over
    clean = layerwise_lie_derivative(Shared(bug=False).double(), x, "translation-x", output_action="equivariant")
    assert all(float(v.max()) < FLOAT64_FLOOR for v in clean.relative.values())  # the negative twin


def test_bad_arguments_are_named_and_nothing_is_modified():
    net = torch.nn.Sequential(circular(1, 1, 3), torch.nn.Dropout(0.5)).train()
    before = copy.deepcopy(net.state_dict())
    x = torch.randn(1, 1, 8, 8)
    x_before = x.clone()
    layerwise_lie_derivative(net, x, "rotation", output_action="equivariant")  # dropout: eval mode on a copy
    assert net.training and all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert torch.equal(x, x_before)
    with pytest.raises(InvalidArgument, match="module="):
        layerwise_lie_derivative(lambda t: t, x, "rotation", output_action="equivariant")
    with pytest.raises(InvalidArgument, match="output_action=None"):
        layerwise_lie_derivative(net, x, "rotation")
    with pytest.raises(InvalidArgument, match="generator="):
        layerwise_lie_derivative(net, x, "shear", output_action="equivariant")


def test_the_readme_example_prints_what_the_readme_shows(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("A stack with a zero-padded convolution"):]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.S)[:2]
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == shown.strip()
