"""Bad input gets a clear error naming the argument and what is valid — never a bare traceback from torch."""

import pytest
import torch
from hypothesis import given

import convnet_invariances as ci
from convnet_invariances import (
    CircularShift,
    InvalidArgument,
    InvarianceError,
    LayerError,
    Translations,
    ZeroShift,
    c4,
    equivariance_error,
    flip,
    images,
    invariance_error,
    orbit_error,
    rot90,
    strided_action,
)

IDENTITY = torch.nn.Identity()


def draw_once(strategy):
    """Draw from a strategy inside a test run (argument validation happens at draw time)."""
    given(strategy)(lambda value: None)()

IMAGE = torch.zeros(1, 1, 4, 4)

BAD_CALLS = [
    ("rank-2 input", lambda: equivariance_error(IDENTITY, torch.zeros(4, 4), CircularShift((1, 0))),
     r"x has shape \(4, 4\) \(rank 2\); expected rank 3 \(N, C, L\) or rank 4 \(N, C, H, W\)"),
    ("rank-5 input", lambda: orbit_error(IDENTITY, torch.zeros(1, 1, 1, 2, 2), c4()), r"x has shape \(1, 1, 1, 2, 2\) \(rank 5\)"),
    ("not a tensor", lambda: equivariance_error(IDENTITY, [[1.0]], CircularShift((1,))), r"x=\[\[1.0\]\] must be a torch.Tensor"),
    ("integer dtype", lambda: equivariance_error(IDENTITY, torch.zeros(1, 1, 3, dtype=torch.long), CircularShift((1,))),
     r"x has dtype torch.int64; it must be floating"),
    ("rot90 on non-square", lambda: orbit_error(IDENTITY, torch.zeros(1, 1, 3, 4), c4()),
     r"x has shape \(1, 1, 3, 4\): rot90 needs a square input \(H == W\)"),
    ("rot90 on 1-D", lambda: equivariance_error(IDENTITY, torch.zeros(1, 1, 4), rot90()), r"rot90 rotates 2-D images"),
    ("zero shift too large", lambda: equivariance_error(IDENTITY, IMAGE, ZeroShift((0, 4))),
     r"shifts=\(0, 4\): \|4\| on spatial axis 1 is not smaller than the input size 4"),
    ("shift of wrong arity", lambda: equivariance_error(IDENTITY, IMAGE, CircularShift((1,))),
     r"x has 2 spatial axes .* but shift\(1\) has 1 shift component"),
    ("group of wrong shape", lambda: orbit_error(IDENTITY, IMAGE, Translations((5, 5))),
     r"x has spatial shape \(4, 4\), but the group translations\(5, 5\) acts on spatial shape \(5, 5\)"),
    ("not a group element", lambda: equivariance_error(IDENTITY, IMAGE, (1, 0)), r"g=\(1, 0\) must be a group element"),
    ("not a group", lambda: orbit_error(IDENTITY, IMAGE, [rot90()]), r"group=\[rot90\] must be a FiniteGroup"),
    ("not an output action", lambda: equivariance_error(IDENTITY, IMAGE, rot90(), output_action="same"),
     r"output_action='same' must be an output action"),
    ("not callable", lambda: equivariance_error(3, IMAGE, rot90()), r"f=3 must be callable"),
    ("bad mode", lambda: equivariance_error(IDENTITY, IMAGE, rot90(), mode="strict"), r"mode='strict' must be one of"),
    ("margin too big", lambda: equivariance_error(IDENTITY, IMAGE, rot90(), margin=2), r"margin=\(2, 2\) leaves no interior"),
    ("shift outside stride subgroup", lambda: equivariance_error(torch.nn.AvgPool2d(2), IMAGE, CircularShift((1, 0)),
                                                                 output_action=strided_action(2)),
     r"shift\(1, 0\) is not in 2Z\^2: a stride-2 layer can only be equivariant"),
    ("flat output with a spatial claim", lambda: equivariance_error(torch.nn.Flatten(), IMAGE, CircularShift((1, 0))),
     r"The output is flat: translation-equivariance needs a spatial output — did you mean invariance\?"),
    ("torch_compile not a bool", lambda: orbit_error(torch.nn.Identity(), IMAGE, Translations((4, 4)),
                                                     torch_compile="yes"),
     r"torch_compile='yes' must be True or False"),
    ("bad flip axis", lambda: flip("x"), r"axis='x' must be 'w' \(left-right flip\) or 'h' \(up-down flip\)"),
    ("bad stride", lambda: Translations((4, 4), stride=3), r"every size must be divisible by stride=3"),
    ("bad strategy domain", lambda: draw_once(images(values="gaussian")), r"values='gaussian' must be one of"),
    ("strategy side range", lambda: draw_once(images(min_side=5, max_side=3)), r"max_side=3 must be ≥ min_side=5"),
]


@pytest.mark.parametrize("call, message", [pytest.param(c, m, id=i) for i, c, m in BAD_CALLS])
def test_bad_argument_gets_a_clear_message(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_every_error_shares_one_base_class():
    for cls in (InvalidArgument, LayerError, ci.EquivarianceViolation):
        assert issubclass(cls, InvarianceError)


BAD_LAYERS = [
    ("raises", lambda x: 1 / 0, r"the layer raised ZeroDivisionError: division by zero \(while evaluating f\(x\)"),
    ("returns NaN", lambda x: x / 0 * 0, r"the layer returned NaN or inf for f\(x\), first at output\[0, 0, 0, 0\]"),
    ("returns a list", lambda x: [x], r"the layer returned a list of 1 item\(s\) for f\(x\); it must return a torch.Tensor"),
    ("non-deterministic", lambda x: x + torch.rand(()), r"the layer is not a function of its input: a second call"),
    ("shape depends on the transform", lambda x: x[..., : 2 + int(x[0, 0, 1, 1] != 0)],
     r"f\(g·x\) has shape .* but (ρ\(g\)·)?f\(x\) has shape"),
]


@pytest.mark.parametrize("layer, message", [pytest.param(f, m, id=i) for i, f, m in BAD_LAYERS])
def test_a_misbehaving_layer_is_reported_not_crashed_on(layer, message):
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 1] = 1.0
    with pytest.raises(LayerError, match=message):
        invariance_error(layer, x, CircularShift((1, 1)), mode="float")


def test_dropout_in_training_mode_is_explained():
    layer = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.Dropout(0.5)).train()
    with pytest.raises(LayerError, match=r"the layer is in training mode.*Call layer.eval\(\)"):
        equivariance_error(layer, torch.randn(1, 1, 6, 6), CircularShift((1, 0)))


def test_checks_do_not_modify_their_inputs():
    layer = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    x = torch.randn(1, 1, 5, 5)
    x_before = x.clone()
    orbit_error(layer, x, Translations((5, 5)), mode="float")
    assert torch.equal(x, x_before)
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())
    assert layer.training and layer.weight.requires_grad
