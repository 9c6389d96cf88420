"""A progress bar for batch runs, shown only on a terminal (rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(
    total: int, what: str, show: bool | None = None
) -> Iterator[Callable[[bool], None]]:
    """Yield ``advance(ok)``; draws a bar on stderr when it is a terminal (or ``show``)."""
    if show is None:
        show = sys.stderr.isatty()
    if not show or total == 0:
        yield lambda ok: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    failed = 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(what, total=total, failed="")

        def advance(ok: bool) -> None:
            nonlocal failed
            failed += 0 if ok else 1
            bar.update(task, advance=1, failed=f"[red]{failed} failed" if failed else "")

        yield advance
