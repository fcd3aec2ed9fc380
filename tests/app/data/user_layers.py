"""Layers a user might audit from the command line (used by tests/test_cli.py)."""

import torch


class ShiftInvariantPool(torch.nn.Module):
    """Circular conv + global max: claims translation invariance, and has it."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return self.conv(x).amax(dim=(-2, -1))


class LeakyBorderPool(torch.nn.Module):
    """Zero-padded conv + global max: claims translation invariance, but the border leaks position."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x).amax(dim=(-2, -1))


def make_layer():
    """A zero-argument factory."""
    torch.manual_seed(0)
    return ShiftInvariantPool()


class Broken(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("this layer is broken")


class NeedsArguments(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
