"""The input portfolio: its covering design, its stratified narrow bands, its reproducibility."""

import itertools

import torch

from convnet_invariances import _domains as D


def test_recipes_cover_every_pair_of_levels():
    factors = (D.RECIPE_DOMAINS, D.CONTRASTS, D.SIGNS, D.VALUES, D.MAGNITUDES)
    rows = D._pairwise_rows(factors)
    for (i, a), (j, b) in itertools.combinations(enumerate(factors), 2):
        for u, v in itertools.product(a, b):
            assert any(r[i] == u and r[j] == v for r in rows), (u, v)


def test_a_dropped_row_breaks_the_cover():  # negative twin: the check above can fail
    factors = (D.RECIPE_DOMAINS, D.CONTRASTS, D.SIGNS, D.VALUES, D.MAGNITUDES)
    rows = [r for r in D._pairwise_rows(factors) if r[0] != "border"]
    missing = [(u, v) for (i, a), (j, b) in itertools.combinations(enumerate(factors), 2)
               for u, v in itertools.product(a, b) if not any(r[i] == u and r[j] == v for r in rows)]
    assert missing


def test_the_portfolio_walks_every_recipe():
    for seed in (0, 1, 12345):
        rows = {(c.seed + n) % len(D.RECIPES) for c in D.portfolio(seed) if c.vary for n in range(1, c.batch)}
        assert rows == set(range(len(D.RECIPES)))


def test_narrow_bands_are_stratified_over_the_batch():
    case = D.InputCase("narrow-band", seed=4, scale=1.0, batch=12)
    x = case.tensor((1, 6, 6), torch.float64, "cpu")
    centres = x.abs().mean(dim=(1, 2, 3))
    # twelve strata of (0, 1.2): each sample's level sits in its own tenth (the noise around it averages out
    # over 36 values, far below a stratum; the seed is fixed, so this is exact, not a probability)
    strata = sorted(int(c // 0.1) for c in centres)
    assert strata == list(range(12))
    # the contrast is uniform noise of width 10^U(−1.5, −1) ∈ (0.032, 0.1): the spread of 36 draws lies below the
    # width and, for this seed, above 0.02
    spread = x.amax(dim=(1, 2, 3)) - x.amin(dim=(1, 2, 3))
    assert bool((spread < 0.1).all()) and bool((spread > 0.02).all())


def test_cases_rebuild_exactly_and_seeds_differ():
    case = D.InputCase("gaussian", seed=9, scale=1.0, batch=5, transforms=("half-integers",), vary=True)
    a = case.tensor((2, 5, 5), torch.float32, "cpu")
    assert torch.equal(a, case.tensor((2, 5, 5), torch.float32, "cpu"))
    other = D.InputCase("gaussian", seed=10, scale=1.0, batch=5, transforms=("half-integers",), vary=True)
    assert not torch.equal(a, other.tensor((2, 5, 5), torch.float32, "cpu"))
    assert not case.integer and D.InputCase("integers", 1, 1.0, 2, ("times 1e3",)).integer
