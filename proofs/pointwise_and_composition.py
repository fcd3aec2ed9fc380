r"""Theorem 5 — Pointwise maps commute with permutations; equivariance composes; global pooling is invariant.

**Statement.** (a) Shifts, rot90 and flips act on an image by permuting its
pixels. (b) A pointwise map $\sigma$ commutes with every permutation $\pi$:
$\sigma(x_{\pi(i)}) = (\sigma(x))_{\pi(i)}$. (c) If $f(gx) = \rho(g) f(x)$ and
$h(\rho(g) y) = \rho'(g) h(y)$ then $h \circ f$ is equivariant with $\rho'$.
(d) Global sum (average) and max pooling are invariant to every permutation.

**Why it matters.** A CNN is a composition of convolutions (Theorem 1),
pointwise nonlinearities and pooling, so its equivariance is exactly that of
its least equivariant stage.
"""

import sympy as sp

from ._core import Step, grid, vector

NUMERIC_TWIN = "tests/cover/test_prop_pointwise.py::test_composition_of_equivariant_maps_is_equivariant"

sigma = sp.Function("sigma")
f, h = sp.Function("f"), sp.Function("h")
g, xs, rho, rho2 = sp.symbols("g x rho rho'")
act = sp.Function("act")  # act(group element, vector)


def index_maps(size):
    """The pixel index maps (i, j) -> source (i', j') of shifts, rot90 and flips on a size×size grid."""
    return {
        "shift(0,1)": lambda i, j: (i, (j - 1) % size),
        "shift(1,0)": lambda i, j: ((i - 1) % size, j),
        "rot90": lambda i, j: (j, size - 1 - i),
        "flip_w": lambda i, j: (i, size - 1 - j),
        "transpose": lambda i, j: (j, i),
    }


def is_bijection(mapping, size):
    cells = {mapping(i, j) for i in range(size) for j in range(size)}
    return len(cells) == size * size and all(0 <= a < size and 0 <= b < size for a, b in cells)


def permute(image, mapping):
    size = image.shape[0]
    return sp.Matrix(size, size, lambda i, j: image[mapping(i, j)])


def derivation():
    bijections = [(sp.Integer(int(is_bijection(m, size))), sp.Integer(1))
                  for size in range(1, 6) for m in index_maps(size).values()]
    image = grid("x", 3, 3)
    pairs = [(permute(image, m).applyfunc(sigma), permute(image.applyfunc(sigma), m))
             for m in index_maps(3).values()]
    values = vector("x", 5)
    rolled = values[2:] + values[:2]
    return [
        Step("Shifts, rot90, flips and the transpose are bijections of the pixel grid "
             "(checked for every size ≤ 5): they only permute pixels.",
             bijections[0][0], bijections[0][1], family=bijections[1:], family_text="5 maps × sizes 1 … 5"),
        Step("A pointwise $\\sigma$ commutes with each of them on a symbolic $3\\times3$ image (shown: rot90).",
             permute(image, index_maps(3)["rot90"]).applyfunc(sigma),
             permute(image.applyfunc(sigma), index_maps(3)["rot90"]), family=pairs, family_text="all five maps"),
        Step("Composition: substitute $f(g x) = \\rho(g) f(x)$ inside $h$ …",
             h(f(act(g, xs))).subs(f(act(g, xs)), act(rho, f(xs))), h(act(rho, f(xs)))),
        Step("… then $h(\\rho(g) y) = \\rho'(g) h(y)$: $h \\circ f$ is equivariant with $\\rho'$.",
             h(act(rho, f(xs))).subs(h(act(rho, f(xs))), act(rho2, h(f(xs)))), act(rho2, h(f(xs)))),
        Step("Global sum pooling is invariant to a cyclic shift (shown on 5 values, shift 2) …",
             sum(rolled), sum(values)),
        Step("… and so is global max pooling: $\\max$ is symmetric in its arguments.",
             sp.Max(*rolled), sp.Max(*values)),
    ]
