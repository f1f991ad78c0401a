"""Rich progress bars for the long stages: one bar per stage, advanced as its batches finish."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class StageProgress:
    def __init__(self, stages: tuple[str, ...], total: int, enabled: bool = True, unit: str = "seeds"):
        self.enabled = enabled
        self.progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(unit), TimeElapsedColumn(), disable=not enabled)
        self.tasks = {stage: self.progress.add_task(stage, total=total) for stage in stages}

    def __enter__(self) -> StageProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def advance(self, stage: str, amount: int) -> None:
        self.progress.advance(self.tasks[stage], amount)
