"""Convolutions in every padding mode, and the dense layers the seeds ask about.

``CirculantLinear`` is a dense layer whose weight matrix is circulant — it *is*
a circular convolution, hence shift-equivariant; ``DenseLinear`` can represent
one but nothing forces it to (proofs: circulant).  ``CoordConv`` concatenates
absolute coordinates, a textbook way to lose translation equivariance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._common import check_input, integer_init_, one_of, positive_int

PADDING_MODES = ("circular", "zeros", "reflect", "replicate")


def padded_conv2d(x, weight, bias=None, *, stride=1, dilation=1, padding_mode="circular"):
    """2-D cross-correlation with "same" padding in any mode (output size = input size / stride).

    >>> padded_conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3), padding_mode="zeros")[0, 0, 0].tolist()
    [4.0, 6.0, 6.0, 4.0]
    """
    k = weight.shape[-1]
    total = dilation * (k - 1)
    before, after = total // 2, total - total // 2
    if padding_mode == "zeros":
        x = F.pad(x, (before, after, before, after))
    else:
        x = F.pad(x, (before, after, before, after), mode=padding_mode)
    return F.conv2d(x, weight, bias, stride=stride, dilation=dilation)


class Conv(torch.nn.Module):
    """A 2-D convolution with "same" padding in one of ``PADDING_MODES``, optional stride and dilation.

    >>> conv = Conv(1, 2, 3, padding_mode="zeros", stride=2)
    >>> conv(torch.zeros(1, 1, 8, 8)).shape
    torch.Size([1, 2, 4, 4])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, *, padding_mode="circular", stride=1, dilation=1,
                 bias=True, seed=0):
        super().__init__()
        positive_int("in_channels", in_channels)
        positive_int("out_channels", out_channels)
        positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride)
        self.dilation = positive_int("dilation", dilation)
        self.padding_mode = one_of("padding_mode", padding_mode, PADDING_MODES)
        # constructor arguments kept under their own names (as torch's layers do): reproductions rebuild from them
        self.in_channels, self.out_channels, self.kernel_size, self.seed = in_channels, out_channels, kernel_size, seed
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        integer_init_(self, seed)

    def forward(self, x):
        check_input(x, type(self).__name__, channels=self.in_channels, divisible_by=self.stride)
        return padded_conv2d(x, self.weight, self.bias, stride=self.stride, dilation=self.dilation,
                             padding_mode=self.padding_mode)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.weight.shape[0]}, kernel_size={self.weight.shape[-1]}, "
                f"padding_mode={self.padding_mode!r}, stride={self.stride}, dilation={self.dilation}")


def circulant_matrix(first_column):
    """The n×n matrix C with C[i, j] = c[(i − j) mod n]: multiplication by it is a circular convolution.

    >>> circulant_matrix(torch.tensor([1, 2, 3])).tolist()
    [[1, 3, 2], [2, 1, 3], [3, 2, 1]]
    """
    n = first_column.shape[-1]
    index = (torch.arange(n).view(-1, 1) - torch.arange(n).view(1, -1)) % n
    return first_column[index]


class CirculantLinear(torch.nn.Module):
    """A dense layer on (N, 1, L) signals whose weight is circulant: exactly a circular convolution.

    >>> layer = CirculantLinear(5)
    >>> torch.equal(layer.matrix()[1], torch.roll(layer.matrix()[0], 1))
    True
    """

    def __init__(self, length, *, seed=0):
        super().__init__()
        self.length = positive_int("length", length, 2)
        self.column = torch.nn.Parameter(torch.empty(length))
        integer_init_(self, seed)

    def matrix(self):
        return circulant_matrix(self.column)

    def forward(self, x):
        check_input(x, "CirculantLinear", rank=3, channels=1)
        if x.shape[-1] != self.length:
            raise ValueError(f"CirculantLinear expects length {self.length}, got shape {tuple(x.shape)}")
        return torch.einsum("ij,ncj->nci", self.matrix(), x)


class DenseLinear(torch.nn.Module):
    """A plain dense layer on (N, 1, L) signals: it could represent a convolution, but nothing forces it to.

    >>> DenseLinear(4)(torch.zeros(2, 1, 4)).shape
    torch.Size([2, 1, 4])
    """

    def __init__(self, length, *, seed=0):
        super().__init__()
        self.length = positive_int("length", length, 2)
        self.weight = torch.nn.Parameter(torch.empty(length, length))
        integer_init_(self, seed)

    def forward(self, x):
        check_input(x, "DenseLinear", rank=3, channels=1)
        if x.shape[-1] != self.length:
            raise ValueError(f"DenseLinear expects length {self.length}, got shape {tuple(x.shape)}")
        return torch.einsum("ij,ncj->nci", self.weight, x)


class CoordConv(torch.nn.Module):
    """A circular convolution that also sees two coordinate channels (row and column index).

    >>> CoordConv(1, 2)(torch.zeros(1, 1, 5, 5)).shape
    torch.Size([1, 2, 5, 5])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, *, seed=0):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels, self.kernel_size, self.seed = out_channels, kernel_size, seed
        self.conv = Conv(in_channels + 2, out_channels, kernel_size, padding_mode="circular", seed=seed)

    def forward(self, x):
        check_input(x, "CoordConv", channels=self.in_channels)
        n, _, h, w = x.shape
        rows = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, h, 1).expand(n, 1, h, w)
        cols = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, 1, w).expand(n, 1, h, w)
        return self.conv(torch.cat([x, rows, cols], dim=1))
