"""The audit API: verdicts, inference, safety (nothing the user passed is modified), reports."""

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances import InvalidArgument, audit, consistency


def circular_conv(bias=True):
    torch.manual_seed(0)
    return torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular", bias=bias)


def test_stated_claims_get_verdicts_and_a_shrunk_counterexample():
    report = audit(circular_conv(), (1, 8, 8), ["translation-equivariant", "rot90-equivariant"])
    holds, violated = report.results
    assert holds.verdict == "certified" and violated.verdict == "violated" and not report.ok  # proved from the graph
    example = violated.counterexample
    assert example["group_element"] in ("rot90", "rot180", "rot270")
    assert example["nonzero_inputs"] <= 2, example  # shrunk from a dense random input
    assert example["reproduce"].splitlines()[-1].startswith("ci.assert_equivariant(layer, x, ci.Dihedral(")


def test_the_reproduction_raises_the_violation_in_its_own_namespace():
    result = audit(circular_conv(), (1, 8, 8), ["rot90-equivariant"]).results[0]
    with pytest.raises(ci.EquivarianceViolation):
        exec(result.counterexample["reproduce"], {})  # imports, the layer rebuilt with its weights, the input


def test_a_violated_rotation_claims_counterexample_shows_an_error_above_the_approximate_convention():
    # rotations are `violated` only from a relative error of APPROXIMATE_BELOW on; the shrinker keeps the
    # counterexample there, so the report never offers a merely "approximate" input as proof of a violation
    from convnet_invariances._audit import APPROXIMATE_BELOW

    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1))
    result = audit(layer, (1, 16, 16), ["rotation-invariant"]).results[0]
    assert result.verdict == "violated"
    assert result.counterexample["relative_error"] >= APPROXIMATE_BELOW, result.message
    with pytest.raises(ci.EquivarianceViolation):
        exec(result.counterexample["reproduce"], {})


def test_a_rotation_claim_tries_both_senses_and_angles_off_the_15_degree_lattice():
    # a layer built on a 24-step angular grid is exact at multiples of 15°: judged there alone it would look
    # rotation-invariant; quarter turns are the rot90 claim's business
    from convnet_invariances._claims import claim_checks

    angles = [g.degrees for g in claim_checks(ci.Claim.parse("rotation-invariant"), (1, 8, 8))[0].elements]
    assert any(a < 0 for a in angles) and any(a > 90 for a in angles)
    assert any(a % 15 for a in angles)
    assert not any(a % 90 == 0 for a in angles)


def test_inference_finds_subgroups_margins_and_regular_channels():
    found = {r.claim: r for r in audit(torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, padding_mode="circular"),
                                       (1, 8, 8)).results}
    assert found["translation-equivariant[stride=2]"].verdict == "subgroup"
    torch.manual_seed(0)
    zero = {r.claim: r for r in audit(torch.nn.Conv2d(1, 1, 3, padding=1), (1, 8, 8)).results}
    assert zero["translation-equivariant[margin=1]"].verdict == "interior"


def test_non_determinism_is_an_error_with_advice():
    noisy = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.Dropout(0.5))

    class AlwaysNoisy(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.dropout(x, 0.5, training=True)

    result = audit(AlwaysNoisy(), (1, 6, 6), ["translation-equivariant"]).results[0]
    assert result.verdict == "error" and "not a function of its input" in result.message
    # the same module with dropout is fine: the audit runs it in eval mode
    assert audit(noisy, (1, 6, 6), ["flip-invariant"]).results[0].verdict in ("violated", "holds")


def test_nan_and_exceptions_are_errors():
    class Nan(torch.nn.Module):
        def forward(self, x):
            return x / 0 * 0

    class Raises(torch.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    assert audit(Nan(), (1, 4, 4), ["rot90-equivariant"]).results[0].verdict == "error"
    result = audit(Raises(), (1, 4, 4), ["rot90-equivariant"]).results[0]
    assert result.verdict == "error" and "boom" in result.message


def test_audit_restores_everything_including_batchnorm_stats_in_training_mode():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.ReLU()).train()
    model[0].weight.requires_grad_(False)  # a mix of frozen and trainable parameters
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    grads = [p.requires_grad for p in model.parameters()]
    rng = torch.get_rng_state()

    class StatefulInEval(torch.nn.Module):  # updates a buffer even in eval mode
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", torch.zeros(()))

        def forward(self, x):
            self.calls += 1
            return x

    stateful = StatefulInEval()
    audit(torch.nn.Sequential(model, stateful), (1, 6, 6))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == grads
    assert torch.equal(torch.get_rng_state(), rng)
    assert float(stateful.calls) == 0.0


def test_flat_output_with_a_spatial_claim_is_a_usage_error_that_explains_itself():
    with pytest.raises(InvalidArgument, match="flat vector .* did you mean translation-invariant"):
        audit(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten()), (1, 6, 6), ["translation-equivariant"])


