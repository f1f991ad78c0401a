"""Leave-one-source-out evaluation, beside the content-word overlap baseline.

Each public source is scored by text-harm readers (probe and adapter, blended as
calibrated) fitted without it; the team sets are held out four groups at a time, as
in calibration, so a fit never sees the set it scores or its neighbours. A source's rows that repeat a fitting row (the same normalised query, or a
MiniLM cosine of at least `NEAR_DUPLICATE`) are left out of its figures. The
thresholds are the shipped ones. Evaluation-only sources (and any file given as
`extra`) are scored by the shipped readers, which never saw them.

The baseline is the plain share of the query's content words that the description
also uses: the one a reviewer would write first, computed in the same run. Each row's
scores are kept too (`RowScores`), so two runs can be compared row by row (`compare.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipeline.detect.calibrate import FitProgress, extract, fold_groups
from pipeline.detect.compare import RowScores
from pipeline.detect.corpus import LabelledRow, match_key
from pipeline.detect.calibration import Calibration, blended
from pipeline.detect.detector import combined_score, on_common_scale, reveal_values
from pipeline.detect.evaluate import report
from pipeline.detect.named_risk import on_reveal_scale, without_shown_words
from pipeline.detect.signals import SIGNALS, Texts, canonical_query
from pipeline.detect.text_harm import fit_probe, sentence_vectors
from pipeline.detect.text_harm_adapter import TextHarmAdapter, cached_fit

NEAR_DUPLICATE = 0.95


@dataclass(frozen=True)
class SourceFigures:
    source: str
    fitted_on: bool            # False: evaluation only, scored by the shipped probe
    rows: int
    dropped_as_duplicates: int
    leaky: int
    leakless: int
    auroc: float | None        # within the source; None when it holds one label only
    auroc_vs_pooled_leakless: float | None  # one-label leaky sources: against every public leakless row
    baseline_auroc: float | None
    baseline_auroc_vs_pooled: float | None
    # 95% bootstrap intervals of the four AUROCs above (`evaluate.auroc_interval`)
    auroc_interval: tuple[float, float] | None
    auroc_vs_pooled_interval: tuple[float, float] | None
    baseline_auroc_interval: tuple[float, float] | None
    baseline_vs_pooled_interval: tuple[float, float] | None
    flagged: float             # share of the source's rows flagged at the shipped threshold
    recall: float | None
    fpr: float | None
    twin_win_rate: float | None


@dataclass(frozen=True)
class _Queries:
    """Queries as the text-harm readers take them: the probe's features and the adapter's text."""
    features: np.ndarray
    texts: list[str]

    @classmethod
    def of(cls, rows: list[LabelledRow], features: np.ndarray | None = None) -> _Queries:
        if features is None:
            features = extract(rows).query_features
        return cls(features, [canonical_query(r.query) for r in rows])

    def take(self, mask: np.ndarray) -> _Queries:
        return _Queries(self.features[mask], [text for text, taken in zip(self.texts, mask) if taken])


def leave_one_source_out(fitting: list[LabelledRow], evaluation_only: list[LabelledRow],
                         calibration: Calibration, threshold: float = 0.5,
                         progress: FitProgress = lambda group, number, total: None) -> FoldResult:
    rows = fitting + evaluation_only
    extraction = extract(rows)
    queries = _Queries.of(rows, extraction.query_features)
    # `reveal` also reads what the words a query shares with its description add to its text
    # harm (`named_risk`): each such query is scored again without them, by the same fold's readers.
    stripped_of, stripped = _without_shown_words(rows, queries)
    labels = np.array([r.label for r in rows])
    sources = np.array([r.source for r in rows])
    fitted = np.arange(len(rows)) < len(fitting)
    groups = np.concatenate([fold_groups(fitting), sources[~fitted]])
    harm, stripped_harm = _out_of_fold_text_harm(rows, fitted, groups, labels, queries, stripped_of, stripped,
                                                 calibration, progress)
    gain = np.nan_to_num(harm - stripped_harm)  # 0 where a query shares no word with its description
    has_description = np.array([bool(r.image_description.strip()) for r in rows])
    text_harm = on_common_scale(np.nan_to_num(harm), calibration.text_harm_threshold)
    reveal_raw = np.maximum(reveal_values(extraction.matrix), on_reveal_scale(gain, calibration.reveal_threshold))
    reveal = on_common_scale(reveal_raw, calibration.reveal_threshold)
    scores = combined_score(text_harm, reveal, has_description)
    overlap = np.where(has_description, extraction.matrix[:, SIGNALS.index("word_overlap")], 0.0)
    scored = ~np.isnan(harm)  # the rest repeat a fitting row
    public = np.array([not s.startswith("team:") for s in sources])
    pooled_leakless = scored & public & (labels == 0)
    index = {r.id: i for i, r in enumerate(rows)}

    def figures(name: str, fitted_on: bool, dropped: int, held: np.ndarray) -> SourceFigures:
        return _figures(name, fitted_on, dropped, held, labels, scores, overlap, pooled_leakless, threshold, rows,
                        index)

    per_source = [figures(source, bool(fitted[sources == source][0]), int(((sources == source) & ~scored).sum()),
                          scored & (sources == source))
                  for source in dict.fromkeys(sources)]
    pooled = {name: figures(name, True, 0, mask & scored)
              for name, mask in (("public, fitted sources pooled", public & fitted),
                                 ("public, evaluation-only pooled", public & ~fitted),
                                 ("team sets pooled", ~public))}
    row_scores = RowScores(
        ids=[r.id for r in rows], sources=sources.tolist(), fitted_on=fitted, labels=labels,
        held_out_as_duplicate=~scored, score=np.where(scored, scores, np.nan),
        text_harm=np.where(scored, text_harm, np.nan), reveal=np.where(scored & has_description, reveal, np.nan),
        baseline=overlap)
    return FoldResult(per_source, pooled, row_scores)


def _without_shown_words(rows: list[LabelledRow], queries: _Queries) -> tuple[np.ndarray, _Queries]:
    """(the rows whose query shares content words with its description, those queries without them)."""
    found = [without_shown_words(Texts.of(r.query, r.image_description)) for r in rows]
    stripped_of = np.array([i for i, f in enumerate(found) if f is not None], dtype=int)
    stripped_rows = [LabelledRow(rows[i].id, found[i][0], "", rows[i].label, rows[i].source) for i in stripped_of]
    if not stripped_rows:
        return stripped_of, queries.take(np.zeros(len(rows), dtype=bool))
    return stripped_of, _Queries.of(stripped_rows)


def _out_of_fold_text_harm(rows: list[LabelledRow], fitted: np.ndarray, groups: np.ndarray, labels: np.ndarray,
                           queries: _Queries, stripped_of: np.ndarray, stripped: _Queries, calibration: Calibration,
                           progress: FitProgress) -> tuple[np.ndarray, np.ndarray]:
    """`text_harm` probabilities of every row and of its stripped query (NaN where none), each from
    readers fitted without the row's fold; evaluation-only rows from the shipped readers. A held-out
    row that repeats a fitting row (same normalised query, or MiniLM cosine >= NEAR_DUPLICATE) is
    left NaN: out of its source's figures."""
    sentence = sentence_vectors(queries.features)
    keys = np.array([match_key(r.query) for r in rows])
    harm = np.full(len(rows), np.nan)
    stripped_harm = np.full(len(rows), np.nan)
    folds = list(dict.fromkeys(groups[fitted]))
    for number, group in enumerate(folds, start=1):
        progress(group, number, len(folds))
        train = fitted & (groups != group)
        held = np.where(groups == group)[0]
        seen = set(keys[train])
        held = held[[keys[i] not in seen for i in held]]
        if held.size:
            held = held[(sentence[held] @ sentence[train].T).max(axis=1) < NEAR_DUPLICATE]
        probe = fit_probe(queries.features[train], labels[train])
        adapter = None
        if calibration.blend > 0:
            adapter = TextHarmAdapter(cached_fit(queries.take(train).texts, labels[train],
                                                 calibration.adapter_settings))
        read = _fold_reader(probe, adapter, calibration.blend)
        harm[held] = read(queries.take(np.isin(np.arange(len(rows)), held)))
        again = np.isin(stripped_of, held)
        stripped_harm[stripped_of[again]] = read(stripped.take(again))
    outside = ~fitted
    harm[outside] = calibration.text_harm(queries.features[outside], queries.take(outside).texts)[0]
    again = np.isin(stripped_of, np.where(outside)[0])
    if again.any():
        taken = stripped.take(again)
        stripped_harm[stripped_of[again]] = calibration.text_harm(taken.features, taken.texts)[0]
    return harm, stripped_harm


