"""`evaluate` checkpoints every batch_size answered pairs: that needs each result as it comes, also in the
last window of pairs (a release smaller than one window was written only once every pair was answered)."""

from __future__ import annotations

import asyncio

from pipeline.evaluate.runner import stream


def test_results_come_as_they_finish_within_the_last_window():
    finished: set[int] = set()
    seen_while_others_ran: list[tuple[int, set[int]]] = []

    async def work(item: int) -> int:
        await asyncio.sleep(0.01 if item == 0 else 0.3)
        finished.add(item)
        return item

    def on_result(item: int) -> None:
        seen_while_others_ran.append((item, set(finished)))

    asyncio.run(stream(range(3), work, window=10, on_result=on_result))
    first, done_then = seen_while_others_ran[0]
    assert first == 0 and done_then == {0}  # not held back until items 1 and 2 were answered too
    assert sorted(item for item, _ in seen_while_others_ran) == [0, 1, 2]
