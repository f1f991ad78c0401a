"""Detector quality on a labelled file: AUROC with its bootstrap interval, precision, recall, FPR,
twin-pair win rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from pipeline.detect.corpus import match_key
from pipeline.detect.detector import LeakDetector, LeakInput, LeakScore
from pipeline.detect.fitting_keys import in_sample
from pipeline.io.external import BenchmarkRow, Reject, read_rows


@dataclass(frozen=True)
class DetectorReport:
    pairs: int
    leaky: int
    leakless: int
    threshold: float
    auroc: float | None           # None when the file holds one label only
    auroc_interval: tuple[float, float] | None   # 95% bootstrap interval; None below two rows of each label
    precision: float | None       # None when nothing was flagged
    recall: float | None          # None when the file has no leaky pair
    fpr: float | None             # None when the file has no leakless pair
    twin_pairs: int
    twin_win_rate: float | None   # share of (leaky, masked twin) pairs where the leaky one scores higher


class Unevaluable(ValueError):
    """Rows that give the detector nothing to be measured on, or twins that cannot be linked."""


RowPair = tuple[BenchmarkRow, BenchmarkRow]  # (the first row, the later one)


@dataclass(frozen=True)
class Repeats:
    """Rows that repeat another row of the file, or a row the detector was fitted on."""

    same_text: list[RowPair]     # same query, description and label: the later row left out
    same_id: list[RowPair]       # same id, other texts: both scored
    both_labels: list[RowPair]   # same query and description, other labels: both scored
    fitting: list[BenchmarkRow]  # normalised query equal to a fitting row's: in-sample
    fitting_kept: bool           # scored all the same (asked for), else left out
    near_fitting: list[tuple[BenchmarkRow, float]] = field(default_factory=list)  # (row, its nearest cosine)
    near_checked: bool = False   # the fitting texts were given, so near repeats were looked for
    fitting_checked: bool = True  # False: the fitting rows were unknown, so no row could be labelled in-sample

    @property
    def in_sample(self) -> int:
        return len(self.fitting) + len(self.near_fitting)


@dataclass(frozen=True)
class Evaluation:
    """What `eval-detector` reports: the detector's figures on the rows in its scope."""

    detector: LeakDetector
    rows: list[BenchmarkRow]  # in English, the detector's scope
    results: list[LeakScore]  # the detector's score of each
    report: DetectorReport
    not_english: int  # rows left out of the figures
    twins_linked: int  # rows naming the leaky row they were masked from ...
    twins_dangling: int  # ... of those, naming no row scored
    repeats: Repeats

    @property
    def text_only(self) -> int:
        return sum(row.text_only for row in self.rows)


def read_labelled(path: Path, query_field: str | None, description_field: str | None, id_field: str | None,
                  masked_field: str | None, split: str | None = None) -> tuple[list[BenchmarkRow], list[Reject]]:
    """The file's readable rows (each followed by its masked twin where `masked_field` names the twin's
    column) and a `Reject` for each row left out. A file none of whose rows can be read, a masked field
    it lacks and ids that clash with the twins' are a `ValueError`."""
    rows, rejects = read_rows(path, query_field=query_field, description_field=description_field,
                              id_field=id_field, require_label=masked_field is None, require_description=False,
                              split=split)
    if masked_field is None:
        return rows, rejects
    if not any(masked_field in (row.extra or {}) for row in rows):
        raise ValueError(f"--masked-field {masked_field!r}: no such field (or it is read as the query, "
                         "description or id)")
    try:
        rows, unpaired = with_masked_twins(rows, masked_field)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return rows, rejects + unpaired


def score_all(detector: LeakDetector, rows: list[BenchmarkRow]) -> list[LeakScore]:
    return detector.score(to_inputs(rows))


