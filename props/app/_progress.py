"""Progress bars for long work, drawn by rich on stderr; the library reports progress through callbacks.

``progress_bar(label)`` yields a callback ``progress(done, total)`` of the
kind the library's long functions accept.  The bar advances when work is
reported done (never before), and its remaining-time estimate is rich's, from
the rate of completed work.  When stderr is not a terminal (CI logs, pipes) the
bar stays silent unless asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextlib.contextmanager
def progress_bar(label: str, *, enabled: bool | None = None) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback that draws one bar labelled ``label`` while the block runs.

    >>> with progress_bar("checking", enabled=False) as progress:
    ...     progress(3, 10)
    """
    console = Console(stderr=True)
    enabled = console.is_terminal if enabled is None else enabled
    if not enabled:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress
