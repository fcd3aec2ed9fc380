"""The lab's settings (full or quick), its unit of work, and the data each worker process loads once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from ._data import Digits, load_digits
from ._train import Schedule


@dataclass(frozen=True)
class Settings:
    """What one run of the lab does: seeds, how much data and training, how many images each measure sees."""

    quick: bool = False
    seeds: tuple[int, ...] = (0, 1, 2)
    #: training and test images (None: the whole split, 1,198 and 599)
    train_images: int | None = None
    test_images: int | None = None
    #: images per orbit check and Lie derivative, and per worst case over all 256 shifts (orbits multiply them)
    eval_images: int = 32
    orbit_images: int = 64
    schedule: Schedule = field(default_factory=lambda: Schedule(epochs=20, batch_size=32, learning_rate=3e-3))
    #: gradient steps of the dense-layer regressions
    regression_steps: int = 1000

    @classmethod
    def full(cls, seeds: int = 3) -> Settings:
        """The full lab: every experiment's whole sweep on all the data."""
        return cls(seeds=tuple(range(seeds)))

    @classmethod
    def fast(cls, seeds: int = 3) -> Settings:
        """``--quick``: fewer images, shorter training, smaller sweeps — the same code paths, minutes less."""
        return cls(quick=True, seeds=tuple(range(seeds)), train_images=500, test_images=200, eval_images=16, orbit_images=32,
                   schedule=Schedule(epochs=8, batch_size=32, learning_rate=3e-3), regression_steps=400)

    def describe(self) -> str:
        s = self.schedule
        return (f"{'quick' if self.quick else 'full'} run, seeds {list(self.seeds)}; training on "
                f"{self.train_images or 'all'} images for {s.epochs} epochs (Adam, learning rate {s.learning_rate:g}, "
                f"batch {s.batch_size}); {self.test_images or 'all'} test images; {self.eval_images} images per orbit "
                f"check and Lie derivative, {self.orbit_images} per worst case over all shifts; {self.regression_steps} full-batch steps per dense regression")


@functools.lru_cache(maxsize=4)
def digits(train_images: int | None, test_images: int | None) -> Digits:
    """The digits split, cut to the settings' sizes; loaded once per process."""
    data = load_digits()
    return data.subset(train_images or len(data.train_y), test_images or len(data.test_y))


def data_for(settings: Settings) -> Digits:
    return digits(settings.train_images, settings.test_images)


@dataclass(frozen=True)
class Task:
    """One unit of work: ``function(settings, seed, **params)`` returns a dict of measured values for one variant
    and one seed.  Module-level functions and plain parameters, so a task can run in a worker process."""

    experiment: str
    variant: str
    seed: int
    function: Callable[..., dict]
    params: tuple = ()
    #: rough relative cost, for the remaining-time estimate of the progress bar
    cost: int = 1

    def run(self, settings: Settings) -> dict:
        return self.function(settings, self.seed, **dict(self.params))