@pytest.mark.parametrize("args, message", [
    (dict(module=lambda x: x, input_shape=(1, 4, 4)), r"module=.* must be a torch.nn.Module"),
    (dict(module=torch.nn.Identity(), input_shape=(4, 4, 4, 4)), r"input_shape=\(4, 4, 4, 4\) must be \(C, H, W\)"),
    (dict(module=torch.nn.Identity(), input_shape=(4, 4)), r"input_shape=\(4, 4\) has two numbers: say whether"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 4, 6), claims=["rot90-invariant"]),
     r"input_shape=\(1, 4, 6\): rot90-invariant needs a square input"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 16, 16), claims=["translation-equivariant[stride=3]"]),
     r"input_shape=\(1, 16, 16\): translation-equivariant\[stride=3\] needs every spatial size divisible"),
    (dict(module=torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), input_shape=(1, 8, 8),
          claims=["translation-invariant[margin=1]"]),
     r"margin=1 needs a spatial output"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 4, 4), seed=2**70), r"seed=.* must be an int in \[0, 2\*\*63\)"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 4, 4), claims=["rotation-equivarient"]), r"not a known claim; valid claims are"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 4, 4), claims=["translation-equivariant[stride=x]"]),
     r"stride='x' must be a positive int"),
    (dict(module=torch.nn.Identity(), input_shape=(1, 4, 4), examples=0), r"examples=0 must be a positive int"),
])
def test_bad_audit_arguments(args, message):
    with pytest.raises(InvalidArgument, match=message):
        audit(**args)


def test_consistency_of_a_classifier():
    invariant = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"),
                                    torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    leaky = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 5))
    assert consistency(invariant, input_shape=(3, 8, 8))["consistency"] == 1.0
    assert consistency(leaky, input_shape=(3, 8, 8), pairs=2)["consistency"] < 1.0


def test_assert_claims_raises_with_the_report():
    torch.manual_seed(0)
    leaky = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.AdaptiveMaxPool2d(1))
    with pytest.raises(AssertionError, match=r"translation-invariant\s+violated"):
        ci.assert_claims(leaky, (1, 8, 8), ["translation-invariant"])


def test_third_party_blurpool_from_antialiased_cnns():
    antialiased_cnns = pytest.importorskip("antialiased_cnns")
    blurpool = antialiased_cnns.BlurPool(2, filt_size=3, stride=2)  # the library's default: reflect padding
    found = {r.claim: r for r in audit(blurpool, (2, 8, 8)).results}
    # Zhang's BlurPool pads by reflection: stride-2 equivariance on the interior only, never full invariance
    assert found["translation-equivariant[stride=2,margin=1]"].verdict == "interior"
    assert found["translation-invariant"].verdict == "violated"


def test_an_output_whose_shape_changes_under_the_action_is_a_violation_not_an_error():
    result = audit(circular_conv(), (1, 6, 6), ["scale-invariant"]).results[0]
    assert result.verdict == "violated" and "has shape" in result.message


class _CountingPool(torch.nn.Module):
    """Global average pooling that counts its calls, so a test can see when work was done."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x.mean(dim=(-2, -1))


def test_progress_starts_at_zero_and_advances_only_after_each_claims_work():
    layer = _CountingPool()
    seen = []

    def progress(done, total):
        seen.append((done, total, _calls_of_the_audited_copy()))

    audited = []  # the audit runs on a deep copy: find it through the module's forward
    original_forward = _CountingPool.forward

    def forward(self, x):
        if self is not layer and self not in audited:
            audited.append(self)
        return original_forward(self, x)

    def _calls_of_the_audited_copy():
        return sum(m.calls for m in audited)

    _CountingPool.forward = forward
    try:
        ci.audit(layer, (1, 4, 4), ["translation-invariant", "flip-invariant", "rot90-invariant"], examples=2,
                 progress=progress)
    finally:
        _CountingPool.forward = original_forward
    assert [(d, t) for d, t, _ in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    calls = [c for _, _, c in seen]
    assert all(later > earlier for earlier, later in zip(calls, calls[1:]))  # work between every two reports
