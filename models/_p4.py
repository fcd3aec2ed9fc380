"""P4 group convolutions (Cohen & Welling 2016): equivariance to rot90 built into the weights.

Feature maps carry 4 orientation channels per field, laid out as (C, 4).
Rotating the input by rot90^k rotates every map and cycles the orientation
channels by k — the regular representation of C4 (proofs: rot90_conv).
Pooling over the orientations gives plain rot90-equivariant maps, and a
global pooling after that gives rot90-invariant features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._common import InvalidHyperparameter, check_input, integer_init_, one_of, positive_int


def _same_padding(x, kernel_size, padding_mode):
    pad = (kernel_size - 1) // 2
    if padding_mode == "zeros":
        return F.pad(x, (pad,) * 4)
    return F.pad(x, (pad,) * 4, mode=padding_mode)


def _check_odd(kernel_size):
    if kernel_size % 2 == 0:
        raise InvalidHyperparameter(
            f"kernel_size={kernel_size} must be odd: an even kernel has no centre pixel, so rotating it moves it"
        )


class P4Lifting(torch.nn.Module):
    """Lifting convolution Z² -> P4: correlate with the 4 rotations of each filter.

    >>> layer = P4Lifting(1, 2)
    >>> layer(torch.zeros(1, 1, 5, 5)).shape  # 2 fields × 4 orientations
    torch.Size([1, 8, 5, 5])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, *, stride=1, padding_mode="circular", seed=0):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels, self.seed = positive_int("out_channels", out_channels), seed
        self.kernel_size = positive_int("kernel_size", kernel_size)
        _check_odd(kernel_size)
        self.stride = positive_int("stride", stride)
        self.padding_mode = one_of("padding_mode", padding_mode, ("circular", "zeros"))
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        integer_init_(self, seed)

    def filters(self):
        """The (out·4, in, k, k) filter bank: orientation r is the filter rotated by r quarter turns."""
        rotated = torch.stack([torch.rot90(self.weight, r, (-2, -1)) for r in range(4)], dim=1)
        return rotated.flatten(0, 1)

    def forward(self, x):
        check_input(x, "P4Lifting", channels=self.in_channels, square=True, odd=self.stride > 1)
        return F.conv2d(_same_padding(x, self.kernel_size, self.padding_mode), self.filters(), stride=self.stride)


class P4GroupConv(torch.nn.Module):
    """Group convolution P4 -> P4: filters indexed by orientation, rotated and cycled for each output orientation.

    >>> P4GroupConv(2, 3)(torch.zeros(1, 8, 5, 5)).shape
    torch.Size([1, 12, 5, 5])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, *, padding_mode="circular", seed=1):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels, self.seed = positive_int("out_channels", out_channels), seed
        self.kernel_size = positive_int("kernel_size", kernel_size)
        _check_odd(kernel_size)
        self.padding_mode = one_of("padding_mode", padding_mode, ("circular", "zeros"))
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels, 4, kernel_size, kernel_size))
        integer_init_(self, seed)

    def filters(self):
        """(out·4, in·4, k, k): for output orientation r, rotate by r and cycle the input orientations by r."""
        banks = [torch.rot90(torch.roll(self.weight, r, dims=2), r, (-2, -1)) for r in range(4)]
        return torch.stack(banks, dim=1).flatten(0, 1).flatten(1, 2)

    def forward(self, x):
        check_input(x, "P4GroupConv", channels=self.in_channels * 4, square=True)
        return F.conv2d(_same_padding(x, self.kernel_size, self.padding_mode), self.filters())


class OrientationPool(torch.nn.Module):
    """Max over the 4 orientation channels of each field: (N, C·4, H, W) -> (N, C, H, W).

    >>> OrientationPool()(torch.arange(8.).view(1, 8, 1, 1)).flatten().tolist()
    [3.0, 7.0]
    """

    def forward(self, x):
        check_input(x, "OrientationPool")
        if x.shape[1] % 4:
            raise ValueError(f"OrientationPool expects C·4 channels (fields × 4 orientations), got {x.shape[1]}")
        return x.view(x.shape[0], x.shape[1] // 4, 4, *x.shape[2:]).amax(dim=2)
