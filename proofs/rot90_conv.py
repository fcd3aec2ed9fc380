r"""Theorem 9 — rot90 and convolution; P4 group convolutions are rot90-equivariant.

**Statement.** With $R$ the rotation by 90° and $(\mathrm{rot}\,x)(p) = x(R^{-1}p)$,
$K \star \mathrm{rot}\,x = \mathrm{rot}(\mathrm{rot}^{-1}K \star x)$. Hence a kernel with
$\mathrm{rot}\,K = K$ gives a rot90-equivariant correlation, and the P4 lifting
correlation (one rotated copy of $K$ per orientation) satisfies
$\mathrm{lift}(\mathrm{rot}\,x) = \mathrm{cycle}(\mathrm{rot}\,\mathrm{lift}(x))$: the output rotates
and its 4 orientation channels cycle — the regular representation of C4
(Cohen & Welling, 2016).

**Method.** The general case by the substitution $q = Rq'$ in the correlation
sum; exhaustive symbolic checks on periodic $N\times N$ grids.
"""

import sympy as sp

from ._core import Step

NUMERIC_TWIN = "tests/cover/test_prop_rot90.py::test_rotating_the_input_equals_rotating_the_output_of_the_inversely_rotated_kernel"

p1, p2, q1, q2 = sp.symbols("p1 p2 q1 q2", integer=True)
K, x = sp.Function("K"), sp.Function("x")


def R(v1, v2):
    """90° counter-clockwise rotation of the integer plane."""
    return (-v2, v1)


def R_inv(v1, v2):
    return (v2, -v1)


def rot_grid(image):
    """torch.rot90(image, 1) on a square list-of-lists: out[i][j] = image[j][N-1-i]."""
    n = len(image)
    return [[image[j][n - 1 - i] for j in range(n)] for i in range(n)]


def rot_kernel(kernel, times=1):
    for _ in range(times % 4):
        kernel = rot_grid(kernel)
    return kernel


def correlate(kernel, image):
    """Circular correlation of a square image with an odd, centred square kernel."""
    n, r = len(image), len(kernel) // 2
    return [[sum(kernel[a + r][b + r] * image[(i + a) % n][(j + b) % n]
                 for a in range(-r, r + 1) for b in range(-r, r + 1)) for j in range(n)] for i in range(n)]


def _symbolic(name, n):
    return [[sp.Symbol(f"{name}_{i}_{j}") for j in range(n)] for i in range(n)]


def _flat(grid):
    return [v for row in grid for v in row]


def _rotation_pairs():
    pairs = []
    for n in range(1, 6):
        image, kernel = _symbolic("x", n), _symbolic("K", 3)
        pairs.append((_flat(correlate(kernel, rot_grid(image))), _flat(rot_grid(correlate(rot_kernel(kernel, 3), image)))))
    return pairs


def _lift(kernel, image):
    return [correlate(rot_kernel(kernel, r), image) for r in range(4)]


def _p4_pairs():
    pairs = []
    for n in (3, 4, 5):
        image, kernel = _symbolic("x", n), _symbolic("K", 3)
        lifted, lifted_rotated_input = _lift(kernel, image), _lift(kernel, rot_grid(image))
        for r in range(4):  # orientation r of lift(rot x) = rot of orientation r-1 of lift(x)
            pairs.append((_flat(lifted_rotated_input[r]), _flat(rot_grid(lifted[(r - 1) % 4]))))
    return pairs


def derivation():
    symmetric = [[sp.Symbol("c"), sp.Symbol("e"), sp.Symbol("c")], [sp.Symbol("e"), sp.Symbol("m"), sp.Symbol("e")],
                 [sp.Symbol("c"), sp.Symbol("e"), sp.Symbol("c")]]
    image = _symbolic("x", 4)
    return [
        Step("$(K \\star \\mathrm{rot}\\,x)(p) = \\sum_q K(q)\\,x(R^{-1}(p+q))$, and $R^{-1}$ is linear: "
             "$R^{-1}(p+q) = R^{-1}p + R^{-1}q$.",
             sp.Matrix(R_inv(p1 + q1, p2 + q2)), sp.Matrix(R_inv(p1, p2)) + sp.Matrix(R_inv(q1, q2))),
        Step("Substituting $q = Rq'$ (a bijection of the offsets) turns the kernel into $K(Rq') = (\\mathrm{rot}^{-1}K)(q')$: "
             "$R^{-1}$ undoes $R$.", sp.Matrix(R_inv(*R(q1, q2))), sp.Matrix([q1, q2])),
        Step("So the sum is $(\\mathrm{rot}^{-1}K \\star x)(R^{-1}p) = \\mathrm{rot}(\\mathrm{rot}^{-1}K \\star x)(p)$; "
             "on periodic grids, exhaustively for $N \\le 5$ with a symbolic $3\\times3$ kernel (shown $N=1$).",
             *_rotation_pairs()[0], family=_rotation_pairs()[1:], family_text="N = 2 … 5"),
        Step("A kernel fixed by rot90 gives a rot90-equivariant correlation ($4\\times4$ image, symmetric kernel).",
             _flat(correlate(symmetric, rot_grid(image))), _flat(rot_grid(correlate(symmetric, image)))),
        Step("A generic kernel does not: rotating the input is not rotating the output.",
             _flat(correlate(_symbolic("K", 3), rot_grid(image))), _flat(rot_grid(correlate(_symbolic("K", 3), image))),
             relation="!="),
        Step("P4 lifting: orientation $r$ of $\\mathrm{lift}(\\mathrm{rot}\\,x)$ is the rotated orientation $r-1$ of "
             "$\\mathrm{lift}(x)$ — the regular representation (checked for $N \\in \\{3,4,5\\}$, all $r$).",
             *_p4_pairs()[0], family=_p4_pairs()[1:], family_text="N ∈ {3, 4, 5}, r = 0 … 3"),
    ]
