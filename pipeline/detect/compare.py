"""Each row's scores (out of fold from `leakless eval-public --scores`, or of one labelled file from
`leakless eval-detector --scores`), and two such runs compared.

A change to the detector is judged by what it does to the same rows. Comparing two
tables of figures cannot say whether a move of 0.01 is more than the rows' own spread;
comparing two scorings row by row can: `compare` gives each source's AUROC difference
with a paired bootstrap interval (`evaluate.paired_auroc_difference`).

The file holds ids, sources, labels and scores, never a row's text, so it can be kept
and shared beside a corpus whose licence forbids copying it. Its metadata names the
detector version and model that scored the rows, where the writer knew them
(`eval-detector --scores`): a model in bfloat16 moves scores by itself; and the input
file's name and sha256, the threshold and the date (`scored_input`): ids and labels
alone do not show that two files scored the same rows, as a file edited between two
runs keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.messages import first_few
from pipeline.detect.detector import LeakScore
from pipeline.detect.evaluate import paired_auroc_difference
from pipeline.hashing import sha256_file
from pipeline.io.external import BenchmarkRow
from pipeline.storage import atomic_path

POOLED = ("public, fitted sources pooled", "public, evaluation-only pooled", "team sets pooled")
METADATA_PREFIX = "leakless."


@dataclass(frozen=True)
class RowScores:
    ids: list[str]
    sources: list[str]
    fitted_on: np.ndarray               # False: an evaluation-only source, scored by the shipped readers
    labels: np.ndarray
    held_out_as_duplicate: np.ndarray   # repeats a fitting row: not scored, NaN below
    score: np.ndarray                   # the pair's score on the common scale
    text_harm: np.ndarray
    reveal: np.ndarray                  # NaN for a text-only row
    baseline: np.ndarray                # content-word overlap
    # "detector" (its version) and "model" (which names a precision other than float32), where known,
    # and what `scored_input` gives; kept as the file's metadata, not as a column
    made_by: dict[str, str] = field(default_factory=dict)

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "made_by"]

    def write(self, path: Path) -> None:
        table = pa.table({name: pa.array(getattr(self, name)) for name in self.columns()},
                         metadata={f"{METADATA_PREFIX}{key}": value for key, value in self.made_by.items()})
        with atomic_path(path) as temporary, temporary.open("wb") as handle:  # as read() takes any name
            pq.write_table(table, handle)

    @classmethod
    def of_file(cls, source: str, rows: list[BenchmarkRow], results: list[LeakScore],
                made_by: dict[str, str]) -> RowScores:
        """`eval-detector`'s scores of one labelled file: one source, nothing held out."""
        description = np.array([not row.text_only for row in rows])
        return cls(ids=[row.id for row in rows], sources=[source] * len(rows),
                   fitted_on=np.zeros(len(rows), dtype=bool), labels=np.array([row.label for row in rows]),
                   held_out_as_duplicate=np.zeros(len(rows), dtype=bool),
                   score=np.array([r.score for r in results]), text_harm=np.array([r.text_harm for r in results]),
                   reveal=np.array([r.reveal if r.reveal is not None else np.nan for r in results]),
                   baseline=np.where(description, [r.signals["word_overlap"] for r in results], 0.0),
                   made_by=made_by)

    @classmethod
    def read(cls, path: Path) -> RowScores:
        try:
            with Path(path).open("rb") as handle:  # pyarrow takes no path whose name is not UTF-8
                table = pq.read_table(handle)
        except (OSError, pa.ArrowInvalid) as error:
            raise ValueError(f"{path}: not a Parquet file of row scores ({error})") from error
        missing = [name for name in cls.columns() if name not in table.column_names]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}; write it with `leakless eval-public --scores` "
                             "or `leakless eval-detector --scores`")
        columns = table.to_pydict()
        metadata = {key.decode(): value.decode() for key, value in (table.schema.metadata or {}).items()}
        made_by = {key.removeprefix(METADATA_PREFIX): value for key, value in metadata.items()
                   if key.startswith(METADATA_PREFIX)}
        return cls(**{name: columns[name] if name in ("ids", "sources") else np.array(columns[name])
                      for name in cls.columns()}, made_by=made_by)


