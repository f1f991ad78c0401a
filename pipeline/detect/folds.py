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
from pipeline.detect.detector import Calibration, blended, combined_score, on_common_scale, reveal_values
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


def leave_one_source_out(fitting: list[LabelledRow], evaluation_only: list[LabelledRow],
                         calibration: Calibration, threshold: float = 0.5,
                         progress: FitProgress = lambda group, number, total: None) -> FoldResult:
    rows = fitting + evaluation_only
    extraction = extract(rows)
    features, matrix = extraction.query_features, extraction.matrix
    # `reveal` also reads what the words a query shares with its description add to its text
    # harm (`named_risk`): each such query is scored again without them, by the same fold's readers.
    found = [without_shown_words(Texts.of(r.query, r.image_description)) for r in rows]
    stripped_of = np.array([i for i, f in enumerate(found) if f is not None], dtype=int)
    stripped_rows = [LabelledRow(r.id, found[i][0], "", r.label, r.source) for i, r in enumerate(rows)
                     if found[i] is not None]
    stripped_features = extract(stripped_rows).query_features if stripped_rows else features[:0]
    stripped_queries = [canonical_query(r.query) for r in stripped_rows]
    stripped_harm = np.full(len(rows), np.nan)
    labels = np.array([r.label for r in rows])
    sources = np.array([r.source for r in rows])
    fitted = np.arange(len(rows)) < len(fitting)
    sentence = sentence_vectors(features)
    keys = np.array([match_key(r.query) for r in rows])
    queries = [canonical_query(r.query) for r in rows]
    groups = np.concatenate([fold_groups(fitting), sources[~fitted]])
    harm = np.full(len(rows), np.nan)
    folds = list(dict.fromkeys(groups[fitted]))
    for number, group in enumerate(folds, start=1):
        progress(group, number, len(folds))
        held = groups == group
        train = fitted & ~held
        kept = np.where(held)[0]
        seen = set(keys[train])
        kept = kept[[keys[i] not in seen for i in kept]]
        if kept.size:
            kept = kept[(sentence[kept] @ sentence[train].T).max(axis=1) < NEAR_DUPLICATE]
        probe = fit_probe(features[train], labels[train])
        adapter = None
        if calibration.blend > 0:
            adapter = TextHarmAdapter(cached_fit([queries[i] for i in np.where(train)[0]], labels[train],
                                                 calibration.adapter_settings))
        harm[kept] = _fold_harm(probe, adapter, calibration.blend, features[kept], [queries[i] for i in kept])
        again = np.isin(stripped_of, kept)
        stripped_harm[stripped_of[again]] = _fold_harm(probe, adapter, calibration.blend, stripped_features[again],
                                                       [q for q, a in zip(stripped_queries, again) if a])
    outside = np.where(~fitted)[0]
    harm[outside] = calibration.text_harm(features[outside], [queries[i] for i in outside])[0]
    again = np.isin(stripped_of, outside)
    if again.any():
        stripped_harm[stripped_of[again]] = calibration.text_harm(
            stripped_features[again], [q for q, a in zip(stripped_queries, again) if a])[0]
    gain = np.nan_to_num(harm - stripped_harm)  # 0 where a query shares no word with its description
    has_description = np.array([bool(r.image_description.strip()) for r in rows])
    text_harm = on_common_scale(np.nan_to_num(harm), calibration.text_harm_threshold)
    reveal_raw = np.maximum(reveal_values(matrix), on_reveal_scale(gain, calibration.reveal_threshold))
    reveal = on_common_scale(reveal_raw, calibration.reveal_threshold)
    scores = combined_score(text_harm, reveal, has_description)
    overlap = np.where(has_description, matrix[:, SIGNALS.index("word_overlap")], 0.0)
    scored = ~np.isnan(harm)
    public = np.array([not s.startswith("team:") for s in sources])
    pooled_leakless = scored & public & (labels == 0)
    index = {r.id: i for i, r in enumerate(rows)}
    figures = []
    for source in dict.fromkeys(sources):
        held = scored & (sources == source)
        dropped = int(((sources == source) & ~scored).sum())
        figures.append(_figures(source, bool(fitted[sources == source][0]), dropped, held, labels, scores,
                                overlap, pooled_leakless, threshold, rows, index))
    pooled = {
        name: _figures(name, True, 0, mask & scored, labels, scores, overlap, pooled_leakless, threshold, rows, index)
        for name, mask in (("public, fitted sources pooled", public & fitted),
                           ("public, evaluation-only pooled", public & ~fitted),
                           ("team sets pooled", ~public))
    }
    row_scores = RowScores(
        ids=[r.id for r in rows], sources=sources.tolist(), fitted_on=fitted, labels=labels,
        held_out_as_duplicate=~scored, score=np.where(scored, scores, np.nan),
        text_harm=np.where(scored, text_harm, np.nan), reveal=np.where(scored & has_description, reveal, np.nan),
        baseline=overlap)
    return FoldResult(figures, pooled, row_scores)


def _fold_harm(probe, adapter: TextHarmAdapter | None, blend: float, features: np.ndarray,
               queries: list[str]) -> np.ndarray:
    return blended(probe.probability(features), adapter.probability(queries) if adapter else None, blend)


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
