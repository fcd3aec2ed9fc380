"""Running the lab: every experiment's tasks (in worker processes when ``jobs`` > 1), then answers, figures, files."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from types import ModuleType

import torch

from ..._errors import InvalidArgument, describe_value
from . import _architecture, _augmentation, _dense_conv, _figures, _multiresolution, _width
from ._report import to_markdown, write
from ._settings import Settings, Task

#: the experiments in the order the report gives them
EXPERIMENTS: dict[str, ModuleType] = {
    "augmentation": _augmentation,
    "width": _width,
    "dense_learns_conv": _dense_conv,
    "multiresolution": _multiresolution,
    "architecture": _architecture,
}
FIGURES: dict[str, Callable[[dict], dict[str, bytes]]] = {
    "augmentation": _figures.augmentation,
    "width": _figures.width,
    "dense_learns_conv": _figures.dense_learns_conv,
    "multiresolution": _figures.multiresolution,
    "architecture": _figures.architecture,
}
#: one thread per process: the results do not depend on the machine's core count, and two processes on two
#: cores beat one process with two threads for networks this small (measured under load: 3–30× less wall time)
THREADS = 1

ProgressFactory = Callable[[str], contextlib.AbstractContextManager[Callable[[int, int], None]]]


@contextlib.contextmanager
def _no_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    yield lambda done, total: None


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _worker_init() -> None:
    torch.set_num_threads(THREADS)


def _run_task(task: Task, settings: Settings) -> dict:
    return task.run(settings)


def validate(experiments, jobs, seeds) -> list[str]:
    """The experiments to run, in report order; raises InvalidArgument naming a bad argument."""
    if experiments is None:
        chosen = list(EXPERIMENTS)
    else:
        if isinstance(experiments, str) or not all(isinstance(e, str) for e in experiments):
            raise InvalidArgument(f"experiments={describe_value(experiments)} must be a list of names from "
                                  f"{', '.join(EXPERIMENTS)}")
        unknown = [e for e in experiments if e not in EXPERIMENTS]
        if unknown:
            raise InvalidArgument(f"experiments={list(experiments)!r}: unknown {unknown[0]!r}; choose from "
                                  f"{', '.join(EXPERIMENTS)}")
        if not experiments:
            raise InvalidArgument("experiments=[] names no experiment; leave it out to run all five")
        chosen = [e for e in EXPERIMENTS if e in experiments]
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InvalidArgument(f"jobs={jobs!r} must be a positive int (worker processes)")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise InvalidArgument(f"seeds={seeds!r} must be a positive int (the number of seeds, 3 or more for an "
                              f"interval worth reading)")
    return chosen


def run_lab(out: str | Path, *, quick: bool = False, seeds: int = 3, experiments: Sequence[str] | None = None,
            jobs: int = 1, progress: ProgressFactory | None = None, command: str = "invariances lab") -> dict:
    """Run the experiments, write ``out``/results.json, report.md and the figures; return the results.

    ``results[name]`` is ``{"question", "answer", "metrics"}``.  ``jobs`` worker processes share the tasks
    (trainings with their measurements); the numbers do not depend on it.  ``progress(label)`` makes a context
    manager yielding a ``progress(done, total)`` callback, one per experiment.
    """
    chosen = validate(experiments, jobs, seeds)
    settings = Settings.fast(seeds) if quick else Settings.full(seeds)
    progress = progress or _no_progress
    out = Path(out)
    results: dict = {}
    figures: dict[str, bytes] = {}
    names: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(_threads(THREADS))
        pool = None
        if jobs > 1:
            pool = stack.enter_context(ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                                           initializer=_worker_init))
        for name in chosen:
            module = EXPERIMENTS[name]
            start = time.perf_counter()
            tasks = module.tasks(settings)
            with progress(f"{name} ({len(tasks)} trainings)") as report:
                outputs = _run_all(tasks, settings, pool, report)
            rows: dict[str, list[dict]] = {}
            for task, output in zip(tasks, outputs):
                rows.setdefault(task.variant, []).append(output)
            metrics = module.summarise(rows)
            seconds[name] = time.perf_counter() - start
            metrics["interval"] = "95% t-interval over seeds"
            results[name] = {"question": module.QUESTION, "answer": module.answer(metrics), "metrics": metrics}
            drawn = FIGURES[name](metrics)
            figures.update(drawn)
            names[name] = list(drawn)
    markdown = to_markdown(results, settings.describe(), command, names, seconds)
    write(out, results, markdown, figures)
    return results


def _run_all(tasks: list[Task], settings: Settings, pool, report) -> list[dict]:
    total = sum(t.cost for t in tasks)
    done = 0
    report(0, total)
    if pool is None:
        outputs = []
        for task in tasks:
            outputs.append(task.run(settings))
            done += task.cost
            report(done, total)
        return outputs
    # the costliest first, so the last tasks to finish are short ones
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)
    futures = {pool.submit(_run_task, tasks[i], settings): i for i in order}
    outputs_by_index = {}
    for future in as_completed(futures):
        i = futures[future]
        outputs_by_index[i] = future.result()
        done += tasks[i].cost
        report(done, total)
    return [outputs_by_index[i] for i in range(len(tasks))]
