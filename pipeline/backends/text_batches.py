"""What the two MiniLM encoders (the embedder and the detector's adapter copy) share: texts
grouped by token count, so none is padded, and a bounded cache of recent results, since stages
read the same texts again (a query in the leak filter and in the harm check)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Result = TypeVar("Result")


def by_token_count(token_ids: Sequence[Sequence[int]]) -> list[list[int]]:
    """Indices of the texts whose token ids these are, grouped by token count, in first-seen order."""
    groups: dict[int, list[int]] = {}
    for index, tokens in enumerate(token_ids):
        groups.setdefault(len(tokens), []).append(index)
    return list(groups.values())


class RecentResults(Generic[Result]):
    """The results of the `size` texts read most recently. Not thread-safe: callers hold their lock."""

    def __init__(self, size: int):
        self.size = size
        self._results: OrderedDict[str, Result] = OrderedDict()

    def get(self, texts: list[str], compute: Callable[[list[str]], list[Result]]) -> list[Result]:
        """Each text's result, computing the missing ones in one call (each distinct text once)."""
        missing = [text for text in dict.fromkeys(texts) if text not in self._results]
        if missing:
            self._results.update(zip(missing, compute(missing)))
        found = [self._results[text] for text in texts]
        for text in texts:
            self._results.move_to_end(text)
        while len(self._results) > self.size:
            self._results.popitem(last=False)
        return found
