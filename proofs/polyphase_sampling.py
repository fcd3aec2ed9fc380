r"""APS: a circular shift permutes the polyphase components, so keeping the largest makes subsampling equivariant.

**Why it matters.** Plain subsampling by $s$ is equivariant only to shifts by
multiples of $s$ (Theorem 3). APS (Chaman & Dokmanić, 2021) keeps, instead of
the fixed grid $x[sm]$, the polyphase component $x[sm + j]$ of largest norm. A
circular shift of the input only relabels and shifts the components, so the
same component wins and the output is a circular shift of the original output:
exact equivariance for *every* input shift — provided the largest norm is unique
(ties are where exactness is void, as `convnet_invariances.models.APS.selection_has_ties` reports).

**Proof in words.** Write the shift as $t = sq + r$ with $0 \le r < s$. Component
$j$ of $S_t x$ reads $x$ at $sm + j - sq - r$; for $j \ge r$ that is component
$j - r$ of $x$ read at $m - q$, and for $j < r$ it is component $j - r + s$ read at
$m - q - 1$. So the components of $S_t x$ are those of $x$, relabelled by
$j \mapsto j - r \pmod s$ and circularly shifted; a circular shift does not change a
norm (re-index, use periodicity). The norms are therefore the same numbers with
new labels, the unique largest one moves from label $c$ to label $c + r$, and
the selected component is component $c$ of $x$, shifted.

**References.** Chaman & Dokmanić, "Truly shift-invariant convolutional neural
networks", CVPR 2021.
"""

import sympy as sp

from ._core import (
    Algebra,
    Between,
    Chain,
    Claim,
    Fold,
    Merge,
    Periodic,
    Reindex,
    Rule,
    Split,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

m, n, j, q, r, c, a_ = sp.symbols("m n j q r c a", integer=True)
s, M, p = sp.symbols("s M p", integer=True, positive=True)
x = sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_aps_is_equivariant_to_every_circular_shift_without_ties",
    text="The twin draws random float images without ties between polyphase norms and checks that "
         "`convnet_invariances.models.APS` commutes with every circular shift, the output moved by the shift the proof predicts "
         "(an output shift in $\\{\\lfloor t/2 \\rfloor, \\lceil t/2 \\rceil\\}$, found by matching); it also checks "
         "the relabelling of the components directly with `convnet_invariances.models.polyphase_components`. Its negative half runs "
         "plain stride-2 subsampling on the same inputs and expects odd shifts to break it.",
)


