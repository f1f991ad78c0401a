"""The dataset card: README.md with Hugging Face YAML metadata, statistics, provenance and the safety note.

Everything the card says about how the data was made is read from the data: the
backends and models from the rows themselves (`*_backend` / `*_model` columns)
and from the decisions of the runs and of the release, the leak filter's
threshold and detector version from the rows, what was left out from the runs'
decision tables and the manifest. So the card cannot claim a model the data was
not made with, and offline backends are named as such. Nothing in it depends on
when or where it was written (no timestamps, no local paths), so releasing the
same runs twice gives the same card.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import jinja2
import pandas as pd
import yaml

from pipeline.release.card_columns import column_meanings, column_types, release_columns, taxonomy_phrase
from pipeline.release.card_detector import detector_limits
from pipeline.release.card_licence import (POOL_BACKEND_PREFIX, POOL_NOTE, card_licence, licence_naming,
                                           licence_text)
from pipeline.release.card_sources import (EDIT_ROLE, NOT_RECORDED, annotator_edited, backends_used, cell_text,
                                           detectors_used, read_run_decisions, run_review_states)
from pipeline.release.card_thresholds import harm_threshold_note
from pipeline.release.claims import ACCEPTED
from pipeline.release.leak_check import LEAKS, NOT_ENGLISH
from pipeline.release.leak_check import STAGE as RELEASE_LEAK_STAGE
from pipeline.release.provenance import rebuild_recipes
from pipeline.review.scoring import HARM_DROP
from pipeline.stages.leak_filter import LABEL_JOIN

OFFLINE_BACKENDS = {
    "templates": "templates per sub-category (no language model)",
    "rules": "rule-based (no language model)",
    "placeholder": "a PLACEHOLDER image: a coarse colour grid with the image description written on it "
                   "(no image model)",
    "offline-detector": "a local lexicon + MiniLM detector (no language model)",
}
TEXT_ROLES = {"seed writer", "leak rewriter", "final filter"}  # roles a language model could play instead
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]

# What the release itself left out (the manifest's `dropped`), in the order a pair meets the steps.
RELEASE_DROPS = {
    "same_id": "already released under this name, or repeated across the runs",
    "guardrail": "the hard block (sexual content involving minors, a real private person) on the shipped texts",
    "final_filter": "final filtration (query and image match, harmful, categorised right)",
    "leaks": "the leak or harm check on the shipped query",
    "image_duplicate": "near-duplicate image",
    "query_duplicate": "near-duplicate query",
    "benchmark_duplicate": "near-duplicate query of a row of a `--dedup-against` benchmark",
    "not_selected": "not selected by `leakless select`",
}
DROP_STAGES = {"guardrail": "release_guardrail", "final_filter": "final_filter", "leaks": RELEASE_LEAK_STAGE}  # manifest key -> decisions stage

# the card's text; what it is filled with is computed below
BODY = jinja2.Template((Path(__file__).parent / "templates" / "card.md.j2").read_text(encoding="utf-8"),
                       trim_blocks=False, keep_trailing_newline=True)


def size_category(rows: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if rows < limit), "n>1M")


def front_matter(manifest: dict, rows: list[dict]) -> dict:
    types = column_types()
    features = [{"name": name, "dtype": types[name]} for name in release_columns(manifest) if name in types]
    return {
        "language": ["en"],  # the queries are English: the leak detector and the hard block read English only
        "license": card_licence(manifest["license"], rows),  # `other` beside it when pool images ship
        **licence_naming(manifest["license"], rows),
        "pretty_name": f"{manifest['name']} v{manifest['version']}",
        "task_categories": ["visual-question-answering"],
        "tags": ["safety", "multimodal", "vlsbench", "leakless"] + (["preview"] if manifest["preview"] else []),
        "size_categories": [size_category(manifest["rows"])],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
        "dataset_info": {
            "features": features,
            "splits": [{"name": "train", "num_examples": manifest["rows"],
                        "num_bytes": sum(shard["bytes"] for shard in manifest["shards"])}],
        },
    }


def release_drops(manifest: dict, decisions: pd.DataFrame | None) -> list[tuple[str, str, int]]:
    """(step, reason code or "", pairs) for each of the release's own drops, split by reason code where the
    release's decisions say; the manifest's counts are the totals."""
    dropped = manifest.get("dropped") or {}
    table = []
    for key in [*RELEASE_DROPS, *sorted(set(dropped) - set(RELEASE_DROPS) - {"not_taken_by_review"})]:
        if key not in dropped:
            continue
        step, total = RELEASE_DROPS.get(key, key.replace("_", " ")), dropped[key]
        codes = Counter()
        if decisions is not None and key in DROP_STAGES and "stage" in decisions:
            chosen = decisions[(decisions["stage"] == DROP_STAGES[key]) & (decisions["verdict"] == "drop")]
            codes = Counter(cell_text(code) for code in (chosen["code"] if "code" in chosen else [""] * len(chosen)))
        if total and sum(codes.values()) == total and "" not in codes:
            table += [(step, code, count) for code, count in _sorted_state(codes)]
        else:
            table.append((step, "", total))
    return table


def provenance(manifest: dict, rows: list[dict]) -> str:
    """'14 new pairs from r2; 54 carried from v1 (r1)': where the rows came from, new ones by run, carried
    ones by the version that added them. Rows that name no run (a card drawn from rows alone) leave the
    manifest's runs to say it."""
    new, carried = Counter(), defaultdict(Counter)
    for row in rows:
        if row.get("run_id") is None:
            continue
        added_in = row.get("added_in", manifest["version"])
        (new if added_in == manifest["version"] else carried[added_in])[row["run_id"]] += 1
    if not new and not carried:
        return "from the runs " + ", ".join(run["run_id"] for run in manifest["runs"])
    parts = [f"{sum(new.values())} new pairs from {', '.join(new)}"] if new else []
    parts += [f"{sum(runs.values())} carried from v{version} ({', '.join(runs)})"
              for version, runs in sorted(carried.items())]
    return "; ".join(parts)


