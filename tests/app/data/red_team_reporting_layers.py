"""Layers for tests/app/test_red_team_reporting.py: small, deterministic, with verdicts computed by hand."""

import torch


class SymConv(torch.nn.Module):
    """Circular 3×3 conv, 1 -> 4 channels; every kernel is rot90-symmetric, each with another centre weight.

    rot90-equivariant (plain: the output rotates, channels stay) holds exactly; rot90-equivariant with the
    regular representation (channels cycle) does not, since the four channels differ."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            for c in range(4):
                self.conv.weight[c, 0] = torch.tensor([[0.0, 1, 0], [1, 2 + c, 1], [0, 1, 0]])

    def forward(self, x):
        return self.conv(x)


class Leaky(torch.nn.Module):
    """Zero-padded conv + global max: not translation-invariant (the border leaks position)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x).amax(dim=(-2, -1))


class Circular(torch.nn.Module):
    """Circular conv + global max: translation-invariant."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return self.conv(x).amax(dim=(-2, -1))


class Recip(torch.nn.Module):
    """1 / (x - x[0, 0]): infinite wherever a pixel equals the corner (the corner itself always)."""

    def forward(self, x):
        return 1.0 / (x - x[..., :1, :1])


def recip_tanh():
    """tanh(1 / (x - x[0, 0])): finite output, not translation-equivariant; its first layer's activations hold inf."""
    return torch.nn.Sequential(Recip(), torch.nn.Tanh())


class GlobalAverage(torch.nn.Module):
    """Mean over the spatial axes: (N, C, H, W) -> (N, C); rot90-invariant, channels stay in place."""

    def forward(self, x):
        return x.mean(dim=(-2, -1))


class SameConv(torch.nn.Module):
    """Zero-padded 3×3 conv, same size out (interior-equivariant, margin 1)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class ImageWithoutChannels(torch.nn.Module):
    """(N, H, W) -> (N, H, W): a circular conv then a zero-padded one (`body.1`, which breaks translation)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
                                        torch.nn.Conv2d(2, 1, 3, padding=1))

    def forward(self, x):
        return self.body(x[:, None])[:, 0]


class RaisesWithUndecodableBytes(torch.nn.Module):
    """Raises an error whose message holds bytes that are not UTF-8 (a surrogate-escaped file name, say)."""

    def forward(self, x):
        raise RuntimeError("cannot open " + b"data-\xff.bin".decode("utf-8", "surrogateescape"))
