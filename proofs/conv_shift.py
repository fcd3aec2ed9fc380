r"""Theorem 1 — Cross-correlation commutes with translation.

**Statement.** With $(K \star x)[n] = \sum_k K[k]\,x[n+k]$ and $(S_t x)[n] = x[n-t]$,
$K \star S_t x = S_t (K \star x)$ for every kernel $K$, signal $x$ and shift $t$:
on $\mathbb{Z}$, on $\mathbb{Z}^2$, with several input channels, and with periodic
indices modulo $N$ (circular padding).

**Assumptions.** The same kernel is used at every position (weight sharing); on the
finite grid, indices are taken modulo $N$. Convolution is correlation with a
flipped kernel, so the statement holds for it too.

**Why it matters.** This is the equivariance that weight sharing buys — not
invariance: the output moves with the input (Goodfellow, Bengio & Courville,
*Deep Learning*, §9.2–9.3).
"""

import sympy as sp

from ._core import Step, vector

NUMERIC_TWIN = "tests/cover/test_prop_convolution.py::test_circular_conv2d_commutes_with_every_circular_shift"

n, k, t, N = sp.symbols("n k t N", integer=True)
n1, n2, k1, k2, t1, t2, c = sp.symbols("n1 n2 k1 k2 t1 t2 c", integer=True)
K, x = sp.Function("K"), sp.Function("x")


def circular_correlation(kernel, signal, shift=0):
    """(kernel ⋆ S_shift signal) on Z/N, as a list of sympy expressions."""
    size = len(signal)
    moved = [signal[(i - shift) % size] for i in range(size)]
    return [sum(w * moved[(i + j) % size] for j, w in enumerate(kernel)) for i in range(size)]


def circular_correlation_2d(kernel, image, shift=(0, 0)):
    rows, cols = len(image), len(image[0])
    moved = [[image[(i - shift[0]) % rows][(j - shift[1]) % cols] for j in range(cols)] for i in range(rows)]
    return [[sum(kernel[a][b] * moved[(i + a) % rows][(j + b) % cols]
                 for a in range(len(kernel)) for b in range(len(kernel[0])))
             for j in range(cols)] for i in range(rows)]


def _exhaustive_1d(max_n=6, max_k=3):
    pairs = []
    for size in range(1, max_n + 1):
        signal = vector("x", size)
        for width in range(1, max_k + 1):
            kernel = vector("K", width)
            base = circular_correlation(kernel, signal)
            for shift in range(size):
                pairs.append((circular_correlation(kernel, signal, shift), [base[(i - shift) % size] for i in range(size)]))
    return pairs


def _exhaustive_2d(max_n=4):
    pairs = []
    for rows in range(1, max_n + 1):
        for cols in range(1, max_n + 1):
            image = [[sp.Symbol(f"x_{i}_{j}") for j in range(cols)] for i in range(rows)]
            kernel = [[sp.Symbol(f"K_{a}_{b}") for b in range(2)] for a in range(2)]
            base = circular_correlation_2d(kernel, image)
            for s in [(0, 1), (1, 0), (rows - 1, cols - 1)]:
                shifted = circular_correlation_2d(kernel, image, s)
                expected = [[base[(i - s[0]) % rows][(j - s[1]) % cols] for j in range(cols)] for i in range(rows)]
                pairs.append((sum(shifted, []), sum(expected, [])))
    return pairs


def derivation():
    shifted_x = sp.Lambda(n, x(n - t))
    corr_at = lambda f, m: sp.Sum(K(k) * f(m + k), (k, -sp.oo, sp.oo))  # noqa: E731
    periodic = lambda f, m: sp.Sum(K(k) * f(sp.Mod(m + k, N)), (k, 0, 2))  # noqa: E731
    steps = [
        Step("Write out $(K \\star S_t x)[n]$: the shifted signal is read at $n+k$, i.e. $x$ at $n+k-t$.",
             corr_at(shifted_x, n), sp.Sum(K(k) * x(n + k - t), (k, -sp.oo, sp.oo))),
        Step("Regroup the index as $(n-t)+k$: the sum is the correlation evaluated at $n-t$.",
             sp.Sum(K(k) * x(n + k - t), (k, -sp.oo, sp.oo)), corr_at(x, n - t)),
        Step("By definition of $S_t$, the correlation at $n-t$ is $S_t(K \\star x)$ at $n$: "
             "$K \\star S_t x = S_t(K \\star x)$ on $\\mathbb{Z}$.",
             corr_at(sp.Lambda(n, x(n - t)), n), sp.Lambda(n, corr_at(x, n)).__call__(n - t)),
        Step("The same in 2-D with channels: the sum over channels $c$ and offsets $(k_1,k_2)$ is untouched by the shift.",
             sp.Sum(K(c, k1, k2) * x(c, n1 + k1 - t1, n2 + k2 - t2), (k1, -sp.oo, sp.oo), (k2, -sp.oo, sp.oo), (c, 0, 2)),
             sp.Sum(K(c, k1, k2) * x(c, (n1 - t1) + k1, (n2 - t2) + k2), (k1, -sp.oo, sp.oo), (k2, -sp.oo, sp.oo), (c, 0, 2))),
        Step("Periodic indices (circular padding): reducing $n-t$ modulo $N$ first changes nothing, "
             "because $((n-t) \\bmod N + k) \\bmod N = (n+k-t) \\bmod N$.",
             sp.Mod(sp.Mod(n - t, N) + k, N), sp.Mod(n + k - t, N)),
        Step("Hence on $\\mathbb{Z}/N$: $(K \\star S_t x)[n] = (K \\star x)[(n-t) \\bmod N]$ (a 3-tap kernel shown).",
             periodic(sp.Lambda(n, x(sp.Mod(n - t, N))), n), periodic(x, sp.Mod(n - t, N))),
        Step("Exhaustive check on $\\mathbb{Z}/N$ with symbolic entries: every size $N \\le 6$, kernel width $\\le 3$ and "
             "shift $t < N$ gives a polynomial identity (shown: $N=3$, width 2, $t=1$).",
             circular_correlation(vector("K", 2), vector("x", 3), 1),
             [circular_correlation(vector("K", 2), vector("x", 3))[(i - 1) % 3] for i in range(3)],
             family=_exhaustive_1d(), family_text="all N ≤ 6, kernel widths ≤ 3, shifts t < N"),
        Step("Exhaustive check in 2-D: every $H, W \\le 4$ with a symbolic $2\\times2$ kernel and shifts "
             "$(0,1), (1,0), (-1,-1)$ (shown: the $2\\times 2$ case, shift $(0,1)$).",
             _exhaustive_2d(2)[-3][0], _exhaustive_2d(2)[-3][1],
             family=_exhaustive_2d(), family_text="all H, W ≤ 4 and three shifts each"),
    ]
    return steps
