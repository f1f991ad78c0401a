"""Fit the detector: its text-harm probe and the thresholds of its two scores.

    leakless calibrate --data ../shared/public_vsil/pairs.jsonl [--out calibration.json]

The probe goes to `text_harm_probe.npz` and the adapter to `text_harm_adapter.npz`,
beside the calibration file.

1. `text_harm`'s two readers, the linear probe over frozen MiniLM vectors and the
   fine-tuned adapters, learn from the permissively licensed sources of the public
   VSIL corpus and the team's sets (`corpus.fitting_rows`). Evaluation-only sources
   and the VLSBench sample are never fitted on.
2. How much each reader counts (`BLENDS`): the weight whose out-of-group scores (each
   row scored by readers fitted without its whole source) rank the fitting rows best.
3. The text-harm threshold: the lowest probability whose false-positive rate stays
   within `MAX_FPR` on at least `SETS_WITHIN_LIMIT` of the team sets, each row scored
   by a probe fitted without its whole source (as a new benchmark's rows will be).
   The team sets are the ones whose leakless queries are written the way VLSBench's
   are; the public leakless rows are alarming-sounding look-alikes, reported apart.
4. The reveal threshold is fixed by the lexicon's weights (`REVEAL_THRESHOLD`).

`calibration.json` records what it was fitted on: the input file's sha256 and
the rows per source; `fitting_keys.json` beside it, the hashes of the fitting queries
(`fitting_keys.py`), so `eval-detector` can leave their repeats out.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.detect.corpus import TEAM_DATA, LabelledRow, fingerprint, fitting_rows
from pipeline.detect.calibration import CALIBRATION_FILE, blended
from pipeline.detect.fitting_keys import KEYS_FILE_NAME, write_keys
from pipeline.detect.lexicon import Lexicon
from pipeline.detect.signals import SIGNALS, Extraction, SignalExtractor, Texts, canonical_query
from pipeline.detect.text_harm import CUE_SIGNALS, PROBE_C, PROBE_FILE, fit_probe, out_of_group
from pipeline.detect.text_harm_adapter import ADAPTER_FILE_NAME, AdapterSettings, TextHarmAdapter, cached_fit
from pipeline.storage import atomic_write_text

# Told each fit as it starts: the group it is fitted without (None: the fit on every row), its number
# from 1, and how many fits there are.
FitProgress = Callable[["str | None", int, int], None]

# A shared concept of weight 0.6 or more reveals the risk on its own (a blade, blood, a
# poison, any weapon or drug); the dual-use ones of weight 0.5 (pills, a bat, graffiti, a
# named group) reveal it only beside a harmful act, which `text_harm` sees.
REVEAL_THRESHOLD = 0.55
MAX_FPR = 0.03
# Each team set is one author's style: the limit must hold on nearly every set, not only
# on all of them pooled, or a new author's style lets far more through.
SETS_WITHIN_LIMIT = 0.9
TEAM_FOLDS = 4  # the team sets are held out four groups at a time (by the order they were written)
# The adapter's weight in `text_harm` (the probe has the rest): probe only, even, adapter only.
BLENDS = (0.0, 0.5, 1.0)


def extract(rows: list[LabelledRow], batch: int = 512) -> Extraction:
    from pipeline.backends.minilm import default_embedder

    extractor = SignalExtractor(Lexicon(), default_embedder())
    parts = [extractor.extract([Texts.of(r.query, r.image_description) for r in rows[i:i + batch]])
             for i in range(0, len(rows), batch)]
    return Extraction(np.vstack([p.matrix for p in parts]), [s for p in parts for s in p.spans],
                      np.vstack([p.query_features for p in parts]))


def fold_groups(rows: list[LabelledRow]) -> np.ndarray:
    team_sets = list(dict.fromkeys(r.source for r in rows if r.source.startswith("team:")))
    team_fold = {name: f"team-fold-{i * TEAM_FOLDS // len(team_sets)}" for i, name in enumerate(team_sets)}
    return np.array([team_fold.get(r.source, r.source) for r in rows])


def pick_threshold(per_set: list[tuple[np.ndarray, np.ndarray]], max_fpr: float = MAX_FPR,
                   share: float = SETS_WITHIN_LIMIT) -> float:
    """The lowest score at which at least `share` of the labelled sets (labels, scores) keep
    their false-positive rate within `max_fpr`, moved halfway to the next lower score."""
    scores = np.concatenate([set_scores for _, set_scores in per_set])
    needed = math.ceil(share * len(per_set))
    leakless = [set_scores[labels == 0] for labels, set_scores in per_set]
    threshold = float(scores.max())
    for candidate in np.unique(scores):  # each set's FPR only falls as the threshold rises
        if sum((negatives >= candidate).mean() <= max_fpr for negatives in leakless) >= needed:
            threshold = float(candidate)
            break
    below = scores[scores < threshold]
    return (threshold + float(below.max())) / 2 if below.size else threshold


def adapter_out_of_group(queries: list[str], labels: np.ndarray, groups: np.ndarray,
                         settings: AdapterSettings = AdapterSettings(),
                         progress: FitProgress = lambda group, number, total: None) -> np.ndarray:
    """Each row's adapter score from adapters fitted without the row's whole group (cached by content)."""
    scores = np.zeros(len(labels))
    folds = list(dict.fromkeys(groups))
    for number, group in enumerate(folds, start=1):
        progress(group, number, len(folds))
        held = groups == group
        train = np.where(~held)[0]
        weights = cached_fit([queries[i] for i in train], labels[train], settings)
        scores[held] = TextHarmAdapter(weights).probability([q for q, h in zip(queries, held) if h])
    return scores


def calibrate(public_path: Path, out: Path = CALIBRATION_FILE, settings: AdapterSettings = AdapterSettings(),
              progress: FitProgress = lambda group, number, total: None, team_folder: Path = TEAM_DATA) -> dict:
    rows = fitting_rows(public_path, team_folder)
    extraction = extract(rows)
    labels = np.array([r.label for r in rows])
    groups = fold_groups(rows)
    queries = [canonical_query(r.query) for r in rows]
    probe = fit_probe(extraction.query_features, labels)
    unseen_probe = out_of_group(extraction.query_features, labels, groups)
    fits = len(dict.fromkeys(groups)) + 1  # each group held out, then every row
    unseen_adapter = adapter_out_of_group(queries, labels, groups, settings,
                                          lambda group, number, _: progress(group, number, fits))
    by_blend = {blend: float(roc_auc_score(labels, blended(unseen_probe, unseen_adapter, blend))) for blend in BLENDS}
    blend = max(BLENDS, key=lambda b: (by_blend[b], -b))  # a tie goes to the cheaper reader
    unseen = blended(unseen_probe, unseen_adapter, blend)
    progress(None, fits, fits)
    adapter = cached_fit(queries, labels, settings)
    sources = np.array([r.source for r in rows])
    per_set = [(labels[sources == name], unseen[sources == name])
               for name in dict.fromkeys(sources) if name.startswith("team:")]
    probe_out = out.with_name(PROBE_FILE.name)  # beside the calibration that names it
    result = {
        "signals": list(SIGNALS),
        "thresholds": {"text_harm": round(pick_threshold(per_set), 6), "reveal": REVEAL_THRESHOLD},
        "max_fpr": MAX_FPR,
        "sets_within_limit": SETS_WITHIN_LIMIT,
        "fitted_on": fingerprint(public_path, rows),
        "text_harm_probe": {"file": probe_out.name, "sha256": probe.save(probe_out), "c": PROBE_C,
                            "cues": list(CUE_SIGNALS)},
        "text_harm_adapter": {"file": ADAPTER_FILE_NAME, "sha256": adapter.save(out.with_name(ADAPTER_FILE_NAME)),
                              "settings": asdict(settings), "blend": blend,
                              "out_of_group_auroc_by_blend": {str(b): round(v, 4) for b, v in by_blend.items()}},
    }
    atomic_write_text(out, json.dumps(result, indent=1) + "\n")
    write_keys(rows, result["fitted_on"], out.with_name(KEYS_FILE_NAME))
    return result
