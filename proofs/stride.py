r"""Theorem 3 — Stride keeps equivariance only on the subgroup $s\mathbb{Z}$.

**Statement.** Let $D_s$ keep every $s$-th sample, $(D_s x)[n] = x[sn]$. Then
$D_s S_{st} = S_t D_s$: a shift by $st$ before downsampling is a shift by $t$ after.
A strided convolution $D_s(K \star \cdot)$ is therefore equivariant to shifts in
$s\mathbb{Z}$ with output action $t \mapsto t/s$. For a shift not divisible by $s$
there is in general *no* output shift that matches: an explicit counterexample
for $s = 2$, $t = 1$ is given.

**Why it matters.** "Small translations" of one pixel are exactly the ones a
stride-2 network is not equivariant to (Azulay & Weiss, 2019; Zhang, 2019).
"""

import sympy as sp

from ._core import Step, vector

NUMERIC_TWIN = "tests/cover/test_prop_convolution.py::test_strided_circular_conv_is_equivariant_on_the_subgroup"

n, t, s, m = sp.symbols("n t s m", integer=True)
x = sp.Function("x")


def downsample(signal, stride):
    return signal[::stride]


def roll(signal, shift):
    size = len(signal)
    return [signal[(i - shift) % size] for i in range(size)]


def derivation():
    shifted = sp.Lambda(m, x(m - s * t))
    steps = [
        Step("$(D_s S_{st} x)[n]$ reads the shifted signal at $sn$, i.e. $x$ at $sn - st$.",
             shifted(s * n), x(s * n - s * t)),
        Step("Factor the index: $sn - st = s(n-t)$, which is $(D_s x)[n-t] = (S_t D_s x)[n]$.",
             x(s * n - s * t), sp.Lambda(m, x(s * m))(n - t)),
        Step("On $\\mathbb{Z}/N$ with $s \\mid N$ the same identity holds index by index "
             "(checked for $s \\in \\{2,3\\}$, $N \\le 12$, every $t$; shown $s=2$, $N=4$, $t=1$).",
             downsample(roll(vector("x", 4), 2), 2), roll(downsample(vector("x", 4), 2), 1),
             family=[(downsample(roll(vector("x", size), stride * shift), stride),
                      roll(downsample(vector("x", size), stride), shift))
                     for stride in (2, 3) for size in range(stride, 13, stride) for shift in range(size // stride)],
             family_text="s ∈ {2, 3}, N ≤ 12 divisible by s, every t"),
        Step("Counterexample for $t=1$, $s=2$, $N=4$: $D_2 S_1 x = (x_3, x_1)$ differs from the unshifted "
             "output $D_2 x = (x_0, x_2)$ …",
             downsample(roll(vector("x", 4), 1), 2), downsample(vector("x", 4), 2), relation="!="),
        Step("… and from its only other shift $S_1 D_2 x = (x_2, x_0)$: no output shift matches, so the claim "
             "fails outside $2\\mathbb{Z}$.",
             downsample(roll(vector("x", 4), 1), 2), roll(downsample(vector("x", 4), 2), 1), relation="!="),
    ]
    return steps
