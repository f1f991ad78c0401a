"""Which thresholds decided a build's drops, as the summary and the dataset card say them: read from the
run's own records (its config.json, its leak filter decisions), never from today's defaults, so a run made
with other settings, or before a setting existed, is described as it was built.

The leak threshold is the run's `leak_filter.threshold`, or, where that was left unset, the detector's own
(the value each leak filter decision, or retried rewrite attempt, recorded). The offline harm check drops
a pair whose intent similarity is below `harm_check.min_intent_similarity`; the LLM harm check has no such number.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.contracts import StageName

UNKNOWN = "unknown"
OFFLINE_HARM_CHECK = "rules"  # `backends.harm_check`: the only harm check that reads min_intent_similarity
_MISSING = object()
# Decisions scored at the build's one leak threshold: a run whose every pair failed before the leak
# filter (a server down mid-rewrite) has only its retried rewrite attempts to say which it was.
LEAK_SCORED = {StageName.leak_filter, StageName.rewrite}


def recorded(config: dict | None, section: str, key: str):
    """`config[section][key]`, or `_MISSING` where the run's config (made before the setting) lacks it."""
    part = (config or {}).get(section)
    return part.get(key, _MISSING) if isinstance(part, dict) else _MISSING


def number_text(value: float) -> str:
    return format(float(value), "g")


def leak_threshold_text(config: dict | None, decided: Iterable[float | None]) -> str:
    """The leak threshold and where it came from: `decided` holds the thresholds the leak-scored
    decisions recorded (`LEAK_SCORED`; the detector's own where the config left it unset)."""
    set_to = recorded(config, "leak_filter", "threshold")
    if set_to is not _MISSING and set_to is not None:
        return f"{number_text(set_to)} (`leak_filter.threshold`)"
    values = ", ".join(number_text(value) for value in sorted({v for v in decided if v is not None}))
    if set_to is _MISSING:
        source = "the run's config.json does not say whether `leak_filter.threshold` was set"
        return f"{values} ({source})" if values else f"{UNKNOWN} ({source})"
    return f"{values or UNKNOWN} (the detector's own: `leak_filter.threshold` unset)"


def intent_threshold_text(config: dict | None) -> str | None:
    """The offline harm check's `min_intent_similarity`; None where the run's harm check was the LLM's
    (it has no threshold), "unknown" where the run's config does not record one of the two."""
    backend = recorded(config, "backends", "harm_check")
    if backend is not _MISSING and backend != OFFLINE_HARM_CHECK:
        return None
    value = recorded(config, "harm_check", "min_intent_similarity")
    return UNKNOWN if backend is _MISSING or value is _MISSING or value is None else number_text(value)


def summary_line(config: dict | None, decisions: Iterable) -> str:
    """The summary's line of thresholds, from the run's config and its decisions (`Decision`s)."""
    leak = leak_threshold_text(config, (d.threshold for d in decisions if d.stage in LEAK_SCORED))
    line = f"Thresholds: leak {leak}"
    intent = intent_threshold_text(config)
    if intent is not None:
        line += f"; harm check intent similarity {intent} (`harm_check.min_intent_similarity`)"
    return line + "."
