"""proofs — theorems about the invariances of convolutional networks, with derivations a checker verifies.

Each theorem module builds a :class:`Theorem`: a machine-readable statement
(claims with their hypotheses), declared definitions, hypotheses and facts, and
a proof whose every step names a move that the checker carries out itself.
``python -m convnet_invariances.proofs`` checks every theorem and writes the documents; start with
Theorem 11 (equivariance versus invariance), then Theorems 1 and 3.

>>> verdict = check(theorems()[2])     # Theorem 3: stride
>>> verdict.ok, verdict.theorem.general
(True, False)
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from ._core import (
    AbsoluteBound,
    Algebra,
    Antisymmetry,
    Between,
    Bound,
    Chain,
    Claim,
    Fold,
    Instance,
    Instances,
    MaxOf,
    Maximum,
    Merge,
    Param,
    Periodic,
    Polyphase,
    Reindex,
    RootOfUnity,
    Rule,
    Shown,
    Split,
    Step,
    Substitute,
    Swap,
    Theorem,
    Twin,
    Unfold,
    UpperBound,
    Use,
    Verdict,
    Witness,
    check,
    derive,
    instantiate,
    latex,
    notation,
)
from ._notation import NOTATION
from ._render import index, render

#: theorem modules in reading order: the position is the theorem's number
THEOREM_NAMES = (
    "conv_shift",
    "circulant",
    "stride",
    "zero_padding",
    "pointwise_and_composition",
    "max_pooling",
    "dft_shift",
    "mellin_scaling",
    "rot90_conv",
    "averaging_bound",
    "equivariance_vs_invariance",
    "lp_pooling",
    "polyphase_sampling",
    "aliasing",
    "circulant_diagonalisation",
    "group_averaging",
    "multiresolution",
    "scattering",
    "toeplitz",
)


@lru_cache(maxsize=None)
def theorems() -> tuple[Theorem, ...]:
    """Every theorem, numbered in reading order (built once; building runs no check).

    >>> [t.number for t in theorems()[:3]], theorems()[0].name
    ([1, 2, 3], 'conv_shift')
    """
    built = []
    for number, name in enumerate(THEOREM_NAMES, start=1):
        module = importlib.import_module(f"{__name__}.{name}")
        theorem = module.theorem()
        built.append(Theorem(**{**theorem.__dict__, "name": name, "number": number}))
    return tuple(built)


def scope_summary(theorem: Theorem) -> str:
    """'general', 'instances', or 'general, (c) on instances': how much of the statement is proved in general.

    >>> scope_summary(theorems()[2])
    'general, (c) on instances'
    """
    on_instances = [claim.label for claim in theorem.statement if not claim.general]
    if not on_instances:
        return "general"
    if len(on_instances) == len(theorem.statement):
        return "instances"
    return f"general, {', '.join(on_instances)} on instances"


def rendered_documents(selected=None, verdicts=None) -> dict[str, str]:
    """``{file name: Markdown}`` for the theorems (all by default), the index and the notation page.

    Every theorem is checked on the way (unless its ``verdicts`` are given); a failed check is rendered as such.

    >>> sorted(rendered_documents([theorems()[2]]))
    ['03-stride.md', 'README.md', 'notation.md']
    """
    chosen = theorems() if selected is None else tuple(selected)
    verdicts = [check(theorem) for theorem in chosen] if verdicts is None else list(verdicts)
    documents = {f"{t.number:02d}-{t.name}.md": render(t, v) for t, v in zip(chosen, verdicts)}
    documents["README.md"] = index(chosen, verdicts)
    documents["notation.md"] = NOTATION
    return documents


__all__ = [
    # theorems and the checker
    "THEOREM_NAMES", "theorems", "check", "Verdict", "render", "rendered_documents", "scope_summary",
    # what a theorem is made of
    "Theorem", "Claim", "Rule", "Periodic", "RootOfUnity", "Between", "Param", "Twin", "Chain", "Instances",
    "Step", "derive", "notation", "Maximum", "MaxOf", "Shown", "instantiate", "latex",
    # moves
    "Algebra", "Unfold", "Fold", "Use", "Reindex", "Split", "Merge", "Polyphase", "Swap", "Substitute",
    "Bound", "Instance", "UpperBound", "Antisymmetry", "AbsoluteBound", "Witness",
]
