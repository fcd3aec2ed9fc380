"""Shrinking a counterexample: fewer non-zero values, simpler values, every step re-checked.

After the search has found an input batch on which a claim fails at a group
element ``g``, greedy delta debugging keeps one sample of the batch, zeroes
out blocks of values (halving the block size when no block can go), then
replaces values by their rounding, by ±1, while the violation at ``g``
persists.  Every accepted step is re-evaluated by the engine, so the result
always fails the claim; a violation that does not reproduce on a fresh call
is reported as such (the layer then depends on earlier calls).
"""

from __future__ import annotations

import torch

from ._claims import Check, run_check
from ._errors import LayerError
from ._vocabulary import Claim

SHRINK_BUDGET = 200  # evaluations of one element spent shrinking one counterexample


def confirms(f, x, check: Check, claim: Claim, g, mode="auto", label="the layer", relative_at_least=None) -> bool:
    """Whether a fresh evaluation of ``g`` on ``x`` still finds the violation; with ``relative_at_least``, one
    whose relative error is at least that (a continuous symmetry is reported ``violated`` only from there on,
    so a smaller error would not show the verdict it is offered for)."""
    try:
        result = run_check(f, x, check, claim, mode=mode, elements=(g,), label=label)
    except LayerError:
        return False
    if result.holds:
        return False
    return relative_at_least is None or result.measurement(0).relative_error >= relative_at_least


def shrink(f, x, check: Check, claim: Claim, g, *, mode="auto", budget=SHRINK_BUDGET, label="the layer",
           assume=None, relative_at_least=None):
    """A smaller input on which ``claim`` still fails at ``g``: one sample, few and simple non-zero values
    (each within the stated assumption ``assume(x) -> bool``, if any; each with a relative error of at least
    ``relative_at_least``, if given)."""
    spent = 0

    def fails(candidate):
        nonlocal spent
        spent += 1
        if assume is not None and not assume(candidate):
            return False
        return confirms(f, candidate, check, claim, g, mode, label, relative_at_least)

    best = x
    for n in range(x.shape[0]):  # one sample is enough when the layer treats samples alone
        if x.shape[0] > 1 and fails(x[n:n + 1].clone()):
            best = x[n:n + 1].clone()
            break
    flat = best.reshape(-1)
    chunk = max(1, flat.numel() // 2)
    while chunk >= 1 and spent < budget:
        nonzero = torch.nonzero(flat).flatten().tolist()
        changed = False
        for start in range(0, len(nonzero), chunk):
            if spent >= budget:
                break
            candidate = best.clone()
            candidate.view(-1)[nonzero[start:start + chunk]] = 0
            if fails(candidate):
                best, flat, changed = candidate, candidate.reshape(-1), True
        if not changed:
            chunk //= 2
    for simpler in (torch.round, torch.sign):  # then simpler values: integers, then ±1
        for index in torch.nonzero(flat).flatten().tolist():
            if spent >= budget:
                break
            candidate = best.clone()
            value = candidate.view(-1)[index]
            candidate.view(-1)[index] = simpler(value)
            if not torch.equal(candidate, best) and fails(candidate):
                best, flat = candidate, candidate.reshape(-1)
    return best