def dedup_rule(options: dict) -> str:
    """The card's near-duplicate thresholds, as `verify` looks for them in the card (a release made before
    the description rule matched queries alone)."""
    rule = (f"pHash+dHash ≤ {options['max_phash']}/{options['max_dhash']} bits; queries equal after "
            f"normalisation or MiniLM cosine ≥ {options['query_threshold']}")
    if "description_threshold" not in options:
        return rule
    return (f"{rule}, asked of the same scene: image descriptions equal after normalisation or MiniLM "
            f"cosine ≥ {options['description_threshold']}")


def dedup_against(manifest: dict) -> str:
    """The outside benchmarks this version's new pairs were deduplicated against, by name and sha256 (a
    path is local): "" for none."""
    return ", ".join(f"`{entry['file']}` (sha256 `{entry['sha256']}`, {entry['rows']} rows)"
                     for entry in manifest.get("dedup_against") or [])


def release_command(manifest: dict, rows: list[dict]) -> str | None:
    """The `leakless release` that takes this version's new pairs from its runs (None for a selection)."""
    if "selection" in manifest:
        return None
    new = [row for row in rows if row.get("added_in", manifest["version"]) == manifest["version"]]
    flags = [*(["--preview"] if any(row.get("review_state") != ACCEPTED for row in new) else []),
             *(["--extend"] if manifest.get("extends") is not None else []),
             *(f"--dedup-against {entry['file']}" for entry in manifest.get("dedup_against") or [])]
    return " ".join(["leakless release", *given_runs(manifest), "--name", manifest["name"], *flags])


def earlier_version_first(manifest: dict) -> list[str]:
    """The recipe's first step for an `--extend` version: that command carries the rows of the latest
    version, so the earlier one must be there first."""
    if manifest.get("extends") is None or "selection" in manifest:
        return []
    return [f"first v{manifest['extends']}, made again as its own card says (`--extend` carries the latest "
            "version's rows)"]


def given_runs(manifest: dict) -> list[str]:
    """The runs given to the `leakless release` that made this version: every one not only carried, one
    whose pairs were all dropped (final filter, duplicates) included."""
    return [run["run_id"] for run in manifest["runs"] if run.get("new") or not run.get("carried")]


def review_taken(manifest: dict, run_states: Counter | None) -> dict[str, int] | None:
    """Review state -> the runs' pairs this version took from review, before the release's own drops:
    every pair of the runs less the ones review left out, so taken and not taken add up to the runs'
    pairs. None where the runs were not read."""
    if run_states is None:
        return None
    not_taken = Counter((manifest.get("dropped") or {}).get("not_taken_by_review") or {})
    return dict(_sorted_state(run_states - not_taken))


def flagged_rows(rows: list[dict]) -> tuple[int, int, int]:
    """(rows shipped against a check, of those leaking, of those failing the harm check): a flagged
    query ships only with an annotator's override, and the card must not call it harmless. A query
    the detector cannot judge (`not_english_rows`) is flagged too."""
    leaks = [row for row in rows if row.get("leak_verdict") == LEAKS]
    harm = [row for row in rows if row.get("harm_verdict") == HARM_DROP]
    unjudged = [row for row in rows if row.get("leak_verdict") == NOT_ENGLISH]
    return len({row["id"] for row in leaks + harm + unjudged}), len(leaks), len(harm)


def not_english_rows(rows: list[dict]) -> int:
    """Rows whose query the detector marked not English: its leak score says nothing."""
    return sum(row.get("leak_verdict") == NOT_ENGLISH for row in rows)


def review_split(manifest: dict, rows: list[dict]) -> dict[str, int]:
    """How many shipped pairs were reviewed and accepted, and how many not: a preview takes both, so its
    banner counts them from the rows rather than calling every pair unreviewed."""
    reviewed = sum(row.get("review_state") == ACCEPTED for row in rows)
    return {"reviewed": reviewed, "unreviewed": manifest["rows"] - reviewed}


