r"""Group averaging makes any map invariant; data augmentation only adds a penalty on the orbit's variance.

**Why it matters.** A question often asked: does training with augmented data
make a network invariant? Averaging a map's outputs over a group orbit,
$\bar f(x) = \frac1N\sum_g f(S_g x)$, makes it exactly invariant whatever $f$ is.
Augmentation does something weaker: it averages the *loss* over the orbit. For
the squared loss that average is the loss of $\bar f$ plus the variance of $f$
over the orbit — so augmentation pushes towards invariance by penalising that
variance, but a trained network can still have some, and is then not
invariant. Exact invariance needs the average (or an invariant architecture).

**Proof in words.** $\bar f(S_h x)$ is the average of $f(S_{g+h}x)$ over $g$; the
substitution $g' = g + h$ runs over the same residues modulo $N$ — re-index, split
off the ones that passed $N$, use $S_{g'+N} = S_{g'}$ and merge — so the average is
$\bar f(x)$. The loss identity is the bias–variance decomposition: expand both
squares; checked for each orbit size separately. The first pixel is a map whose
augmented loss can be small while it is not invariant.

**References.** Chen, Dobriban & Lee, "A group-theoretic framework for data
augmentation", JMLR 2020; Lyle et al., "On the benefits of invariance in neural
networks", 2020.
"""

import sympy as sp

from ._core import (
    Between,
    Chain,
    Claim,
    Fold,
    Instances,
    Merge,
    Param,
    Periodic,
    Reindex,
    Rule,
    Split,
    Step,
    Theorem,
    Twin,
    Unfold,
    Use,
    Witness,
    derive,
    notation,
)

g, h, k, n = sp.symbols("g h k n", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
X, xs, y = sp.Symbol("X"), sp.Symbol("x"), sp.Symbol("y", real=True)
f, x = sp.Function("f"), sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_orbit_averaging_is_invariant_and_augmentation_is_a_variance_penalty",
    text="The twin wraps a random, non-invariant small CNN in an average over all circular shifts of its input "
         "and checks with the suite's orbit engine that the wrapped model is invariant to every circular shift (float "
         "tolerance model), while the model itself is not. It also evaluates the augmented squared loss over "
         "the orbit and checks numerically that it equals the loss of the averaged prediction plus the orbit "
         "variance.",
)


def theorem() -> Theorem:
    Act = notation("Act", r"S_{{{0}}} {1}", 2)
    Average = notation("Average", r"\bar{{f}}({0})")
    group_law = Rule("shifts compose", Act(g, Act(h, X)), Act(g + h, X), "hypothesis", (g, h, X),
                     text="$S_g S_h = S_{g + h}$.")
    cyclic = Periodic("shifts by N are the identity", Act, N, 0, 2, text="$S_{g + N} = S_g$ on signals of length $N$.")
    average = Rule("the orbit average", Average(X), sp.Sum(f(Act(g, X)), (g, 0, N - 1)) / N, "definition", (X,))
    a_claim = Claim("(a)", "The orbit average of any map is invariant to every circular shift: {formula}.",
                    Average(Act(h, xs)), Average(xs), hypotheses=(group_law, cyclic),
                    conditions=(Between(h, 0, N - 1),))
    low = sp.Sum(f(Act(k, xs)), (k, h, N - 1))
    steps_a = derive(
        Average(Act(h, xs)),
        (sp.Sum(f(Act(g, Act(h, xs))), (g, 0, N - 1)) / N, Unfold(average)),
        (sp.Sum(f(Act(g + h, xs)), (g, 0, N - 1)) / N, Use(group_law)),
        (sp.Sum(f(Act(k, xs)), (k, h, N - 1 + h)) / N, Reindex(g, g + h, k), "$k = g + h$"),
        ((low + sp.Sum(f(Act(k, xs)), (k, N, N - 1 + h))) / N, Split(k, N)),
        ((low + sp.Sum(f(Act(k + N, xs)), (k, 0, h - 1))) / N, Reindex(k, k - N, k, start=N)),
        ((low + sp.Sum(f(Act(k, xs)), (k, 0, h - 1))) / N, Use(cyclic)),
        (sp.Sum(f(Act(k, xs)), (k, 0, N - 1)) / N, Merge(k)),
        (Average(xs), Fold(average)),
    )

    size = sp.Symbol("N", integer=True)

    def decomposition(N):
        values = sp.symbols(f"a0:{N}", real=True)  # a_g = f(S_g x)
        mean = sum(values) / N
        augmented = sum((a - y) ** 2 for a in values) / N
        return augmented, (mean - y) ** 2 + sum((a - mean) ** 2 for a in values) / N

    scope = (Param(size, 1, 8, trivial=(1,)),)
    b_claim = Claim("(b)", "Augmentation averages the squared loss over the orbit, and that average is the loss of "
                           "the averaged prediction plus the variance of the predictions $a_g$ over the orbit, "
                           "{scope}.", scope=scope)
    c_claim = Claim("(c)", "A map need not be invariant — the first sample, for instance: {formula} for some "
                           "signal.", x(sp.Mod(-1, N)), x(0), "!=")
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim),
        parts=(Chain(a_claim, steps_a), Instances(b_claim, decomposition, scope, ((size, 3),)),
               Chain(c_claim, (Step(c_claim.lhs, c_claim.rhs, Witness(((N, 3), (x, sp.Lambda(n, n)))),
                                    "the first sample of the shifted ramp $(0, 1, 2)$ is 2"),))),
        definitions=(average,),
        hypotheses=(group_law, cyclic),
        twin=TWIN,
    )
