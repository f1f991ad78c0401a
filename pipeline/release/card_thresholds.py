"""The card's note on the build's harm check threshold, per run: the offline harm check dropped a pair
whose intent similarity was below the run's `harm_check.min_intent_similarity`, and the card counts those
drops (`harm.intent_lost`), so it says the number each run used. Read from the runs' build configs as the
release manifest holds them (`runs[].build.config`, each run's config.json), so runs built with other
settings are each named with their own."""

from __future__ import annotations

from collections import defaultdict

from pipeline.build_thresholds import UNKNOWN, intent_threshold_text

INTENT_RULE = ("The build's offline harm check dropped a pair whose intent similarity (the MiniLM cosine of "
               "its harmful and its rewritten query) was below `harm_check.min_intent_similarity`: ")


def runs_text(run_ids: list[str]) -> str:
    return f"run{'s' if len(run_ids) > 1 else ''} {', '.join(run_ids)}"


def intent_thresholds(manifest: dict) -> dict[str | None, list[str]]:
    """`min_intent_similarity` as text ("unknown" where a run's config does not record it, None for an LLM
    harm check) -> the runs of the release that used it, in the manifest's order."""
    runs = defaultdict(list)
    for entry in manifest.get("runs") or []:
        if isinstance(entry, dict):
            config = (entry.get("build") or {}).get("config")
            runs[intent_threshold_text(config if isinstance(config, dict) else None)].append(str(entry.get("run_id")))
    return dict(runs)


def harm_threshold_note(manifest: dict) -> str:
    """The card's paragraph on the build's harm check threshold; "" for a manifest that lists no runs."""
    runs = intent_thresholds(manifest)
    numbers = sorted(((value, ids) for value, ids in runs.items() if value not in (None, UNKNOWN)),
                     key=lambda item: float(item[0]))
    sentences = [INTENT_RULE + "; ".join(f"{value} ({runs_text(ids)})" for value, ids in numbers) + "."] if numbers else []
    if UNKNOWN in runs:
        sentences.append(f"The build config of {runs_text(runs[UNKNOWN])} does not record the harm check's "
                         "threshold (`backends.harm_check`, `harm_check.min_intent_similarity`).")
    if None in runs:
        sentences.append(f"The harm check of {runs_text(runs[None])} was the LLM's, which has no threshold.")
    return " ".join(sentences)
