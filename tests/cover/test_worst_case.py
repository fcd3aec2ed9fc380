"""worst_case_accuracy: exact over the orbit, with its negative twin, minimal flips, and clear bad-argument errors."""

import pytest
import torch

from convnet_invariances import InvalidArgument, LayerError, Translations, c4, flips, worst_case_accuracy
from convnet_invariances import CircularShift, Dihedral, FiniteGroup
from convnet_invariances.models import AllCircularGAP


def invariant_classifier():
    """Circular convolutions and global average pooling: exactly invariant to every circular shift."""
    return AllCircularGAP(width=3, depth=2, classes=3, seed=4)


class FirstRow(torch.nn.Module):
    """A planted violation: class scores read from the top row only, so moving content off it changes the class."""

    def forward(self, x):
        row = x[:, 0, 0, :]
        return torch.stack([row.sum(1), -row.sum(1), 0.5 - row.sum(1)], dim=1)  # empty row: class 2


def data(n=6, side=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(-2, 3, (n, 1, side, side), generator=generator).float()
    return x


def test_an_invariant_model_loses_nothing_in_the_worst_case():
    model = invariant_classifier()
    x = data()
    labels = model(x).argmax(1)  # every clean prediction right: the worst case must stay at 1
    labels[0] = (labels[0] + 1) % 3  # and one wrong: it stays wrong under every shift, not worse
    result = worst_case_accuracy(model, x, labels, Translations((6, 6)))
    assert result.clean_accuracy == pytest.approx(5 / 6)
    assert result.worst_case_accuracy == result.clean_accuracy
    assert result.orbit_consistency == 1.0
    assert result.flips == (None,) * 6 and result.flip_sizes == (None,) * 6
    assert result.correct.shape == (36, 6) and len(result.elements) == 36


def test_the_planted_violation_scores_lower_and_names_the_smallest_flip():
    x = torch.zeros(3, 1, 4, 4)
    x[:, 0, 0, 1] = 1.0  # positive mass on the top row: class 0
    result = worst_case_accuracy(FirstRow(), x, torch.zeros(3, dtype=torch.long), Translations((4, 4)))
    assert result.clean_accuracy == 1.0
    assert result.worst_case_accuracy == 0.0
    # moving the content down by one row is the smallest change that empties the top row
    assert result.flips == (CircularShift((1, 0)),) * 3 and result.flip_sizes == (1,) * 3
    accuracy = result.accuracy_map()
    assert accuracy is not None and accuracy.shape == (4, 4)
    assert accuracy[0].tolist() == [1.0] * 4 and accuracy[1:].sum() == 0


def test_it_agrees_with_a_loop_over_the_elements():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(25, 4))
    x = torch.randn(10, 1, 5, 5)
    labels = torch.randint(0, 4, (10,))
    result = worst_case_accuracy(model, x, labels, Translations((5, 5)), memory_budget=3 * x.numel() * 4)
    with torch.no_grad():
        loop = torch.stack([model(g(x)).argmax(1) for g in Translations((5, 5))])
    assert torch.equal(result.predictions, loop)
    assert result.worst_case_accuracy == float((loop == labels).all(0).float().mean())
    assert result.clean_accuracy == float((model(x).argmax(1) == labels).float().mean())


def test_rotations_and_flips_are_groups_too_and_progress_is_reported():
    x = torch.zeros(2, 1, 4, 4)
    x[:, 0, 0, 2] = 1.0
    calls = []
    result = worst_case_accuracy(FirstRow(), x, torch.zeros(2, dtype=torch.long), c4(), memory_budget=x.numel() * 4,
                                 progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert result.flips[0] == Dihedral(1) and result.flip_sizes[0] == 1 and result.accuracy_map() is None
    assert worst_case_accuracy(FirstRow(), x, torch.zeros(2, dtype=torch.long), flips()).worst_case_accuracy == 0.0
    assert "worst case over C4" in result.report()


def test_the_module_and_the_inputs_are_left_as_they_were():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 2)).train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 1, 4, 4)
    before = x.clone()
    rng = torch.get_rng_state()
    first = worst_case_accuracy(model, x, torch.zeros(4, dtype=torch.long), Translations((4, 4)))
    second = worst_case_accuracy(model, x, torch.zeros(4, dtype=torch.long), Translations((4, 4)))
    assert torch.equal(first.predictions, second.predictions)  # eval mode: dropout off
    assert model.training and torch.equal(x, before) and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


BAD = [
    ("model", lambda: dict(model="not a model"), "model='not a model' must be"),
    ("inputs-rank", lambda: dict(inputs=torch.zeros(2, 16)), "inputs has shape"),
    ("inputs-int", lambda: dict(inputs=torch.zeros(2, 1, 4, 4, dtype=torch.long)), "inputs has dtype"),
    ("inputs-empty", lambda: dict(inputs=torch.zeros(0, 1, 4, 4), labels=torch.zeros(0, dtype=torch.long)),
     "no sample"),
    ("labels-float", lambda: dict(labels=torch.zeros(2)), "labels=tensor of shape"),
    ("labels-count", lambda: dict(labels=torch.zeros(3, dtype=torch.long)), "labels has 3 entries"),
    ("group", lambda: dict(group=CircularShift((1, 0))), "group=shift"),
    ("group-shape", lambda: dict(group=Translations((5, 5))), "Translations"),
    ("c4-non-square", lambda: dict(inputs=torch.zeros(2, 1, 4, 6), group=c4()), "square"),
    ("empty-group", lambda: dict(group=FiniteGroup("none", [])), "no element"),
    ("budget", lambda: dict(memory_budget=0), "memory_budget=0"),
    ("progress", lambda: dict(progress=3), "progress=3"),
]


@pytest.mark.parametrize("change, match", [pytest.param(c, m, id=name) for name, c, m in BAD])
def test_bad_arguments_name_themselves(change, match):
    arguments = dict(model=FirstRow(), inputs=torch.zeros(2, 1, 4, 4), labels=torch.zeros(2, dtype=torch.long),
                     group=Translations((4, 4)))
    arguments.update(change())
    with pytest.raises(InvalidArgument, match=match):
        worst_case_accuracy(arguments.pop("model"), arguments.pop("inputs"), arguments.pop("labels"),
                            arguments.pop("group"), **arguments)


def test_a_model_that_is_not_a_classifier_gets_a_clear_error():
    with pytest.raises(LayerError, match=r"class scores of shape \(N, K\)"):
        worst_case_accuracy(torch.nn.Identity(), torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.long), c4())


def test_elements_that_change_the_shape_are_evaluated_one_by_one():
    from convnet_invariances import Identity, Upscale
    model = invariant_classifier()
    x = data(n=4, side=4)
    group = FiniteGroup("scalings", [Identity(), Upscale(2), Upscale(3)])
    result = worst_case_accuracy(model, x, model(x).argmax(1), group)
    with torch.no_grad():
        expected = torch.stack([model(g(x)).argmax(1) for g in group])
    assert torch.equal(result.predictions, expected) and result.clean_accuracy == 1.0