def scored_input(path: Path, threshold: float) -> dict[str, str]:
    """What ties a scores file to the file it scored and the settings: the input's name and sha256,
    the threshold the verdicts used and the date (UTC). `compare` refuses two files of different inputs."""
    return {"input": Path(path).name, "input_sha256": sha256_file(Path(path)), "threshold": f"{threshold:g}",
            "scored_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _described(scores: RowScores) -> str:
    sources = first_few(list(dict.fromkeys(scores.sources)))
    digest = scores.made_by.get("input_sha256")
    recorded = (f"{scores.made_by.get('input', '?')} (sha256 {digest[:12]}...)" if digest
                else "input not recorded")
    return f"{recorded}, source {sources}"


def refuse_different_inputs(before: RowScores, after: RowScores) -> None:
    """Equal ids and labels are not the same rows: an input edited between two runs keeps both. Two
    files that record their input's sha256 must record the same one; where either does not (written
    before it was recorded), their sources, the input's name, must at least agree."""
    digests = [scores.made_by.get("input_sha256") for scores in (before, after)]
    if None in digests:
        differ = list(dict.fromkeys(before.sources)) != list(dict.fromkeys(after.sources))
    else:
        differ = digests[0] != digests[1]
    if differ:
        raise ValueError(f"the two files score different inputs (before: {_described(before)}; after: "
                         f"{_described(after)}); compare runs over the same corpus, scored twice")


def input_warning(before: RowScores, after: RowScores) -> str | None:
    """A line for `eval-compare` where a file does not record its input's sha256 (written before it was
    recorded): a file edited between the runs cannot then be told apart."""
    unrecorded = [name for name, scores in (("before", before), ("after", after))
                  if "input_sha256" not in scores.made_by]
    if not unrecorded:
        return None
    which = "neither file records" if len(unrecorded) == 2 else f"the {unrecorded[0]} file does not record"
    return (f"warning: {which} its input's sha256 (written before score files recorded it): the same ids, labels "
            "and sources are taken as the same rows; score again to check")


def model_warning(before: RowScores, after: RowScores) -> str | None:
    """A line for `eval-compare` where the two files were scored by different models (one in bfloat16,
    say): the difference then holds the model's arithmetic as well as any change to the detector."""
    models = [scores.made_by.get("model", "not recorded") for scores in (before, after)]
    if models[0] == models[1]:
        return None
    return (f"warning: the two files were scored by different models ({models[0]} before, {models[1]} after); "
            "the differences include the model's own")


@dataclass(frozen=True)
class Comparison:
    group: str                  # a source, or one of POOLED
    leaky: int
    leakless: int
    versus_pooled: bool         # a one-label source, against every public leakless row (as eval-public)
    before: float
    after: float
    difference: float
    interval: tuple[float, float]


def _renamed_rows(before: list[str], after: list[str]) -> str:
    """A file scored before rows without an id were named by position ("line 3") gave them the bare number."""
    if len(before) != len(after):
        return ""
    renamed = [(old, new) for old, new in zip(before, after) if old != new]
    positional = ("line ", "row ")
    if renamed and all(new.startswith(positional) or old.startswith(positional) for old, new in renamed):
        old, new = renamed[0]
        return (f" ({len(renamed)} row(s) without an id are named otherwise, e.g. {old!r} and {new!r}: one file "
                "was scored before such rows were named 'line N' or 'row N'; score it again)")
    return ""


def compare(before: RowScores, after: RowScores, rounds: int = 2000) -> list[Comparison]:
    """Each source's and each pool's AUROC under both scorings of the same rows, with the paired
    interval of the difference. Rows either run left out as a duplicate are left out of both."""
    refuse_different_inputs(before, after)
    if before.ids != after.ids or not np.array_equal(before.labels, after.labels):
        raise ValueError("the two files score different rows or labels; compare runs over the same corpus"
                         + _renamed_rows(before.ids, after.ids))
    scored = ~np.isnan(before.score) & ~np.isnan(after.score)
    sources = np.array(before.sources)
    team = np.char.startswith(sources.astype(str), "team:")
    fitted = np.asarray(before.fitted_on, dtype=bool)
    labels = np.asarray(before.labels, dtype=int)
    public_leakless = scored & ~team & (labels == 0)
    groups = [(source, sources == source) for source in dict.fromkeys(before.sources)]
    # a pool of one source (a file from `eval-detector`) would only repeat it
    groups += [(name, members) for name, members in zip(POOLED, (~team & fitted, ~team & ~fitted, team))
               if len(set(sources[members])) > 1]
    comparisons = []
    for name, members in groups:
        rows = members & scored
        versus_pooled = bool(rows.any() and (labels[rows] == 1).all())
        if versus_pooled:
            rows = rows | public_leakless
        result = paired_auroc_difference(labels[rows], before.score[rows], after.score[rows], rounds=rounds)
        if result is None:
            continue
        auroc_before, auroc_after, low, high = result
        comparisons.append(Comparison(name, int((labels[rows] == 1).sum()), int((labels[rows] == 0).sum()),
                                      versus_pooled, auroc_before, auroc_after, auroc_after - auroc_before, (low, high)))
    if not comparisons:
        raise ValueError(f"nothing to compare: no source has two leaky and two leakless rows ({_label_counts(before)}), "
                         "and an AUROC needs both labels (a source of leaky rows alone is ranked against the "
                         "file's public leakless rows, and there are fewer than two)")
    return comparisons


def uncompared(before: RowScores, comparisons: list[Comparison]) -> list[str]:
    """The sources `compare` gave no AUROC: fewer than two rows of a label, even with a one-label
    source ranked against every public leakless row."""
    shown = {comparison.group for comparison in comparisons}
    return [source for source in dict.fromkeys(before.sources) if source not in shown]


def _label_counts(scores: RowScores) -> str:
    sources, labels = np.array(scores.sources), np.asarray(scores.labels, dtype=int)
    counts = [f"{source} {(labels[sources == source] == 1).sum()} leaky / {(labels[sources == source] == 0).sum()} "
              "leakless" for source in dict.fromkeys(scores.sources)]
    return first_few(counts)