def evaluate_detector(rows: list[BenchmarkRow], threshold: float | None, fitting_keys: frozenset[str] | None,
                      keep_fitting_rows: bool = False, fitting_queries: list[str] | None = None,
                      score: Callable[[LeakDetector, list[BenchmarkRow]], list[LeakScore]] = score_all) -> Evaluation:
    """The detector (deciding at `threshold`, or its own) on the labelled rows in its scope: a row
    repeating an earlier one (same texts and label) once, and rows whose normalised query hashes to
    one of `fitting_keys`, or is a near repeat of one of `fitting_queries` (where given), only if
    `keep_fitting_rows`; with `fitting_keys` None (the fitting rows unknown) no row is labelled
    in-sample. `Unevaluable` for no rows, ids the twins cannot be linked by or only fitting rows
    (before the detector is loaded), and for no row in English. `score` scores the rows left (the CLI's
    scores them in slices, moving a progress bar)."""
    if not rows:  # every row read lacks its masked twin
        raise Unevaluable("no row has a masked twin")
    refuse_repeated_twin_ids(rows)
    rows, same_text, same_id, both_labels = repeats_within(rows)
    exact, near = in_sample([row.query for row in rows], fitting_keys or frozenset(), fitting_queries)
    repeats = Repeats(same_text, same_id, both_labels, [row for row, hit in zip(rows, exact) if hit],
                      keep_fitting_rows, [(row, cosine) for row, cosine in zip(rows, near) if cosine is not None],
                      near_checked=fitting_queries is not None, fitting_checked=fitting_keys is not None)
    if not keep_fitting_rows:
        rows = [row for row, hit, cosine in zip(rows, exact, near) if not hit and cosine is None]
        if not rows:
            nearly = " (or nearly)" if repeats.near_fitting else ""
            raise Unevaluable(f"all {repeats.in_sample} rows repeat{nearly} a query the detector was fitted on, so "
                              "its figures would be in-sample (--keep-fitting-rows scores them all the same)")
    detector = LeakDetector(threshold=threshold)
    results = score(detector, rows)
    # A query outside the detector's scope is left out, not counted as a pair it judged.
    in_scope = [(row, result) for row, result in zip(rows, results) if result.english]
    if not in_scope:
        raise Unevaluable("no row is in English, the detector's scope")
    scored, results = map(list, zip(*in_scope))
    linked, dangling = twin_links(scored)
    return Evaluation(detector=detector, rows=scored, results=results,
                      report=report_of(scored, results, detector.threshold), not_english=len(rows) - len(scored),
                      twins_linked=linked, twins_dangling=dangling, repeats=repeats)


def repeats_within(rows: list[BenchmarkRow]) -> tuple[list[BenchmarkRow], list[RowPair], list[RowPair], list[RowPair]]:
    """(the rows less each repeat of an earlier row's query, description and label, those repeats, rows
    sharing an earlier row's id but not its texts, rows sharing its texts but not its label). A repeat
    would weigh its pair twice in every figure; the others are the file's to fix, so are scored."""
    first_of_text: dict[tuple[str, str], BenchmarkRow] = {}
    first_of_id: dict[str, BenchmarkRow] = {}
    kept, same_text, same_id, both_labels = [], [], [], []
    for row in rows:
        first = first_of_text.setdefault((match_key(row.query), match_key(row.image_description)), row)
        if first is not row and first.label == row.label:
            same_text.append((first, row))
            continue
        if first is not row:
            both_labels.append((first, row))
        earlier = first_of_id.setdefault(row.id, row)
        if earlier is not row:
            same_id.append((earlier, row))
        kept.append(row)
    return kept, same_text, same_id, both_labels


def to_inputs(rows: list[BenchmarkRow]) -> list[LeakInput]:
    return [LeakInput(r.query, r.image_description, r.category, r.element_terms) for r in rows]


def with_masked_twins(rows: list[BenchmarkRow], masked_field: str) -> tuple[list[BenchmarkRow], list[Reject]]:
    """For a benchmark that ships both versions of each query (MM-SafetyBench's `Question` and
    `Rephrased Question`): each row as a leaky pair (label 1) and its masked twin (label 0), the
    text of `masked_field` with the same description, linked by `twin_of`. A row whose masked
    text is empty or not text is a `Reject`. Twins are linked by id, so ids that repeat, or that
    a twin's id would repeat, are a `ValueError`."""
    counts = Counter(row.id for row in rows)
    clashes = sorted({i for i, n in counts.items() if n > 1} | ({f"{i}:masked" for i in counts} & set(counts)))
    if clashes:
        raise ValueError(f"ids repeat or clash with a twin's id ({', '.join(clashes[:3])}); "
                         "name a unique id with --id-field")
    paired, rejects = [], []
    for row in rows:
        masked = (row.extra or {}).get(masked_field)
        if not isinstance(masked, str) or not masked.strip():
            rejects.append(Reject(row.position, row.id, f"`{masked_field}` is empty or not text"))
            continue
        paired += [replace(row, label=1),
                   replace(row, id=f"{row.id}:masked", query=masked, label=0, extra={"twin_of": row.id})]
    return paired, rejects


def refuse_repeated_twin_ids(rows: list[BenchmarkRow]) -> None:
    """Refuses ids that repeat where twins are linked: the last row of an id would stand for all of them."""
    repeated = sorted(i for i, n in Counter(row.id for row in rows).items() if n > 1)
    if repeated and any(twin_of(row) is not None for row in rows):
        raise Unevaluable(f"ids repeat ({', '.join(repeated[:3])}) and rows name their leaky twin by id: "
                          "name a unique id with --id-field")


def twin_links(rows: list[BenchmarkRow]) -> tuple[int, int]:
    """(rows that name the leaky row they were masked from, of those naming no row here: a row left out,
    rejected or never there)."""
    linked = [row for row in rows if twin_of(row) is not None]
    known = {row.id for row in rows}
    return len(linked), sum(twin_of(row) not in known for row in linked)


