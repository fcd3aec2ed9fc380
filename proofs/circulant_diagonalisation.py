r"""The DFT diagonalises every circulant matrix: the Fourier vectors are eigenvectors, with eigenvalues $\hat c[k]$.

**Why it matters.** This links Theorem 2 (shift-equivariant linear maps are
circulant, i.e. circular convolutions) to Theorem 7 (the DFT shift theorem).
Every circular convolution is, in the Fourier basis, a pointwise product — the
convolution theorem. It also says exactly what a dense layer must learn to be
shift-equivariant: its matrix must become diagonal in the Fourier basis, $N$
numbers instead of $N^2$; a question often asked is why a large dense network
does not find this on its own, and the answer is that nothing in the loss
pushes the $N^2 - N$ off-diagonal entries to zero.

**Proof in words.** Apply the circulant $C_{ij} = c[i - j]$ to the Fourier vector
$f_k[j] = \omega^{-kj}$ and substitute $m = i - j$: the sum becomes
$\omega^{-ki}\sum_m c[m]\,\omega^{km}$ over $m = i - N + 1, \dots, i$. The negative indices
are, by periodicity of $c$ and $\omega^N = 1$, the indices $m + N$ missing at the top:
the sum is $\hat c[k]$, and $Cf_k = \hat c[k]\,f_k$. In matrix form,
$FC = \mathrm{diag}(\hat c)\,F$, checked entry by entry for small sizes.

**References.** Gray, *Toeplitz and Circulant Matrices: A Review*, §3.1; Strang,
*Introduction to Linear Algebra*, §10.3.
"""

import sympy as sp

from ._core import (
    Algebra,
    Between,
    Chain,
    Claim,
    Fold,
    Instances,
    Merge,
    Param,
    Periodic,
    Reindex,
    RootOfUnity,
    Rule,
    Shown,
    Split,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

i, j, m, k = sp.symbols("i j m k", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
omega = sp.Symbol("omega")
c = sp.Function("c")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_the_dft_diagonalises_circulant_layers",
    text="The twin takes the weight matrix of `convnet_invariances.models.CirculantLinear` and of random circulant matrices, "
         "conjugates it with the DFT matrix built from `torch.fft.fft` of the identity, and checks in float64 "
         "that the result is diagonal with diagonal `torch.fft.fft(first column)`, and that each Fourier vector "
         "is an eigenvector. Its negative half does the same for a generic `convnet_invariances.models.DenseLinear` weight and "
         "expects large off-diagonal entries.",
)


def _reduce(expr, size):
    return sp.rem(sp.expand(expr), omega**size - 1, omega)


def theorem() -> Theorem:
    Applied = notation("CirculantOnFourier", r"(C f_k)[{0}]")
    Fourier = notation("FourierVector", r"f_k[{0}]")
    Chat = notation("Eigenvalue", r"\hat{{c}}[{0}]")
    applied = Rule("the circulant applied to the Fourier vector $f_k$", Applied(i),
                   sp.Sum(c(i - j) * omega ** (-k * j), (j, 0, N - 1)), "definition", (i,),
                   text="$C_{ij} = c[i - j]$, $f_k[j] = \\omega^{-kj}$.")
    fourier = Rule("the Fourier vector", Fourier(i), omega ** (-k * i), "definition", (i,))
    chat = Rule("the DFT of the first column", Chat(k), sp.Sum(c(m) * omega ** (k * m), (m, 0, N - 1)), "definition",
                (k,))
    periodic = Periodic("periodicity of the column", c, N, text="Indices of $c$ are read modulo $N$.")
    root = RootOfUnity("ω is an N-th root of unity", omega, N)
    a_claim = Claim("(a)", "Every Fourier vector is an eigenvector of every circulant matrix: {formula}.",
                    Applied(i), Chat(k) * Fourier(i), hypotheses=(periodic, root), conditions=(Between(i, 0, N - 1),))
    phase = omega ** (-k * i)
    top = sp.Sum(c(m) * omega ** (k * m), (m, 0, i))
    steps_a = derive(
        Applied(i),
        (applied.rhs, Unfold(applied)),
        (sp.Sum(c(m) * omega ** (-k * (i - m)), (m, i - N + 1, i)), Reindex(j, i - j, m), "$m = i - j$"),
        (phase * sp.Sum(c(m) * omega ** (k * m), (m, i - N + 1, i)), Algebra()),
        (phase * (sp.Sum(c(m) * omega ** (k * m), (m, i - N + 1, -1)) + top), Split(m, 0)),
        (phase * (sp.Sum(c(m - N) * omega ** (k * (m - N)), (m, i + 1, N - 1)) + top),
         Reindex(m, m + N, m, start=i - N + 1)),
        (phase * (sp.Sum(c(m) * omega ** (k * (m - N)), (m, i + 1, N - 1)) + top), Use(periodic)),
        (phase * (sp.Sum(c(m) * omega ** (k * m), (m, i + 1, N - 1)) + top), Use(root)),
        (phase * sp.Sum(c(m) * omega ** (k * m), (m, 0, N - 1)), Merge(m)),
        (phase * Chat(k), Fold(chat)),
        (Chat(k) * Fourier(i), Fold(fourier)),
    )

    size = sp.Symbol("N", integer=True)

    def matrices(N):
        column = sp.symbols(f"c0:{N}")
        circulant = sp.Matrix(N, N, lambda r, s: column[(r - s) % N])
        dft = sp.Matrix(N, N, lambda r, s: omega ** (r * s))
        eigenvalues = sp.diag(*[sum(column[n] * omega ** (row * n) for n in range(N)) for row in range(N)])
        return (Shown("F C", [_reduce(e, N) for e in dft * circulant]),
                Shown(r"\mathrm{diag}(\hat c)\, F", [_reduce(e, N) for e in eigenvalues * dft]))

    scope = (Param(size, 1, 6, trivial=(1, 2)),)
    b_claim = Claim("(b)", "In matrix form, with the DFT matrix $F$ of entries $\\omega^{kn}$ and products reduced "
                           "with $\\omega^N$ set to one, $FC$ equals $\\mathrm{diag}(\\hat c)\\,F$, {scope}.",
                    scope=scope)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim),
        parts=(Chain(a_claim, steps_a), Instances(b_claim, matrices, scope, ((size, 4),))),
        definitions=(applied, fourier, chat),
        hypotheses=(periodic, root),
        twin=TWIN,
    )
