"""The linear certificate declines whatever its torch.fx graph does not prove; each reason has a twin that certifies.

The certificate reasons from the traced graph: a rounding argument of an allowed operation, a cast, a hook, a
replaced method, a write into a tensor or state that changes from call to call is code or behaviour the proof
does not cover, so it must decline (the search then decides).  The twin of every case is the same layer without
the trick, and it must still be certified: a check that declines everything would pass the first half alone.
"""

import pytest
import torch
from torch import nn

from helpers import integer_weights_
from convnet_invariances import audit, certify_translation_equivariance
from convnet_invariances._linearity import graph_is_affine

SHAPE = (1, 8, 8)


def circular_conv():
    return integer_weights_(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False))


def position_map():
    i, j = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    return (7 * i + 3 * j) % 5


def certificate(module):
    return certify_translation_equivariance(module, SHAPE)


class Residual(nn.Module):
    """``conv(x) + M · (x − g(x))`` with an integer position map ``M``: equivariant iff ``g`` is the identity."""

    def __init__(self, g):
        super().__init__()
        self.conv = circular_conv()
        self.register_buffer("map", position_map())
        self.g = g

    def forward(self, x):
        return self.conv(x) + self.map * (x - self.g(x))


@pytest.mark.parametrize("g, twin, reason", [
    (lambda x: torch.div(x, 1, rounding_mode="floor"), lambda x: torch.div(x, 1), "rounding_mode='floor'"),
    (lambda x: x.div(1, rounding_mode="trunc"), lambda x: x.div(1), "rounding_mode='trunc'"),
    (lambda x: x.sum(dim=1, keepdim=True, dtype=torch.int64), lambda x: x.sum(dim=1, keepdim=True),
     "casts to torch.int64"),
    (lambda x: x.mean(dim=1, keepdim=True, dtype=torch.float16),
     lambda x: x.mean(dim=1, keepdim=True, dtype=torch.float64), "casts to torch.float16"),
    (lambda x: x.expand(-1, 1, 8, 8, implicit=True), lambda x: x.expand(-1, 1, 8, 8),
     "passes the keyword implicit=True"),
])
def test_arguments_that_round_or_are_unknown_are_not_affine(g, twin, reason):
    declined = certificate(Residual(g))
    assert not declined.certified and reason in declined.reason, declined
    assert certificate(Residual(twin)).certified


def _fractional_hook(module, args, output):
    x = args[0]
    return output + position_map() * (x - torch.round(x))


def test_forward_hooks_on_the_root_or_a_submodule_and_global_hooks_decline():
    root = circular_conv()
    root.register_forward_hook(_fractional_hook)
    assert "the root module has a forward hook" in certificate(root).reason
    inner = circular_conv()
    inner.register_forward_pre_hook(lambda module, args: (args[0] + 0.5,))
    assert "the submodule '0' has a forward pre-hook" in certificate(nn.Sequential(inner, nn.Identity())).reason
    handle = nn.modules.module.register_module_forward_hook(lambda module, args, output: output)
    try:
        assert "a global forward hook is registered" in certificate(circular_conv()).reason
    finally:
        handle.remove()
    assert certificate(circular_conv()).certified and certificate(nn.Sequential(circular_conv())).certified


