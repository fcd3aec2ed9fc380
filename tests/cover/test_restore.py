"""A module that cannot be copied is audited in place and put back as it was: the same objects, bitwise values.

The user's code holds references into the module (a hook object, a shared helper, a generator, the parameter
an optimizer steps), so restoring *copies* of them is a change too.  Each test below would fail on a restore
that puts back deep copies, or copies values into a parameter whose ``.data`` forward swapped.
"""

import threading

import torch
from torch import nn

from convnet_invariances import audit
from convnet_invariances._layer_calls import cast_twin
from convnet_invariances._safety import audited_copy, restored

SHAPE = (1, 8, 8)


class Recorder:
    def __init__(self):
        self.seen = []

    def __call__(self, module, args, output):
        self.seen.append(tuple(output.shape))


class Uncopyable(nn.Module):
    """A circular conv holding a lock (cannot be deep-copied), a generator it draws from, an unregistered
    helper module and a cache; ``swap`` makes its first call store the weight in float16 through ``.data``."""

    def __init__(self, swap=False):
        super().__init__()
        self.lock = threading.Lock()
        self.weight = nn.Parameter(torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(0)))
        self.generator = torch.Generator().manual_seed(1)
        object.__setattr__(self, "helper", nn.Conv2d(2, 2, 1))  # shared elsewhere, so not registered
        self.cache = {}
        self.swap = swap
        self.modes = []

    def forward(self, x):
        torch.rand(1, generator=self.generator)
        self.modes.append(torch.is_inference_mode_enabled())
        self.cache[x.shape] = x.sum()
        if self.swap and self.weight.dtype != torch.float16:
            self.weight.data = self.weight.data.half()
        weight = self.weight.to(x.dtype)
        return nn.functional.conv2d(nn.functional.pad(x, (1, 1, 1, 1), mode="circular"), weight)


def _picture(layer):
    return dict(weight=layer.weight, storage=layer.weight.data_ptr(), values=layer.weight.detach().clone(),
                generator=layer.generator, state=layer.generator.get_state(), helper=layer.helper,
                helper_weight=layer.helper.weight.detach().clone(), cache=layer.cache,
                hooks=list(layer._forward_hooks.values()))


def _assert_as_before(layer, before):
    assert layer.weight is before["weight"] and layer.weight.data_ptr() == before["storage"]
    assert layer.weight.dtype == torch.float32 and layer.weight.requires_grad
    assert torch.equal(layer.weight.detach(), before["values"])
    assert layer.generator is before["generator"] and torch.equal(layer.generator.get_state(), before["state"])
    assert layer.helper is before["helper"] and torch.equal(layer.helper.weight.detach(), before["helper_weight"])
    assert layer.cache is before["cache"] and layer.cache == {}
    assert list(layer._forward_hooks.values()) == before["hooks"]
    assert all(a is b for a, b in zip(layer._forward_hooks.values(), before["hooks"]))


def test_an_audit_in_place_gives_back_the_same_objects_with_their_values():
    layer = Uncopyable(swap=True)
    recorder = Recorder()
    layer.register_forward_hook(recorder)
    before = _picture(layer)
    report = audit(layer, SHAPE, ["translation-equivariant"], examples=5)
    assert report.results[0].verdict == "holds" and "audited in place" in " ".join(report.notes)
    _assert_as_before(layer, before)
    assert recorder.seen == [] and layer.modes == []  # the hook object's own state, the module's list too


def test_restored_puts_back_what_forward_and_the_audit_changed_even_under_inference_mode():
    layer = Uncopyable(swap=True)
    layer.register_forward_hook(Recorder())
    layer.weight.grad = gradient = torch.ones_like(layer.weight)  # a step the user has not taken yet
    before = _picture(layer)
    with restored(layer):
        layer.weight.grad = None
        with torch.inference_mode():  # the swapped .data is an inference tensor: restored all the same
            layer(torch.ones(1, 1, 4, 4))
        with torch.no_grad():
            layer.helper.weight.mul_(-0.0)  # -0.0 equals 0.0 but is not the same bits
            layer.weight.requires_grad_(False)
        layer.extra = 1.0
        layer.register_forward_hook(Recorder())
    _assert_as_before(layer, before)
    assert not hasattr(layer, "extra") and layer.weight.grad is gradient
    layer.weight.grad = None
    layer(torch.ones(1, 1, 4, 4)).sum().backward()  # usable for training again: a normal, trainable parameter
    assert layer.weight.grad is not None


def test_in_place_audits_call_the_module_outside_inference_mode():
    layer = Uncopyable()
    seen = []
    layer.register_forward_pre_hook(lambda module, args: seen.append(torch.is_inference_mode_enabled()))
    audit(layer, SHAPE, ["translation-equivariant"], examples=3)
    assert seen and not any(seen)
    copyable = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")  # the twin: a copy runs in inference mode
    copyable.register_forward_pre_hook(lambda module, args: seen.append(torch.is_inference_mode_enabled()))
    audit(copyable, SHAPE, ["rot90-equivariant"], examples=3)
    assert any(seen)


def test_a_module_audited_in_place_gets_a_float64_twin_that_shares_only_what_cannot_be_copied():
    layer = Uncopyable()
    twin, reason = cast_twin(layer, torch.float64)
    assert twin is None and "cannot be copied" in reason  # outside an in-place audit: never shares
    with audited_copy(layer) as (target, note):  # the audit's own way in: in place, restored after
        assert target is layer and "audited in place" in note
        twin, reason = cast_twin(layer, torch.float64)
    assert reason == "" and twin.weight.dtype == torch.float64 and layer.weight.dtype == torch.float32
    assert twin.lock is layer.lock and twin.weight is not layer.weight and twin.cache is not layer.cache
