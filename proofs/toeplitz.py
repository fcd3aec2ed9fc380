r"""A zero-padded convolution is a dense layer with a banded Toeplitz weight — not a circulant one.

**Why it matters.** A question often asked: can a fully connected layer do what
a convolution does? Yes — a zero-padded "same" correlation with a kernel of
radius $r$ *is* the dense layer whose weight is constant along diagonals
(Toeplitz) and zero beyond the $r$-th diagonal. So a dense layer can represent
it, with $N^2$ weights of which only $2r + 1$ are free; nothing in training ties
them. And the Toeplitz matrix is not circulant: its corners are zero where a
circulant's wrap around, which is the matrix form of zero padding breaking
equivariance at the border (Theorems 2 and 4).

**Proof in words.** The weight $T_{ij} = K_r[j - i]$ depends only on $j - i$, which
is the Toeplitz property. For an output $i$ at least $r$ from both ends, split the
row's sum at $j = i - r$ and $j = i + r + 1$: outside the band the weights are zero,
and inside, the substitution $k = j - i$ gives $\sum_{k=-r}^{r} K[k]\,x[i + k]$, the
correlation. Rows near the border read padded zeros instead; they are checked
case by case against the zero-padded correlation. The corner entries $T_{0, N-1}$
(zero) and $T_{1, 0}$ (a kernel weight) are a counterexample to circulance.

**References.** Goodfellow, Bengio & Courville, *Deep Learning*, §9.1 (convolution
as a doubly block circulant/Toeplitz matrix); Gray, *Toeplitz and Circulant
Matrices: A Review*, §2.
"""

import sympy as sp

from ._core import (
    Between,
    Chain,
    Claim,
    Fold,
    Instances,
    Param,
    Reindex,
    Rule,
    Shown,
    Split,
    Step,
    Theorem,
    Twin,
    Unfold,
    Witness,
    derive,
    notation,
)

i, j, k, d = sp.symbols("i j k d", integer=True)
N, r = sp.symbols("N r", integer=True, positive=True)
K, x = sp.Function("K"), sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_a_dense_layer_with_a_banded_toeplitz_weight_is_a_zero_padded_conv",
    text="The twin builds, for random integer kernels of radius 1 and 2, the banded Toeplitz matrix, loads it "
         "into a `torch.nn.Linear` without bias, and checks bitwise on random integer signals that it equals a "
         "`Conv1d` with zero padding. Its negative half asks the suite's orbit engine whether that dense layer commutes "
         "with every circular shift (it does not) and checks that the matrix is not the circulant built from its "
         "first column: its corner is zero where a circulant holds $K[-1]$.",
)


def _padded_correlation(kernel, signal):
    size, radius = len(signal), len(kernel) // 2
    return [sum(w * (signal[n + a - radius] if 0 <= n + a - radius < size else 0) for a, w in enumerate(kernel))
            for n in range(size)]


def _toeplitz(kernel, size):
    radius = len(kernel) // 2
    return sp.Matrix(size, size, lambda row, col: kernel[col - row + radius] if abs(col - row) <= radius else 0)


def theorem() -> Theorem:
    T = notation("Weight", r"T_{{{0}, {1}}}", 2)
    Band = notation("Band", r"K_r[{0}]")
    Dense = notation("Dense", r"(Tx)_{{{0}}}")
    Corr = notation("Corr", r"(K \star_0 x)[{0}]")
    weight = Rule("the weight", T(i, j), Band(j - i), "definition", (i, j),
                  text="It depends only on the diagonal $j - i$.")
    inside = Rule("the band", Band(d), K(d), "definition", (d,), when=(-r <= d, d <= r))
    below = Rule("below the band", Band(d), sp.Integer(0), "definition", (d,), when=(d <= -r - 1,))
    above = Rule("above the band", Band(d), sp.Integer(0), "definition", (d,), when=(d >= r + 1,))
    dense = Rule("the dense layer", Dense(i), sp.Sum(T(i, j) * x(j), (j, 0, N - 1)), "definition", (i,))
    corr = Rule("the correlation (interior outputs: no padding is read)", Corr(i),
                sp.Sum(K(k) * x(i + k), (k, -r, r)), "definition", (i,))

    a_claim = Claim("(a)", "The weight is Toeplitz, constant along every diagonal: {formula}.", T(i + 1, j + 1),
                    T(i, j))
    steps_a = derive(T(i + 1, j + 1), (Band(j - i), Unfold(weight), "$(j + 1) - (i + 1) = j - i$"),
                     (T(i, j), Fold(weight)))

    first = sp.Sum(Band(j - i) * x(j), (j, 0, i - r - 1))
    middle = sp.Sum(Band(j - i) * x(j), (j, i - r, i + r))
    last = sp.Sum(Band(j - i) * x(j), (j, i + r + 1, N - 1))
    kept = sp.Sum(K(j - i) * x(j), (j, i - r, i + r))
    b_claim = Claim("(b)", "For every output at least $r$ from both ends the dense layer is the correlation: "
                           "{formula}.", Dense(i), Corr(i), conditions=(Between(i, r, N - 1 - r),))
    steps_b = derive(
        Dense(i),
        (dense.rhs, Unfold(dense)),
        (sp.Sum(Band(j - i) * x(j), (j, 0, N - 1)), Unfold(weight)),
        (first + sp.Sum(Band(j - i) * x(j), (j, i - r, N - 1)), Split(j, i - r)),
        (first + middle + last, Split(j, i + r + 1, start=i - r)),
        (middle + last, Unfold(below), "every $j - i$ in the first sum is below $-r$"),
        (middle, Unfold(above), "every $j - i$ in the last sum is above $r$"),
        (kept, Unfold(inside)),
        (sp.Sum(K(k) * x(i + k), (k, -r, r)), Reindex(j, j - i, k), "$k = j - i$"),
        (Corr(i), Fold(corr)),
    )

    size, radius = sp.symbols("N r", integer=True)

    def every_row(N, r):
        kernel, signal = sp.symbols(f"K0:{2 * r + 1}"), list(sp.symbols(f"x0:{N}"))
        return (Shown("T x", list(_toeplitz(kernel, N) * sp.Matrix(signal))),
                Shown(r"K \star_0 x", _padded_correlation(kernel, signal)))

    scope = (Param(radius, values=(1, 2)), Param(size, 2 * radius + 1, 8, trivial=(3, 5)))
    c_claim = Claim("(c)", "Every row, the border rows included, matches the zero-padded correlation, {scope}.",
                    scope=scope)

    corner = sp.Piecewise((K(N - 1), N - 1 <= r), (0, True))
    d_claim = Claim("(d)", "The matrix is not circulant: the corner that a circulant would fill with $K[-1]$ is "
                           "zero, {formula} for some kernel.", corner, K(-1), "!=",
                    conditions=(Between(N, 2 * r + 2),))
    witness = Witness(((N, 4), (r, 1), (K, sp.Lambda(k, 1))))
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim),
        parts=(Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Instances(c_claim, every_row, scope, ((radius, 1), (size, 6))),
               Chain(d_claim, (Step(corner, K(-1), witness, "the all-ones kernel of radius one, $N = 4$"),))),
        definitions=(weight, inside, below, above, dense, corr),
        twin=TWIN,
    )
