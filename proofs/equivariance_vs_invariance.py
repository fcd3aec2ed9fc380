r"""Theorem 11 — Equivariance versus invariance.

**Statement.** If $f(gx) = \rho(g)f(x)$ and $h(\rho(g)y) = h(y)$ then
$h \circ f$ is invariant: $h(f(gx)) = h(f(x))$. An equivariant map on its own
is not invariant unless $\rho$ is trivial: the identity map (equivariant with
$\rho = S_t$) moves a signal under a shift.

**Why it matters.** The seed discussion turns on this: convolution (weight
sharing) gives *equivariance*; *invariance* appears only when an invariant
map — global pooling, a Fourier magnitude — follows it. "The CNN is
translation invariant because of convolution" conflates the two.
"""

import sympy as sp

from ._core import Step, vector

NUMERIC_TWIN = "tests/models/test_headlines.py::test_all_circular_and_aps_networks_are_bitwise_invariant_to_every_circular_shift"

f, h = sp.Function("f"), sp.Function("h")
act = sp.Function("act")
g, x, rho = sp.symbols("g x rho")


def derivation():
    signal = vector("x", 4)
    shifted = signal[-1:] + signal[:-1]
    return [
        Step("Use equivariance of $f$ inside $h$: $h(f(gx)) = h(\\rho(g) f(x))$.",
             h(f(act(g, x))).subs(f(act(g, x)), act(rho, f(x))), h(act(rho, f(x)))),
        Step("Use invariance of $h$ to $\\rho$: $h(\\rho(g) y) = h(y)$, so $h \\circ f$ is invariant.",
             h(act(rho, f(x))).subs(h(act(rho, f(x))), h(f(x))), h(f(x))),
        Step("Conv followed by global sum pooling is invariant (a 2-tap circular correlation, $N = 4$, shift 1).",
             sum(sp.Symbol("a") * shifted[i] + sp.Symbol("b") * shifted[(i + 1) % 4] for i in range(4)),
             sum(sp.Symbol("a") * signal[i] + sp.Symbol("b") * signal[(i + 1) % 4] for i in range(4))),
        Step("But an equivariant map alone moves with the input: the identity map is shift-equivariant, "
             "and $S_1 x \\neq x$.", shifted, signal, relation="!="),
    ]
