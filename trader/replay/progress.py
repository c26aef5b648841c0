"""A rich progress bar on stderr for long replays; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LONG_RUN_EVENTS = 5000
"""Shorter replays finish before a bar would be worth drawing."""


@contextmanager
def progress_bar(
    total: int, description: str = "replay", *, enabled: bool | None = None
) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; draws a bar on stderr when it is a TTY and the run is long."""
    show = sys.stderr.isatty() and total >= LONG_RUN_EVENTS if enabled is None else enabled
    if not show:
        yield lambda _count: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)
