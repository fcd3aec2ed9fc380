r"""Theorem 4 — Zero padding keeps translation equivariance on the interior only.

**Statement.** A "same" correlation with zero padding, kernel radius $r$ and
dilation $d$ agrees with the circular one at every output $n$ with
$dr \le n \le N-1-dr$: the receptive field stays inside the signal. There the
zero-padded layer inherits the circular one's equivariance (Theorem 1); at
$n = dr - 1$ it does not — the margin $dr$ is tight.

**Why it matters.** Zero padding leaks absolute position through the border
(Islam et al., 2020), which is how CNNs can encode where things are.
"""


from ._core import Step, vector

NUMERIC_TWIN = "tests/cover/test_prop_convolution.py::test_padded_conv_is_equivariant_on_the_interior"


def correlate(kernel, signal, dilation, circular):
    size, radius = len(signal), len(kernel) // 2

    def read(index):
        if circular:
            return signal[index % size]
        return signal[index] if 0 <= index < size else 0

    return [sum(w * read(i + dilation * (a - radius)) for a, w in enumerate(kernel)) for i in range(size)]


def _interior_pairs(max_n=8):
    pairs = []
    for radius in (1, 2):
        for dilation in (1, 2):
            margin = dilation * radius
            for size in range(2 * margin + 1, max_n + 1):
                kernel, signal = vector("K", 2 * radius + 1), vector("x", size)
                zero, circ = correlate(kernel, signal, dilation, False), correlate(kernel, signal, dilation, True)
                pairs.append((zero[margin:size - margin], circ[margin:size - margin]))
    return pairs


def derivation():
    kernel, signal = vector("K", 3), vector("x", 5)
    zero, circ = correlate(kernel, signal, 1, False), correlate(kernel, signal, 1, True)
    zero2, circ2 = correlate(kernel, vector("x", 7), 2, False), correlate(kernel, vector("x", 7), 2, True)
    return [
        Step("On the interior ($r = d = 1$, $N = 5$: outputs 1 … 3) zero and circular padding give the same outputs.",
             zero[1:4], circ[1:4],
             family=_interior_pairs(), family_text="radius r ∈ {1, 2}, dilation d ∈ {1, 2}, all N ≤ 8, margin d·r"),
        Step("At the border ($n = 0 = dr - 1$) they differ: the circular output reads $x_{N-1}$, the zero-padded one reads 0.",
             zero[0], circ[0], relation="!="),
        Step("With dilation 2 the margin doubles: at $n = dr - 1 = 1$ the outputs still differ ($N = 7$) …",
             zero2[1], circ2[1], relation="!="),
        Step("… and at $n = dr = 2$ they agree.", zero2[2], circ2[2]),
    ]
