"""Training: deterministic for a seed, isolated from the caller's random state.

Every network is built and trained inside ``torch.random.fork_rng`` after
``torch.manual_seed(seed)``; mini-batch order and augmentation draw from a
generator of their own, seeded from the same seed.  With the thread count
fixed (the runner sets it), two runs with one seed give the same weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Schedule:
    """How long and how fast to train: Adam, cross-entropy (or mean squared error for regressions)."""

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Inside: torch's global generator seeded with ``seed`` (for initialisation); yields a generator for data
    order and augmentation.  After: the caller's random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed + 10_007)


def build(factory: Callable[[], torch.nn.Module], seed: int) -> torch.nn.Module:
    """``factory()`` with its initialisation drawn from ``seed``."""
    with seeded(seed):
        return factory()


def train_classifier(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, seed: int, schedule: Schedule,
                     augment: Augment | None = None) -> torch.nn.Module:
    """Train ``model`` in place on (x, y) with mini-batches in a seeded order, ``augment`` applied per batch.

    >>> from convnet_invariances.app.lab._networks import MLP
    >>> x, y = torch.randn(32, 1, 4, 4), torch.randint(0, 2, (32,))
    >>> a = train_classifier(build(lambda: MLP(4, 8, classes=2), 0), x, y, seed=1, schedule=Schedule(epochs=2))
    >>> b = train_classifier(build(lambda: MLP(4, 8, classes=2), 0), x, y, seed=1, schedule=Schedule(epochs=2))
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """
    with seeded(seed) as generator:
        optimiser = torch.optim.Adam(model.parameters(), lr=schedule.learning_rate)
        model.train()
        for _ in range(schedule.epochs):
            order = torch.randperm(x.shape[0], generator=generator)
            for start in range(0, x.shape[0], schedule.batch_size):
                index = order[start:start + schedule.batch_size]
                batch = x[index] if augment is None else augment(x[index], generator)
                loss = torch.nn.functional.cross_entropy(model(batch), y[index])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
        model.eval()
    return model


def train_regression(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, *, seed: int,
                     steps: int, learning_rate: float = 1e-2) -> float:
    """Full-batch Adam on the mean squared error between ``model(x)`` and ``target``; returns the final loss."""
    with seeded(seed):
        optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
        for _ in range(steps):
            loss = torch.nn.functional.mse_loss(model(x), target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    return float(loss.detach())


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Share of ``x`` classified as ``y``."""
    with torch.inference_mode():
        right = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                    for i in range(0, x.shape[0], batch_size))
    return right / max(1, x.shape[0])