def render_card(manifest: dict, rows: list[dict], *, run_dirs: Iterable[Path] | None = None,
                decisions: pd.DataFrame | None = None) -> str:
    """The card of a release whose manifest is `manifest` and whose rows (without images) are `rows`.
    `run_dirs` (the runs this version took pairs from) give what the build dropped and the build's leak
    filter and harm check; `decisions` (the release's decisions.parquet) splits its drops by reason code
    and names its leak checker. Without them the card says less, never something else."""
    run_decisions, build_drops = read_run_decisions(run_dirs) if run_dirs is not None else (None, None)
    taken = review_taken(manifest, run_review_states(run_dirs) if run_dirs is not None else None)
    backends = backends_used(rows, run_decisions, manifest, decisions)
    overridden, overridden_leaks, overridden_harm = flagged_rows(rows)
    offline_used = [(role, backend, count) for role, backend, _, count in backends if is_offline(backend)
                    and role in TEXT_ROLES | {"images"}]
    offline_text = [role for role in dict.fromkeys(role for role, _, _ in offline_used) if role in TEXT_ROLES
                    and all(is_offline(backend) for r, backend, _, _ in backends if r == role)]
    offline_text = " or ".join(filter(None, [", ".join(offline_text[:-1]), *offline_text[-1:]]))
    placeholders = sum(row.get("image_backend") == "placeholder" for row in rows)
    types, meanings = column_types(), column_meanings(manifest["counts"]["sub_category"])
    columns = [(name, types.get(name, NOT_RECORDED), meanings.get(name, NOT_RECORDED))
               for name in release_columns(manifest)]
    drops = release_drops(manifest, decisions)
    final = manifest.get("final_filter") or {}
    body = BODY.render(
        name=manifest["name"], version=manifest["version"], preview=manifest["preview"], rows=manifest["rows"],
        extends=manifest["extends"], carried=manifest["carried_rows"], sub_counts=manifest["counts"]["sub_category"],
        taxonomy=taxonomy_phrase(manifest["counts"]["sub_category"]),
        runs=given_runs(manifest), harm_thresholds=harm_threshold_note(manifest),
        provenance=provenance(manifest, rows), dedup_rule=dedup_rule(manifest["options"]),
        dedup_against=dedup_against(manifest),
        recipes=[*earlier_version_first(manifest), *rebuild_recipes(manifest)],
        release_command=release_command(manifest, rows), selected="selection" in manifest,
        final_filter_backend=f"`{final.get('backend', NOT_RECORDED)}`",
        build_drops=build_drops, release_drops=drops,
        drafts_unknown=any(pairs == NOT_RECORDED for _, pairs in (build_drops or {}).values()),
        release_total=sum(count for _, _, count in drops),
        shipped_states=dict(_sorted_state(Counter(row.get("review_state") for row in rows if row.get("review_state")))),
        taken=taken, new_rows=manifest["rows"] - manifest["carried_rows"],
        not_taken=dict(_sorted_state(Counter((manifest.get("dropped") or {}).get("not_taken_by_review") or {}))),
        backends=backends, notes=offline_notes(backends) | pool_notes(backends), offline_used=offline_used,
        offline_text=offline_text, placeholders=placeholders,
        detectors=detectors_used(rows, run_decisions, manifest["version"]), detector_limits=detector_limits(rows),
        columns=columns, licence=licence_text(manifest["license"], rows),
        overridden=overridden, overridden_leaks=overridden_leaks, overridden_harm=overridden_harm,
        not_english=not_english_rows(rows),
        edited=annotator_edited(rows), edit_role=EDIT_ROLE,
        **review_split(manifest, rows),
    )
    return f"---\n{yaml.safe_dump(front_matter(manifest, rows), sort_keys=False)}---\n\n{body}"


def is_offline(backend: str) -> bool:
    """Whether every part of a backend label used no model: the leak filter's label joins the detector's
    and the judge's, so an offline judge is no `OFFLINE_BACKENDS` key as `offline-detector+<judge>`."""
    return all(part in OFFLINE_BACKENDS for part in backend.split(LABEL_JOIN))


def offline_notes(backends: list[tuple[str, str, str, int]]) -> dict[str, str]:
    """Backend label -> the card's note, for each label of the role table made with no model: its parts'
    `OFFLINE_BACKENDS` lines. A label with a model in it gets none: "no language model" would be false."""
    return {backend: "; ".join(dict.fromkeys(OFFLINE_BACKENDS[part] for part in backend.split(LABEL_JOIN)))
            for _, backend, _, _ in backends if is_offline(backend)}


def pool_notes(backends: list[tuple[str, str, str, int]]) -> dict[str, str]:
    """Backend label -> the card's note, for an image pool's: its model is the embedder, no image model."""
    return {backend: POOL_NOTE for _, backend, _, _ in backends if backend.startswith(POOL_BACKEND_PREFIX)}


def _sorted_state(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