class OwnCall(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = circular_conv()

    def forward(self, x):
        return self.conv(x)


class CallOverride(OwnCall):
    def __call__(self, x):
        return _fractional_hook(self, (x,), super().__call__(x))


class CallImplOverride(OwnCall):
    def _call_impl(self, x):
        return _fractional_hook(self, (x,), self.forward(x))


def test_a_class_with_its_own_call_declines():
    for layer, method in ((CallOverride(), "__call__"), (CallImplOverride(), "_call_impl")):
        declined = certificate(layer)
        assert not declined.certified and f"has a {method} other than torch.nn.Module's" in declined.reason
    assert certificate(OwnCall()).certified


class DropsHooksWhenCopied(OwnCall):
    def __deepcopy__(self, memo):
        clean = OwnCall()
        clean.conv.load_state_dict(self.conv.state_dict())
        return clean


def test_a_method_replaced_on_the_instance_declines():
    patched = circular_conv()
    patched.forward = lambda x: _fractional_hook(patched, (x,), nn.Conv2d.forward(patched, x))
    assert "instance attribute 'forward' that replaces the class's method" in certificate(patched).reason
    assert certificate(circular_conv()).certified


def test_hooks_are_looked_for_on_the_module_itself_not_only_on_its_copy():
    hooked = DropsHooksWhenCopied()
    hooked.register_forward_hook(_fractional_hook)
    assert "the root module has a forward hook" in certificate(hooked).reason
    assert certificate(DropsHooksWhenCopied()).certified


class CountsInBuffer(OwnCall):
    def __init__(self, in_place=True):
        super().__init__()
        self.in_place = in_place
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        if self.in_place:
            self.calls.add_(1)  # runs while traced (a constant tensor): the graph never shows it
        return self.conv(x)


class CountsInAttribute(OwnCall):
    def __init__(self, counting=True):
        super().__init__()
        self.counting = counting
        self.calls = 0

    def forward(self, x):
        self.calls += self.counting  # Python state: one branch is traced, later calls may take another
        return self.conv(x)


class WritesIntoInput(OwnCall):
    def __init__(self, in_place=True):
        super().__init__()
        self.in_place = in_place

    def forward(self, x):
        y = self.conv(x)
        return y.mul_(2) if self.in_place else y.mul(2)


def test_state_that_changes_from_call_to_call_and_in_place_writes_decline():
    declined = certificate(CountsInBuffer())
    assert not declined.certified and "changes its own state when called (buffer 'calls')" in declined.reason
    declined = certificate(CountsInAttribute())
    assert not declined.certified and "changes its own state when called (attribute 'calls')" in declined.reason
    declined = certificate(WritesIntoInput())
    assert not declined.certified and "the in-place operation mul_" in declined.reason
    assert certificate(CountsInBuffer(in_place=False)).certified
    assert certificate(CountsInAttribute(counting=False)).certified
    assert certificate(WritesIntoInput(in_place=False)).certified


class KnowsWhenTraced(OwnCall):
    """Plain while torch.fx traces it, off by ``M · (x − round x)`` when called: no static check can see it."""

    def __init__(self, honest=False):
        super().__init__()
        self.honest = honest

    def forward(self, x):
        y = self.conv(x)
        if self.honest or torch.fx._symbolic_trace.is_fx_tracing():
            return y
        return _fractional_hook(self, (x,), y)


def test_a_module_that_computes_something_else_than_its_graph_declines():
    declined = certificate(KnowsWhenTraced())
    assert not declined.certified and "something else than its traced graph" in declined.reason
    assert certificate(KnowsWhenTraced(honest=True)).certified


def test_batch_norm_with_batch_statistics_is_not_affine_and_with_running_statistics_is():
    batch_statistics = nn.Sequential(nn.BatchNorm2d(1, track_running_stats=False), circular_conv()).eval()
    affine, why = graph_is_affine(batch_statistics)
    assert not affine and "normalises by the batch's own statistics" in why
    assert graph_is_affine(nn.Sequential(nn.BatchNorm2d(1), circular_conv()).eval()) == (True, "")


def test_the_audit_searches_what_the_certificate_declines():
    hooked = circular_conv()
    hooked.register_forward_hook(_fractional_hook)
    result = audit(hooked, SHAPE, ["translation-equivariant"], examples=20).results[0]
    assert result.verdict == "violated", result.message
    assert audit(circular_conv(), SHAPE, ["translation-equivariant"]).results[0].verdict == "certified"


class ComplexScale(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.conv = circular_conv()
        self.scale = nn.Parameter(torch.tensor(scale))

    def forward(self, x):
        return self.conv(x) * self.scale


def test_complex_parameters_decline_instead_of_losing_their_imaginary_part():
    declined = certificate(ComplexScale(2 + 1j))
    assert not declined.certified and "complex parameters" in declined.reason
    assert certificate(ComplexScale(2.0)).certified
