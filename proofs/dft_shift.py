r"""Theorem 7 — The DFT shift theorem: $|\hat{x}|$ is invariant to circular shifts.

**Statement.** With $\hat x[k] = \sum_n x[n]\,\omega^{kn}$, $\omega = e^{-2\pi i/N}$,
$\widehat{S_t x}[k] = \omega^{kt}\,\hat x[k]$, and since $|\omega^{kt}| = 1$,
$|\widehat{S_t x}| = |\hat x|$; the same in 2-D with a phase
$\omega_1^{k_1 t_1}\omega_2^{k_2 t_2}$. For the continuous Fourier transform,
$\mathcal{F}[f(\cdot - a)](\xi) = e^{-2\pi i a \xi}\mathcal{F}[f](\xi)$.

**Method.** Exhaustively for $N \le 8$, the DFT is a polynomial in $\omega$
reduced modulo $\omega^N - 1$, which decides the identity exactly; the
continuous theorem with `sympy.fourier_transform` on concrete functions.

**Why it matters.** The Fourier magnitude is a translation-invariant feature
— but only for circular shifts: a zero-fill shift changes it (the
suite's negative twin).
"""

import sympy as sp

from ._core import Step, vector

NUMERIC_TWIN = "tests/cover/test_prop_fourier.py::test_fourier_phase_moves_by_exactly_the_shift_theorem_ramp"

w = sp.Symbol("omega")
kk, tt, NN = sp.symbols("k t N", real=True)
xi, a = sp.symbols("xi a", real=True)
u = sp.Symbol("u", real=True)


def dft_poly(signal, k):
    return sum(value * w ** (k * index) for index, value in enumerate(signal))


def _reduced(expr, size):
    return sp.rem(sp.expand(expr), w**size - 1, w)


def _shift_pairs(max_n=8):
    pairs = []
    for size in range(1, max_n + 1):
        signal = vector("x", size)
        for shift in range(size):
            moved = [signal[(i - shift) % size] for i in range(size)]
            for k in range(size):
                pairs.append((_reduced(dft_poly(moved, k), size), _reduced(w ** (k * shift) * dft_poly(signal, k), size)))
    return pairs


def _shift_pairs_2d(size=3):
    image = [[sp.Symbol(f"x_{i}_{j}") for j in range(size)] for i in range(size)]
    w2 = sp.Symbol("omega_2")
    pairs = []

    def dft2(img, k1, k2):
        return sum(img[i][j] * w ** (k1 * i) * w2 ** (k2 * j) for i in range(size) for j in range(size))

    for t1 in range(size):
        for t2 in range(size):
            moved = [[image[(i - t1) % size][(j - t2) % size] for j in range(size)] for i in range(size)]
            for k1 in range(size):
                for k2 in range(size):
                    lhs = sp.rem(sp.rem(sp.expand(dft2(moved, k1, k2)), w**size - 1, w), w2**size - 1, w2)
                    rhs = sp.rem(sp.rem(sp.expand(w ** (k1 * t1) * w2 ** (k2 * t2) * dft2(image, k1, k2)),
                                        w**size - 1, w), w2**size - 1, w2)
                    pairs.append((lhs, rhs))
    return pairs


def derivation():
    signal = vector("x", 4)
    moved = [signal[(i - 1) % 4] for i in range(4)]
    f0 = sp.exp(-u**2)
    return [
        Step("Shift theorem, $N = 4$, $t = 1$, $k = 1$: the DFT of the shifted signal is $\\omega^{kt}$ times the DFT "
             "(polynomials in $\\omega$ modulo $\\omega^N - 1$; all $N \\le 8$, all $t$, $k$ checked).",
             _reduced(dft_poly(moved, 1), 4), _reduced(w * dft_poly(signal, 1), 4),
             family=_shift_pairs(), family_text="N ≤ 8, every shift t and frequency k"),
        Step("In 2-D the phase factorises per axis (every shift and frequency on a symbolic $3\\times3$ image).",
             *_shift_pairs_2d()[10], family=_shift_pairs_2d(), family_text="3×3, every (t1, t2) and (k1, k2)"),
        Step("The phase has modulus one for real $k, t, N$ …", sp.Abs(sp.exp(-2 * sp.pi * sp.I * kk * tt / NN)), sp.Integer(1)),
        Step("… so the magnitude is unchanged: $|\\omega^{kt}\\hat x[k]| = |\\hat x[k]|$.",
             sp.Abs(sp.exp(-2 * sp.pi * sp.I * kk * tt / NN) * sp.Symbol("X")), sp.Abs(sp.Symbol("X"))),
        Step("Continuous shift theorem on a Gaussian: $\\mathcal{F}[f(\\cdot - a)] = e^{-2\\pi i a\\xi}\\mathcal{F}[f]$.",
             sp.fourier_transform(f0.subs(u, u - a), u, xi), sp.exp(-2 * sp.pi * sp.I * a * xi) * sp.fourier_transform(f0, u, xi)),
        Step("… and on $u\\,e^{-u^2}$, a family member that is not even.",
             sp.fourier_transform((u * f0).subs(u, u - a), u, xi),
             sp.exp(-2 * sp.pi * sp.I * a * xi) * sp.fourier_transform(u * f0, u, xi)),
    ]
