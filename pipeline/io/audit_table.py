"""`leakless audit`'s output, streamed: the scored rows as Parquet row groups, the rejects as JSON lines.

The columns are generic over `LeakScore`: every field becomes a column (typed from
its annotation), then `reason` (the verdict's reason code at the audit's threshold; a row
outside the detector's scope, `english` false, has its scores but no `leak` or `reason`),
`signals` spread out as `signal_<name>` columns, so fields the
detector gains reach the output without a change here. `score` keeps its
historical column name `leak_score`. Rows of a dataset folder have a `file` column after
`position`: the shard the row is in, its position counted in it. Each row's `guardrail` is the hard-block rule its texts
break (null when none) and `guardrail_match` what matched, masked as the guardrail masks it.
Both files are written beside their targets and renamed onto them only when the whole audit
succeeded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.detect import LeakScore
from pipeline.guardrails import GuardHit
from pipeline.io.external import BenchmarkRow, Reject
from pipeline.storage import atomic_path

RENAMED = {"score": "leak_score"}
ROW_COLUMNS = pa.schema([("id", pa.string()), ("position", pa.int64()), ("category", pa.string()),
                         ("sub_category", pa.string()), ("query", pa.string()), ("text_only", pa.bool_()),
                         ("guardrail", pa.string()), ("guardrail_match", pa.string())])
PLAIN_TYPES = {float: pa.float64(), bool: pa.bool_(), int: pa.int64(), str: pa.string()}


def _arrow_type(annotation) -> pa.DataType:
    """float, bool, int, str, X | None and tuple[str, ...] as Arrow types; anything else as text."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return _arrow_type(arguments[0]) if len(arguments) == 1 else pa.string()
    if typing.get_origin(annotation) in (tuple, list):
        return pa.list_(_arrow_type(arguments[0]) if arguments else pa.string())
    return PLAIN_TYPES.get(annotation, pa.string())


def score_fields(score_type: type = LeakScore) -> list[tuple[str, str, pa.DataType]]:
    """(field, column name, Arrow type) for every field of the detector's score but `signals`."""
    hints = typing.get_type_hints(score_type)
    return [(field.name, RENAMED.get(field.name, field.name), _arrow_type(hints[field.name]))
            for field in dataclasses.fields(score_type) if field.name != "signals"]


class AuditTableWriter:
    """Use as a context manager; `write` each chunk. The table is left out when no row was
    written (there is nothing to audit); the rejects file is always written."""

    def __init__(self, out: Path, rejects: Path, metadata: dict[str, str], threshold: float):
        """`threshold` decides each row's `reason` column: the reason code of its verdict."""
        self.out, self.rejects, self.threshold = Path(out), Path(rejects), threshold
        # encoded now, before any row is scored: a value that could not be would fail only at the first write
        self.metadata = {f"leakless.{key}".encode(): utf8(value) for key, value in metadata.items()}
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> AuditTableWriter:
        self._stack = ExitStack()
        self._rejects_handle = self._stack.enter_context(
            self._stack.enter_context(atomic_path(self.rejects)).open("w", encoding="utf-8"))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)

    def write(self, rows: list[BenchmarkRow], scores: list[LeakScore], rejects: list[Reject],
              hits: list[GuardHit | None]) -> None:
        """`hits`: the hard-block rule each row breaks (its `GuardHit`), or None."""
        for reject in rejects:
            self._rejects_handle.write(reject.json_line())
        if not rows:
            return
        table = self._table(rows, scores, hits)
        if self._writer is None:
            # a file, not its path: pyarrow takes paths as UTF-8, which a file name need not be
            handle = self._stack.enter_context(self._stack.enter_context(atomic_path(self.out)).open("wb"))
            self._writer = pq.ParquetWriter(handle, table.schema)
            self._stack.callback(self._writer.close)  # the footer, before the rename
        self._writer.write_table(table)  # one row group per chunk

    def _table(self, rows: list[BenchmarkRow], scores: list[LeakScore], hits: list[GuardHit | None]) -> pa.Table:
        fields = score_fields(type(scores[0]))
        if self._writer is not None:
            schema = self._writer.schema
        else:  # the signal names are the detector's: taken from its first scores
            signals = [(f"signal_{name}", pa.float64()) for name in scores[0].signals]
            shard = [("file", pa.string())] if rows[0].position.file else []  # a folder's rows name their shard
            schema = pa.schema([*list(ROW_COLUMNS)[:2], *shard, *list(ROW_COLUMNS)[2:], *[(column, kind) for _, column, kind in fields],
                                ("reason", pa.string()), *signals],
                               metadata=self.metadata)
        columns = {
            "id": [r.id for r in rows], "position": [r.position.number for r in rows],
            "file": [r.position.file for r in rows],
            "category": [r.category for r in rows], "sub_category": [r.sub_category for r in rows],
            "query": [r.query for r in rows], "text_only": [r.text_only for r in rows],
            "guardrail": [hit.rule if hit else None for hit in hits],
            "guardrail_match": [hit.matched if hit else None for hit in hits],
            **{column: [_plain(getattr(s, field)) for s in scores] for field, column, _ in fields},
            "reason": [s.reason(self.threshold) if in_scope(s) else None for s in scores],
            **{f"signal_{name}": [s.signals.get(name) for s in scores] for name in scores[0].signals},
        }
        if "leak" in columns:  # outside the detector's scope there is no verdict, as in the summary's rates
            columns["leak"] = [s.leak if in_scope(s) else None for s in scores]
        return pa.Table.from_pydict({name: columns[name] for name in schema.names}, schema=schema)


def utf8(text: str) -> bytes:
    """`text` as UTF-8, a file name that is not (held with surrogate escapes) included: its bytes that
    are UTF-8 (a name read in the C locale) as letters, the others (a Latin-1 name) as `\\xe9`."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").encode("utf-8")


def in_scope(score) -> bool:
    return getattr(score, "english", True)  # a score without the field claims no scope


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
