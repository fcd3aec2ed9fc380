r"""Stride keeps translation equivariance only on the subgroup $s\mathbb{Z}$.

**Why it matters.** "Small translations" of one pixel are exactly the ones a
stride-2 network is not equivariant to: after subsampling, a shift by $t$ is a
shift by $t/s$ only when $s$ divides $t$ (Azulay & Weiss, 2019; Zhang, 2019).
This is the first thing that breaks when people say a CNN is "translation
invariant".

**Proof in words.** Subsampling reads the signal at $sn$; if the signal was
shifted by $st$ it reads $x$ at $sn - st = s(n - t)$, which is the subsampled
signal read at $n - t$. Put a correlation in front and the same factorisation
goes through the sum term by term. For a shift that $s$ does not divide, a single
impulse is a counterexample: the subsampled shifted impulse is all zeros,
while every shift of the subsampled impulse has a one in it.

**References.** Azulay & Weiss, "Why do deep convolutional networks generalize so
poorly to small image transformations?", JMLR 2019; Zhang, "Making convolutional
networks shift-invariant again", ICML 2019.
"""

import sympy as sp

from ._core import Algebra, Chain, Claim, Fold, Instances, Param, Rule, Theorem, Twin, Unfold, derive, notation

n, m, t, k, u = sp.symbols("n m t k u", integer=True)
s = sp.Symbol("s", integer=True, positive=True)
x, K = sp.Function("x"), sp.Function("K")
oo = sp.oo

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_strided_conv_is_equivariant_exactly_on_multiples_of_the_stride",
    text="The twin builds a circular-padded convolution with stride 2 and integer weights and checks with the "
         "props engine, bitwise, that shifting the input by a multiple of 2 shifts the output by half as much "
         "(`strided_action`), for every such shift of a random image. It then asks the same check about a "
         "one-pixel shift and expects a violation — the counterexample of part (c).",
)


def _roll(values, shift):
    size = len(values)
    return [values[(i - shift) % size] for i in range(size)]


def theorem() -> Theorem:
    ShiftedBy = notation("ShiftedBy", r"(S_{{st}} x)[{0}]")
    Down = notation("Down", r"(D_s x)[{0}]")
    DownShifted = notation("DownShifted", r"(D_s S_{{st}} x)[{0}]")
    ShiftedDown = notation("ShiftedDown", r"(S_t D_s x)[{0}]")
    shift = Rule("the shift by $st$", ShiftedBy(m), x(m - s * t), "definition", (m,))
    down = Rule("subsampling $D_s$", Down(m), x(s * m), "definition", (m,))
    down_shifted = Rule("subsampling the shifted signal", DownShifted(n), ShiftedBy(s * n), "definition", (n,))
    shifted_down = Rule("shifting the subsampled signal", ShiftedDown(n), Down(n - t), "definition", (n,))
    a = Claim("(a)", "A shift by a multiple $st$ of the stride becomes a shift by $t$: {formula}, for every signal "
                     "and every integer $t$.", DownShifted(n), ShiftedDown(n))
    steps_a = derive(
        DownShifted(n),
        (ShiftedBy(s * n), Unfold(down_shifted)),
        (x(s * n - s * t), Unfold(shift)),
        (x(s * (n - t)), Algebra(), "factor the index"),
        (Down(n - t), Fold(down)),
        (ShiftedDown(n), Fold(shifted_down)),
    )

    CorrShifted = notation("CorrShifted", r"(K \star S_{{st}} x)[{0}]")
    Corr = notation("Corr", r"(K \star x)[{0}]")
    StridedShifted = notation("StridedShifted", r"\left(D_s (K \star S_{{st}} x)\right)[{0}]")
    ShiftedStrided = notation("ShiftedStrided", r"\left(S_t D_s (K \star x)\right)[{0}]")
    corr = Rule("the correlation", Corr(m), sp.Sum(K(k) * x(m + k), (k, -oo, oo)), "definition", (m,))
    corr_shifted = Rule("the correlation of the shifted signal", CorrShifted(m),
                        sp.Sum(K(k) * ShiftedBy(m + k), (k, -oo, oo)), "definition", (m,))
    strided_shifted = Rule("the strided correlation of the shifted signal", StridedShifted(n), CorrShifted(s * n),
                           "definition", (n,))
    shifted_strided = Rule("the shifted strided correlation", ShiftedStrided(n), Corr(s * (n - t)), "definition",
                           (n,))
    b = Claim("(b)", "Hence a strided correlation $D_s(K \\star \\cdot)$ is equivariant to shifts in "
                     "$s\\mathbb{Z}$, with output shift $t$ for input shift $st$: {formula}.",
              StridedShifted(n), ShiftedStrided(n))
    steps_b = derive(
        StridedShifted(n),
        (CorrShifted(s * n), Unfold(strided_shifted)),
        (corr_shifted.rhs.xreplace({m: s * n}), Unfold(corr_shifted)),
        (sp.Sum(K(k) * x(s * n + k - s * t), (k, -oo, oo)), Unfold(shift)),
        (sp.Sum(K(k) * x(s * (n - t) + k), (k, -oo, oo)), Algebra()),
        (Corr(s * (n - t)), Fold(corr)),
        (ShiftedStrided(n), Fold(shifted_strided)),
    )

    # (c) outside sZ: no output shift matches (a family with one witness each)
    stride_p, shift_p, out_p = sp.symbols("s t u", integer=True)

    def build(s, t, u):
        size = 2 * s  # two output samples
        signal = list(sp.symbols(f"x0:{size}"))
        return _roll(signal, t)[::s], _roll(signal[::s], u)

    def impulse(s, t, u):
        return tuple((sp.Symbol(f"x{i}"), 1 if i == 0 else 0) for i in range(2 * s))

    scope = (Param(stride_p, values=(2, 3)), Param(shift_p, 1, stride_p - 1), Param(out_p, 0, 1))
    cc = Claim("(c)", "For a shift $t$ that the stride does not divide, no output shift $u$ matches: "
                      "$D_s S_t x$ differs from $S_u D_s x$ for some signal $x$ of length $2s$, {scope}.",
               relation="!=", scope=scope)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b, cc),
        parts=(Chain(a, steps_a), Chain(b, steps_b),
               Instances(cc, build, scope, ((stride_p, 2), (shift_p, 1), (out_p, 1)), witness=impulse,
                         text="Each case is a list of samples; the witness is the impulse $x = (1, 0, \\dots, 0)$.")),
        definitions=(shift, down, down_shifted, shifted_down, corr, corr_shifted, strided_shifted, shifted_strided),
        twin=TWIN,
    )