def _fold_reader(probe, adapter: TextHarmAdapter | None, blend: float):
    def read(queries: _Queries) -> np.ndarray:
        return blended(probe.probability(queries.features),
                       adapter.probability(queries.texts) if adapter else None, blend)
    return read


@dataclass(frozen=True)
class FoldResult:
    sources: list[SourceFigures]
    pooled: dict[str, SourceFigures]
    row_scores: RowScores

    def as_dict(self) -> dict:
        return {"sources": [asdict(f) for f in self.sources],
                "pooled": {name: asdict(f) for name, f in self.pooled.items()}}


def _figures(source, fitted_on, dropped, held, labels, scores, overlap, pooled_leakless, threshold,
             rows, index) -> SourceFigures:
    twins = [(index[rows[i].twin_of], i) for i in np.where(held)[0]
             if rows[i].twin_of in index and held[index[rows[i].twin_of]]]
    own = report(labels[held], scores[held], threshold)
    base = report(labels[held], overlap[held], threshold)
    wins = [scores[a] > scores[b] for a, b in twins]
    vs_pooled = base_vs_pooled = None
    if own.auroc is None and own.leaky:
        versus = held | pooled_leakless
        vs_pooled = report(labels[versus], scores[versus], threshold)
        base_vs_pooled = report(labels[versus], overlap[versus], threshold)
    return SourceFigures(source=source, fitted_on=fitted_on, rows=int(held.sum()), dropped_as_duplicates=dropped,
                         leaky=own.leaky, leakless=own.leakless, auroc=own.auroc,
                         auroc_vs_pooled_leakless=vs_pooled and vs_pooled.auroc, baseline_auroc=base.auroc,
                         baseline_auroc_vs_pooled=base_vs_pooled and base_vs_pooled.auroc,
                         auroc_interval=own.auroc_interval,
                         auroc_vs_pooled_interval=vs_pooled and vs_pooled.auroc_interval,
                         baseline_auroc_interval=base.auroc_interval,
                         baseline_vs_pooled_interval=base_vs_pooled and base_vs_pooled.auroc_interval,
                         flagged=float((scores[held] >= threshold).mean()) if held.any() else 0.0,
                         recall=own.recall, fpr=own.fpr,
                         twin_win_rate=float(np.mean(wins)) if wins else None)
