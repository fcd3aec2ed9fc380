r"""Zero padding keeps equivariance where the receptive field stays inside the signal before and after the shift.

**Why it matters.** Zero padding leaks absolute position through the border
(Islam, Jia & Bruce, 2020): that is how a convolutional network can learn where
things are. The equivariance that survives is exact but local, and its margin
is the receptive field radius $dr$ of a kernel of radius $r$ and dilation $d$.

**Proof in words.** At output $n$ the zero-padded correlation reads the signal
at $n + dk$ for $|k| \le r$. When $dr \le n \le N - 1 - dr$ all those indices lie
inside the signal, so no padded zero is read and the shifted signal is simply
$x$ read at $n + dk - t$. The correlation of $x$ at $n - t$ reads the same
samples, and reads no padding either exactly when $n - t$ is in the interior too.
Both conditions are needed: the output must be in the interior before and after
the shift. One sample outside, a padded zero enters one side and not the other.

**References.** Islam, Jia & Bruce, "How much position information do
convolutional neural networks encode?", ICLR 2020; Kayhan & van Gemert, "On
translation invariance in CNNs", CVPR 2020.
"""

import sympy as sp

from ._core import Between, Chain, Claim, Fold, Rule, Step, Theorem, Twin, Unfold, Witness, derive, notation

n, k, t, m = sp.symbols("n k t m", integer=True)
r, d, N = sp.symbols("r d N", integer=True, positive=True)
K, x = sp.Function("K"), sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_zero_padded_conv_is_equivariant_where_both_positions_are_interior",
    text="The twin runs zero-padded `Conv1d` layers (radius 1 and 2, dilation 1 and 2) with integer weights on "
         "an integer signal, shifts it circularly by $-5, \\dots, 5$, and compares $f(S_t x)[n]$ with $f(x)[n - t]$ "
         "bitwise at every output where both $n$ and $n - t$ are at least $dr$ from the ends: there they must "
         "agree. It also counts the outputs where only $n$ is interior and checks that some of them disagree: the "
         "condition on $n - t$ is needed, as the statement says.",
)


def theorem() -> Theorem:
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Zero = notation("Zero", r"x^{{0}}[{0}]")
    ZeroShifted = notation("ZeroShifted", r"(S_t x)^{{0}}[{0}]")
    ZCorr = notation("ZCorr", r"(K \star_0 x)[{0}]")
    ZCorrShifted = notation("ZCorrShifted", r"(K \star_0 S_t x)[{0}]")
    inside = (0 <= m, m <= N - 1)
    shift = Rule("the circular shift", Shifted(m), x(m - t), "definition", (m,),
                 text="$x$ is $N$-periodic; inside the conditions below the shifted index stays in the signal, so "
                      "a zero-fill shift gives the same values.")
    zero = Rule("zero padding", Zero(m), x(m), "definition", (m,), when=inside,
                text="Outside $0 \\le m \\le N - 1$ the padded signal is 0.")
    zero_shifted = Rule("zero padding of the shifted signal", ZeroShifted(m), Shifted(m), "definition", (m,),
                        when=inside)
    zcorr = Rule("the zero-padded correlation", ZCorr(n),
                 sp.Sum(K(k) * Zero(n + d * k), (k, -r, r)), "definition", (n,),
                 text="A kernel of radius $r$ and dilation $d$; the output has the input's size $N$.")
    zcorr_shifted = Rule("the zero-padded correlation of the shifted signal", ZCorrShifted(n),
                         sp.Sum(K(k) * ZeroShifted(n + d * k), (k, -r, r)), "definition", (n,))
    conditions = (Between(N, 2 * d * r + 1), Between(n, d * r, N - 1 - d * r), Between(n - t, d * r, N - 1 - d * r))
    a = Claim("(a)", "Where both the output $n$ and the output $n - t$ are in the interior: {formula}.",
              ZCorrShifted(n), ZCorr(n - t), conditions=conditions)
    steps_a = derive(
        ZCorrShifted(n),
        (zcorr_shifted.rhs, Unfold(zcorr_shifted)),
        (sp.Sum(K(k) * Shifted(n + d * k), (k, -r, r)), Unfold(zero_shifted),
         "every index $n + dk$, $|k| \\le r$, is inside the signal because $n$ is in the interior"),
        (sp.Sum(K(k) * x(n + d * k - t), (k, -r, r)), Unfold(shift)),
        (sp.Sum(K(k) * Zero(n - t + d * k), (k, -r, r)), Fold(zero),
         "every index $n - t + dk$ is inside the signal because $n - t$ is in the interior"),
        (ZCorr(n - t), Fold(zcorr)),
    )

    # (b) one sample outside the interior the statement fails: a witness
    def padded(index, value):
        return sp.Piecewise((value, sp.And(index >= 0, index <= N - 1)), (0, True))

    output = d * r - 1
    moved = sp.Sum(K(k) * padded(output + d * k, x(sp.Mod(output + d * k - t, N))), (k, -r, r))
    source = sp.Mod(output - t, N)
    expected = sp.Sum(K(k) * padded(source + d * k, x(source + d * k)), (k, -r, r))
    b = Claim("(b)", "The margin is tight: at the output $dr - 1$, one sample outside the interior, the "
                     "zero-padded correlation of the circularly shifted signal is not the shifted output, "
                     "{formula} for some kernel and signal.", moved, expected, "!=",
              conditions=(Between(N, 2 * d * r + 1),))
    witness = Witness(((r, 1), (d, 1), (N, 4), (t, 1), (K, sp.Lambda(k, 1)),
                       (x, sp.Lambda(m, sp.KroneckerDelta(m, 0)))))
    steps_b = (Step(moved, expected, witness, "a 3-tap box filter and an impulse at sample 0, shifted by one"),)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b),
        parts=(Chain(a, steps_a), Chain(b, steps_b)),
        definitions=(shift, zero, zero_shifted, zcorr, zcorr_shifted),
        twin=TWIN,
    )
