r"""Theorem 2 — A linear map commutes with the cyclic shift iff its matrix is circulant.

**Statement.** Let $P$ be the cyclic shift on $\mathbb{R}^N$, $(Px)_i = x_{i-1 \bmod N}$.
A matrix $A$ satisfies $AP = PA$ if and only if $A_{ij} = c_{(i-j) \bmod N}$ for some
vector $c$ (a circulant matrix), and then $Ax = c \circledast x$ is a circular convolution.

**Why it matters.** A dense layer *can* represent a convolution, but the
constraint $AP = PA$ removes $N^2 - N$ degrees of freedom that nothing in
training enforces. Large networks do not get shift-equivariance for free: it
has to be built in (weight sharing) or learned from data (augmentation).

**Method.** "If" with symbolic indices; "only if" by solving the linear system
$AP - PA = 0$ for a fully symbolic $A$, for every $N \le 6$.
"""

import sympy as sp

from ._core import Step, vector

NUMERIC_TWIN = "tests/models/test_registry.py::test_profile_line[circulant_linear:translation-equivariant:exact]"

i, j, N = sp.symbols("i j N", integer=True)
c = sp.Function("c")


def shift_matrix(size):
    return sp.Matrix(size, size, lambda r, s: 1 if r == (s + 1) % size else 0)


def circulant(column):
    size = len(column)
    return sp.Matrix(size, size, lambda r, s: column[(r - s) % size])


def _only_if(size):
    """Solve AP = PA for a symbolic A; return (A with the solution substituted, the circulant it must equal)."""
    A = sp.Matrix(size, size, lambda r, s: sp.Symbol(f"a_{r}_{s}"))
    P = shift_matrix(size)
    solution = sp.solve(list(A * P - P * A), list(A), dict=True)
    solved = A.subs(solution[0]) if solution else A
    return solved, circulant([solved[r, 0] for r in range(size)])


def derivation():
    steps = [
        Step("Entry $(i,j)$ of $AP$ reads column $j+1$ of $A$; of $PA$, row $i-1$. For a circulant "
             "$A_{ij} = c_{(i-j) \\bmod N}$ both are $c$ at the same index:",
             c(sp.Mod(i - (j + 1), N)), c(sp.Mod((i - 1) - j, N))),
        Step("So every circulant commutes with $P$ (checked as matrices for every $N \\le 6$; shown $N = 3$).",
             circulant(vector("c", 3)) * shift_matrix(3), shift_matrix(3) * circulant(vector("c", 3)),
             family=[(circulant(vector("c", m)) * shift_matrix(m), shift_matrix(m) * circulant(vector("c", m)))
                     for m in range(1, 7)], family_text="N = 1 … 6"),
        Step("Conversely, solving $AP - PA = 0$ for a fully symbolic $A$ leaves exactly a circulant: "
             "each solution equals the circulant built from its first column (shown $N = 3$).",
             *_only_if(3), family=[_only_if(m) for m in range(1, 7)], family_text="N = 1 … 6"),
        Step("A circulant matrix acts as circular convolution: $(Ax)_i = \\sum_j c_{(i-j) \\bmod N}\\, x_j$ "
             "(shown $N = 4$).",
             list(circulant(vector("c", 4)) * sp.Matrix(vector("x", 4))),
             [sum(vector("c", 4)[(r - s) % 4] * vector("x", 4)[s] for s in range(4)) for r in range(4)]),
        Step("A dense layer with a non-circulant weight does not commute with the shift: "
             "$AP - PA \\neq 0$ for a generic symbolic $A$ (shown $N = 2$).",
             sp.Matrix(2, 2, sp.symbols("a_0_0 a_0_1 a_1_0 a_1_1")) * shift_matrix(2),
             shift_matrix(2) * sp.Matrix(2, 2, sp.symbols("a_0_0 a_0_1 a_1_0 a_1_1")), relation="!="),
    ]
    return steps