def twin_of(row: BenchmarkRow) -> str | None:
    """The id of the leaky row this one was masked from; None where the cell is missing or blank (a CSV's
    empty cell reads "")."""
    parent = (row.extra or {}).get("twin_of")
    return None if parent is None or not str(parent).strip() else str(parent)


def twin_pairs(rows: list[BenchmarkRow]) -> list[tuple[int, int]]:
    """(leaky index, twin index) for every row that names the leaky pair it was masked from."""
    index = {r.id: i for i, r in enumerate(rows)}
    pairs = []
    for i, row in enumerate(rows):
        parent = twin_of(row)
        if parent is not None and parent in index:
            pairs.append((index[parent], i))
    return pairs


def report(labels: np.ndarray, scores: np.ndarray, threshold: float,
           twins: list[tuple[int, int]] = ()) -> DetectorReport:
    labels, scores = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    flagged = scores >= threshold
    leaky, leakless = labels == 1, labels == 0
    wins = [scores[a] > scores[b] for a, b in twins]
    return DetectorReport(
        pairs=len(labels), leaky=int(leaky.sum()), leakless=int(leakless.sum()), threshold=threshold,
        auroc=float(roc_auc_score(labels, scores)) if leaky.any() and leakless.any() else None,
        auroc_interval=auroc_interval(labels, scores),
        precision=_share(flagged & leaky, flagged),
        recall=_share(flagged & leaky, leaky),
        fpr=_share(flagged & leakless, leakless),
        twin_pairs=len(wins),
        twin_win_rate=float(np.mean(wins)) if wins else None,
    )


def auroc_interval(labels: np.ndarray, scores: np.ndarray, confidence: float = 0.95,
                   rounds: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the AUROC, leaky and leakless rows resampled apart (so
    every resample holds both labels). It is the sampling spread of the rows at hand; how a refit
    with another seed would score is a further spread it does not include."""
    resampled = _resampled_aurocs(labels, [scores], rounds, seed)
    return None if resampled is None else _percentiles(resampled[0], confidence)


def paired_auroc_difference(labels: np.ndarray, before: np.ndarray, after: np.ndarray, confidence: float = 0.95,
                            rounds: int = 2000, seed: int = 0) -> tuple[float, float, float, float] | None:
    """(AUROC of `before`, AUROC of `after`, and the percentile bootstrap interval of their difference)
    for two scorings of the same rows. Each resample draws the same rows for both, so what the rows
    share cancels: the interval is much narrower than either AUROC's."""
    resampled = _resampled_aurocs(labels, [before, after], rounds, seed)
    if resampled is None:
        return None
    low, high = _percentiles(resampled[1] - resampled[0], confidence)
    return float(roc_auc_score(labels, before)), float(roc_auc_score(labels, after)), low, high


def _resampled_aurocs(labels: np.ndarray, scorings: list[np.ndarray], rounds: int,
                      seed: int) -> np.ndarray | None:
    """(scorings, rounds) AUROCs, each round over the same rows drawn with replacement for every
    scoring, leaky and leakless rows apart; None below two rows of either label."""
    labels = np.asarray(labels, dtype=int)
    leaky, leakless = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if min(len(leaky), len(leakless)) < 2:
        return None
    scorings = [np.asarray(scores, dtype=float) for scores in scorings]
    rng = np.random.default_rng(seed)
    batch = max(1, min(100, 2_000_000 // len(labels)))  # about two million scores in memory at once
    aurocs = []
    for size in [batch] * (rounds // batch) + ([rounds % batch] if rounds % batch else []):
        drawn_leaky, drawn_leakless = rng.choice(leaky, (size, len(leaky))), rng.choice(leakless, (size, len(leakless)))
        aurocs.append([_auroc(scores[drawn_leaky], scores[drawn_leakless]) for scores in scorings])
    return np.concatenate(aurocs, axis=1)


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _auroc(leaky: np.ndarray, leakless: np.ndarray, axis: int = -1) -> np.ndarray:
    # The Mann-Whitney U over both counts is the AUROC, ties counted half, and takes whole batches.
    return stats.mannwhitneyu(leaky, leakless, axis=axis).statistic / (leaky.shape[axis] * leakless.shape[axis])


def report_of(rows: list[BenchmarkRow], results: list[LeakScore], threshold: float) -> DetectorReport:
    """The report of labelled rows already scored."""
    labels = np.array([r.label for r in rows])
    return report(labels, np.array([s.score for s in results]), threshold, twin_pairs(rows))


def _share(hits: np.ndarray, population: np.ndarray) -> float | None:
    return float(hits.sum() / population.sum()) if population.any() else None
