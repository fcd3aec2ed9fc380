"""shrink_flipping_input: a simplest input on which an orbit element still changes the predicted class."""

import pytest
import torch

from convnet_invariances import CircularShift, InvalidArgument, shrink_flipping_input


class Corner(torch.nn.Module):
    """Scores read at one pixel after a circular conv: a shift moves other content under it."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(1, 3, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return self.conv(x)[..., 0, 0]


class Pooled(Corner):
    def forward(self, x):
        return self.conv(x).mean(dim=(-2, -1))


def flipping_image(model, element, seed=0):
    for s in range(seed, seed + 100):
        x = torch.randn(1, 1, 6, 6, generator=torch.Generator().manual_seed(s))
        with torch.no_grad():
            if model(x).argmax() != model(element(x)).argmax():
                return x
    raise AssertionError("no flipping image among 100 draws")


def test_the_shrunk_input_still_flips_and_is_simpler():
    model, g = Corner(), CircularShift((1, 0))
    x = flipping_image(model, g)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    found = shrink_flipping_input(model, x, g)
    with torch.no_grad():  # checked by calling the model again, outside the shrinker
        assert int(model(found.x).argmax()) == found.before != found.after == int(model(g(found.x)).argmax())
    assert found.nonzero < x.numel() and found.nonzero <= 18  # at most the 3×3 windows the two readings see
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_an_invariant_model_has_nothing_to_shrink():  # the negative twin
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(InvalidArgument, match="does not change the predicted class"):
        shrink_flipping_input(Pooled(), x, CircularShift((1, 0)))


@pytest.mark.parametrize("kwargs, name", [({"x": torch.randn(2, 1, 6, 6)}, "x="), ({"element": (1, 0)}, "element="),
                                          ({"budget": 0}, "budget=")])
def test_bad_arguments_are_named(kwargs, name):
    arguments = {"x": torch.randn(1, 1, 6, 6), "element": CircularShift((1, 0))} | kwargs
    with pytest.raises(InvalidArgument, match=name):
        shrink_flipping_input(Corner(), **arguments)
