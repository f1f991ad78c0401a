"""Progress of long commands: Rich bars for the build's stages, one bar per stage advanced as its
batches finish, after a spinner naming each step of its start-up; a rows bar for those that score a
file (audit, eval-detector, rewrite); a line per step for commands whose steps each take one pass
(release, verify, export-vlsbench), with a rows bar within a step that works through the pairs in slices.
Bars and spinner are drawn at a terminal, and in a Jupyter kernel that has ipywidgets (Rich's way to draw
there); elsewhere (a pipe, a log) there are none."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, Task, TaskID, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text


class EtaColumn(TimeRemainingColumn):
    """"eta 0:03:10" while a bar runs: blank until Rich has a rate (two steps within its window; a
    "-:--:--" only looks stuck) and once the bar is done. A second clock without its word would read
    as the elapsed one."""

    def render(self, task: Task) -> Text:
        if task.finished or task.time_remaining is None:
            return Text("")
        return Text("eta ", style="progress.remaining") + super().render(task)


def started(progress: Progress) -> None:
    """`progress` started. A Ctrl-C that lands while Rich starts it (after its first draw, while its
    refresh thread starts) stops it again: left running, that thread drew the bars again under the
    command's last line ("interrupted; ..."), and stderr stayed redirected into them."""
    try:
        progress.start()
    except BaseException:
        progress.stop()
        raise


NOTEBOOK_HINT = ("leakless: no progress bars in this notebook: they need ipywidgets "
                 "(pip install 'leakless[notebook]', or pip install ipywidgets, then restart the kernel)")
_hinted = False  # NOTEBOOK_HINT said in this process: once, not per bar or per build


def draws_live(console: Console, enabled: bool = True) -> bool:
    """Whether bars (or a spinner) are drawn on `console`: at a terminal, or in a Jupyter kernel where
    Rich can draw them. There it draws through an ipywidgets Output; without ipywidgets Rich warns
    on each refresh and draws nothing, so the bars stay off and one line says how to get them
    (a kernel showed nothing for the minutes of a build)."""
    if not enabled:
        return False
    if console.is_terminal:
        return True
    return console.is_jupyter and _has_ipywidgets()


def _has_ipywidgets() -> bool:
    global _hinted
    try:
        import_module("ipywidgets")
        return True
    except ImportError:
        if not _hinted:
            _hinted = True
            print(NOTEBOOK_HINT, file=sys.stderr, flush=True)
        return False


class StageProgress:
    """Bars on stderr, and only at a terminal (or in a notebook, `draws_live`): stdout holds a command's
    results alone (`> report.txt` keeps no bars, nor half-drawn ones after a Ctrl-C), and a log or pipe
    gets no bars it cannot draw. Whatever is printed to stdout meanwhile stays on stdout."""

    def __init__(self, stages: tuple[str, ...], total: int, enabled: bool = True, unit: str = "seeds"):
        errors = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(unit), TimeElapsedColumn(), EtaColumn(), console=errors,
                                 redirect_stdout=False, disable=not draws_live(errors, enabled))
        self.tasks = {stage: self.progress.add_task(stage, total=total) for stage in stages}

    def __enter__(self) -> StageProgress:
        end_start_up()  # two live displays on one terminal would draw over each other
        started(self.progress)
        return self

    def __exit__(self, *exc) -> None:
        if self.progress.console.is_jupyter:
            # Rich's Live draws its last state when it stops, except in Jupyter, where the bars
            # stayed one refresh behind: a finished build's last stage read 0/1.
            self.progress.refresh()
        self.progress.stop()

    def advance(self, stage: str, amount: int) -> None:
        self.progress.advance(self.tasks[stage], amount)

    def set_total(self, stage: str, total: int) -> None:
        """Once the work is known: `eval-detector` leaves repeats and fitting rows out after reading."""
        self.progress.update(self.tasks[stage], total=total)


class StartUp:
    """A spinner on stderr naming the start-up step under way, with its time so far ("build: loading the
    models 0:00:12"): before its bars a build loads its models and waits for Prefect's server and flow,
    about 20 s that showed nothing. At a terminal only, as the bars: a log or CI gets no line. It clears
    itself when the bars start (`StageProgress`) or the block ends; what is written to stderr meanwhile
    (a note, an error's line) is printed above it."""

    def __init__(self, command: str, enabled: bool = True):
        errors = Console(stderr=True)
        self.command = command
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=errors, transient=True, redirect_stdout=False,
                                 disable=not draws_live(errors, enabled))
        self.task: TaskID | None = None

    def __enter__(self) -> StartUp:
        global _starting
        end_start_up()
        _starting = self
        started(self.progress)
        return self

    def __exit__(self, *exc) -> None:
        self.end()

    def __call__(self, step: str) -> None:
        """`step` from now on, its clock from 0."""
        description = f"{self.command}: {step}"
        if self.task is None:
            self.task = self.progress.add_task(description, total=None)
        else:
            self.progress.reset(self.task, total=None, description=description)

    def end(self) -> None:
        global _starting
        if _starting is self:
            _starting = None
            if (widget := self.progress.live.ipy_widget) is not None:
                # Jupyter: Rich closes a transient display's widget, but a saved notebook (and nbconvert)
                # keeps its last text, a spinner stopped at "starting ..." above the bars
                widget.clear_output()
            self.progress.stop()


_starting: StartUp | None = None  # the start-up shown, which the first bars end


def end_start_up() -> None:
    if _starting is not None:
        _starting.end()


Step = Callable[[str], None]
Advance = Callable[[int], None]


def no_steps(_step: str) -> None:
    pass


def no_advance(_done: int) -> None:
    pass


def in_slices(work: Callable[[list], list], items: list, size: int, advance: Advance) -> list:
    """`work`'s results for `items`, `size` items per call, `advance` told after each: a bar moves as
    the items are done, at no more cost per item than one call for all."""
    results: list = []
    for start in range(0, len(items), size):
        part = items[start:start + size]
        results += work(part)
        advance(len(part))
    return results


class StepLines:
    """Says each step on stderr as it starts, at the seconds since the command started ("at 21 s": a
    step's own time read as the gap to the next line): a release or a verify of a few thousand pairs
    runs for minutes, and was silent until its last line. Within a step that works through pairs
    in slices (`counted_step`), a rows bar too, at a terminal only: the lines stay as they were for logs."""

    def __init__(self, command: str):
        self.command = command
        self.started = time.monotonic()

    def __call__(self, step: str) -> None:
        print(f"{self.command}: {step} (at {time.monotonic() - self.started:.0f} s)", file=sys.stderr, flush=True)

    @contextmanager
    def counted(self, step: str, total: int, label: str) -> Iterator[Advance]:
        self(step)
        with StageProgress((label,), total, unit="pairs") as bar:
            yield lambda done: bar.advance(label, done)


def step_lines(command: str) -> StepLines:
    return StepLines(command)


@contextmanager
def counted_step(on_step: Step, step: str, total: int, label: str) -> Iterator[Advance]:
    """Says `step` to `on_step`, and yields what to tell of each slice of its `total` pairs done: a bar
    labelled `label` where `on_step` draws one (`StepLines`), else nothing (a caller's own hook, a test's
    list.append, hears the step alone)."""
    counted = getattr(on_step, "counted", None)
    if counted is None:
        on_step(step)
        yield no_advance
        return
    with counted(step, total, label) as advance:
        yield advance