def theorem() -> Theorem:
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Component = notation("Component", r"(P_{{{0}}} x)[{1}]", 2)
    ComponentShifted = notation("ComponentShifted", r"(P_{{{0}}} S_t x)[{1}]", 2)
    shift = Rule("the circular shift by $t = sq + r$", Shifted(n), x(n - s * q - r), "definition", (n,),
                 text="Every shift $t$ is $sq + r$ with $0 \\le r \\le s - 1$.")
    component = Rule("the polyphase component $j$", Component(j, m), x(s * m + j), "definition", (j, m),
                     text="$j = 0, \\dots, s - 1$; component $j$ has $M$ samples.")
    component_shifted = Rule("the polyphase component of the shifted signal", ComponentShifted(j, m),
                             Shifted(s * m + j), "definition", (j, m))
    periodic = Periodic("periodicity", x, s * M, text="The signal has $N = sM$ samples: it is $sM$-periodic.")
    no_wrap = Claim("(a)", "For a component $j$ at or above $r$, the component of the shifted signal is component "
                           "$j - r$ of the signal, shifted by $q$: {formula}.", ComponentShifted(j, m),
                    Component(j - r, m - q), conditions=(Between(r, 0, s - 1), Between(j, r, s - 1)),
                    variables=(j, m))
    steps_a = derive(
        ComponentShifted(j, m),
        (Shifted(s * m + j), Unfold(component_shifted)),
        (x(s * m + j - s * q - r), Unfold(shift)),
        (x(s * (m - q) + (j - r)), Algebra(), "regroup the index"),
        (Component(j - r, m - q), Fold(component)),
    )
    wrap = Claim("(b)", "For a component $j$ below $r$ it is component $j - r + s$, shifted by $q + 1$: {formula}.",
                 ComponentShifted(j, m), Component(j - r + s, m - q - 1),
                 conditions=(Between(r, 0, s - 1), Between(j, 0, r - 1)), variables=(j, m))
    steps_b = derive(
        ComponentShifted(j, m),
        (Shifted(s * m + j), Unfold(component_shifted)),
        (x(s * m + j - s * q - r), Unfold(shift)),
        (x(s * (m - q - 1) + (j - r + s)), Algebra(), "regroup the index"),
        (Component(j - r + s, m - q - 1), Fold(component)),
    )

    # (c) a circular shift of a component keeps its norm: the norms are only relabelled
    Energy = notation("Energy", r"\|P_{{{0}}} S_t x\|_p^p")
    EnergyX = notation("EnergyX", r"\|P_{{{0}}} x\|_p^p")
    energy = Rule("the $p$-th power of a component's norm", Energy(j),
                  sp.Sum(sp.Abs(ComponentShifted(j, m)) ** p, (m, 0, M - 1)), "definition", (j,))
    energy_x = Rule("the same for the signal", EnergyX(j), sp.Sum(sp.Abs(Component(j, m)) ** p, (m, 0, M - 1)),
                    "definition", (j,))

    def power(low, high, argument):
        return sp.Sum(sp.Abs(argument) ** p, (n, low, high))

    rest = power(0, M - 1 - q, x(s * n + j - r))
    norm_claim = Claim("(c)", "A circular shift only relabels the norms of the components: for a component $j$ at "
                              "or above $r$, {formula}.", Energy(j), EnergyX(j - r), hypotheses=(periodic,),
                       conditions=(Between(r, 0, s - 1), Between(j, r, s - 1), Between(q, 0, M - 1)))
    steps_c = derive(
        Energy(j),
        (energy.rhs, Unfold(energy)),
        (sp.Sum(sp.Abs(Component(j - r, m - q)) ** p, (m, 0, M - 1)), Use(no_wrap)),
        (sp.Sum(sp.Abs(x(s * (m - q) + j - r)) ** p, (m, 0, M - 1)), Unfold(component)),
        (power(-q, M - 1 - q, x(s * n + j - r)), Reindex(m, m - q, n)),
        (power(-q, -1, x(s * n + j - r)) + rest, Split(n, 0)),
        (power(M - q, M - 1, x(s * (n - M) + j - r)) + rest, Reindex(n, n + M, n, start=-q)),
        (power(M - q, M - 1, x(s * n + j - r)) + rest, Use(periodic), "$x[s(n - M) + i] = x[sn + i - sM]$"),
        (power(0, M - 1, x(s * n + j - r)), Merge(n)),
        (power(0, M - 1, Component(j - r, n)), Fold(component)),
        (EnergyX(j - r), Fold(energy_x)),
    )

    # (d), (e): APS selects the unique largest component; the selection moves with the shift
    Aps = notation("Aps", r"\mathrm{{APS}}(x)[{0}]")
    ApsShifted = notation("ApsShifted", r"\mathrm{{APS}}(S_t x)[{0}]")
    Winner = notation("Winner", r"c^\ast({0})")
    xs = sp.Symbol("x")
    shifted_signal = notation("ShiftedSignal", r"S_t x")(xs)
    aps = Rule("APS", Aps(m), Component(Winner(xs), m), "definition", (m,),
               text="$c^\\ast(x)$ is the label of the component of largest norm.")
    aps_shifted = Rule("APS of the shifted signal", ApsShifted(m), ComponentShifted(Winner(shifted_signal), m),
                       "definition", (m,))
    winner = Rule("$x$'s largest component is $c$", Winner(xs), c, "hypothesis",
                  text="Its norm is strictly larger than every other component's (no tie).")
    relabelled = Rule("the unique largest of relabelled values", Winner(shifted_signal), sp.Mod(c + r, s), "fact",
                      needs=(winner,),
                      text="By (c) (and its twin for $j < r$) the norms of $S_t x$ are those of $x$ with label "
                           "$j - r \\bmod s$ moved to label $j$; a unique largest value keeps its value, so its "
                           "label moves from $c$ to $(c + r) \\bmod s$.")
    below = Rule("a residue below the modulus", sp.Mod(a_, s), a_, "fact", (a_,), when=(0 <= a_, a_ <= s - 1))
    above = Rule("a residue between the modulus and twice it", sp.Mod(a_, s), a_ - s, "fact", (a_,),
                 when=(s <= a_, a_ <= 2 * s - 1))
    d_claim = Claim("(d)", "APS is equivariant: when $c + r$ is below $s$ the output moves by $q$, {formula}.",
                    ApsShifted(m), Aps(m - q), hypotheses=(winner,),
                    conditions=(Between(r, 0, s - 1), Between(c, 0, s - 1 - r)))
    steps_d = derive(
        ApsShifted(m),
        (ComponentShifted(Winner(shifted_signal), m), Unfold(aps_shifted)),
        (ComponentShifted(sp.Mod(c + r, s), m), Use(relabelled)),
        (ComponentShifted(c + r, m), Use(below), "$0 \\le c + r \\le s - 1$"),
        (Component(c, m - q), Use(no_wrap, ((j, c + r),))),
        (Component(Winner(xs), m - q), Use(winner, reverse=True)),
        (Aps(m - q), Fold(aps)),
    )
    e_claim = Claim("(e)", "… and when $c + r$ reaches $s$ it moves by $q + 1$: {formula}.", ApsShifted(m),
                    Aps(m - q - 1), hypotheses=(winner,), conditions=(Between(r, 1, s - 1), Between(c, s - r, s - 1)))
    steps_e = derive(
        ApsShifted(m),
        (ComponentShifted(Winner(shifted_signal), m), Unfold(aps_shifted)),
        (ComponentShifted(sp.Mod(c + r, s), m), Use(relabelled)),
        (ComponentShifted(c + r - s, m), Use(above), "$s \\le c + r \\le 2s - 2$"),
        (Component(c, m - q - 1), Use(wrap, ((j, c + r - s),))),
        (Component(Winner(xs), m - q - 1), Use(winner, reverse=True)),
        (Aps(m - q - 1), Fold(aps)),
    )
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(no_wrap, wrap, norm_claim, d_claim, e_claim),
        parts=(Chain(no_wrap, steps_a), Chain(wrap, steps_b), Chain(norm_claim, steps_c), Chain(d_claim, steps_d),
               Chain(e_claim, steps_e)),
        definitions=(shift, component, component_shifted, energy, energy_x, aps, aps_shifted),
        hypotheses=(periodic, winner),
        facts=(relabelled, below, above),
        twin=TWIN,
    )
