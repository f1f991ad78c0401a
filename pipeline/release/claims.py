"""What a release's manifest claims about its data, checked against the data (`leakless verify`).

The manifest cannot hold its own checksum, so an edit to it is caught only where it disagrees with
what is checksummed: the rows (review state, `added_in`, `run_id`), the card, decisions.parquet and
the folder's name. Its keys are checked when it is loaded: a manifest without them is no release.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline.release.final_filter import RulesPairChecker
from pipeline.release.writer import plain_file

ACCEPTED = "accepted"
REVIEW_CLAIMS = {True: "unreviewed preview", False: "reviewed: accepted pairs only"}  # manifest `review`, by preview
RELEASE_FOLDER = re.compile(r".+-v\d+")
FINAL_FILTER_STAGE = "final_filter"
# The checker whose decisions name the model the manifest names; a model's decisions name the one that
# answered (a fallback, a dated name), which the manifest's configured model need not be.
FIXED_MODEL_BACKENDS = {RulesPairChecker.backend}
# (key, type) every manifest has held since the first release; `shards` entries need these too.
REQUIRED_KEYS = [("name", str), ("version", int), ("rows", int), ("preview", bool), ("shards", list)]
SHARD_KEYS = [("file", str), ("sha256", str), ("rows", int)]
FILE_KEYS = [("file", str), ("sha256", str), ("bytes", int)]


def manifest_key_problem(manifest) -> str | None:
    """What makes `manifest` (parsed JSON) no release manifest, or None."""
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    wrong = wrong_keys(manifest, REQUIRED_KEYS)
    if wrong:
        return wrong
    if not isinstance(manifest.get("files", []), list):
        return "`files` is not a list"
    for key, keys in (("shards", SHARD_KEYS), ("files", FILE_KEYS)):
        for entry in manifest.get(key, []):
            wrong = wrong_keys(entry, keys) if isinstance(entry, dict) else "an entry that is not an object"
            if wrong:
                return f"`{key}` holds {wrong}"
    return None


def wrong_keys(mapping: dict, keys: list[tuple[str, type]]) -> str | None:
    for key, kind in keys:
        value = mapping.get(key)
        if key not in mapping:
            return f"no `{key}`"
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"`{key}` is not a {kind.__name__} ({value!r})"
    return None


def files_required(manifest: dict) -> bool:
    """Whether the leakless that wrote the manifest lists every file in it: one that writes
    `manifest_format`, or (before that key) the guardrail's drop count, which came after `files`."""
    return "manifest_format" in manifest or "guardrail" in (manifest.get("dropped") or {})


def claim_problems(folder: Path, manifest: dict, rows: list[dict]) -> list[str]:
    """The manifest's claims that the rows, the folder's name and decisions.parquet contradict."""
    return (preview_problems(manifest, rows) + identity_problems(folder, manifest, rows)
            + lineage_problems(manifest, rows) + run_problems(manifest, rows)
            + final_filter_problems(folder, manifest))


def preview_problems(manifest: dict, rows: list[dict]) -> list[str]:
    """A release that is not a preview ships accepted pairs only, and `review` says what `preview` says."""
    problems = []
    unreviewed = Counter(row["review_state"] for row in rows if row["review_state"] != ACCEPTED)
    if not manifest["preview"] and unreviewed:
        problems.append(f"manifest.json: preview is false, but {sum(unreviewed.values())} row(s) are not "
                        f"accepted in review ({', '.join(f'{n} {state}' for state, n in unreviewed.items())})")
    if "review" in manifest and manifest["review"] != REVIEW_CLAIMS[manifest["preview"]]:
        problems.append(f"manifest.json: review {manifest['review']!r} but preview is "
                        f"{str(manifest['preview']).lower()}")
    return problems


def identity_problems(folder: Path, manifest: dict, rows: list[dict]) -> list[str]:
    """`name` and `version` against the folder's name (when it has a release's form) and the rows."""
    problems = []
    expected = f"{manifest['name']}-v{manifest['version']}"
    if RELEASE_FOLDER.fullmatch(folder.name) and folder.name != expected:
        problems.append(f"manifest.json: name and version say {expected}, the folder is {folder.name}")
    later = sorted({row["added_in"] for row in rows if (row["added_in"] or 0) > manifest["version"]})
    if later:
        problems.append(f"manifest.json: version {manifest['version']}, but rows were added in v{later[-1]}")
    return problems


def lineage_problems(manifest: dict, rows: list[dict]) -> list[str]:
    """`carried_rows` and `extends` against the rows' `added_in`: a carried row was added by an earlier
    version, no later than the one this version extends."""
    version, problems = manifest["version"], []
    unset = sum(row["added_in"] is None for row in rows)
    if unset:
        problems.append(f"{unset} row(s) have no added_in")
    carried = [row["added_in"] for row in rows if row["added_in"] not in (None, version)]
    if "carried_rows" in manifest and manifest["carried_rows"] != len(carried):
        problems.append(f"manifest.json: carried_rows {manifest['carried_rows']}, but {len(carried)} row(s) "
                        f"were added before v{version}")
    extends = manifest.get("extends")
    if extends is None and carried:
        problems.append(f"manifest.json: extends nothing, but {len(carried)} row(s) were added before v{version}")
    elif extends is not None and (not isinstance(extends, int) or not 0 < extends < version
                                  or any(added_in > extends for added_in in carried)):
        problems.append(f"manifest.json: extends {extends!r}, but this is v{version} and its carried rows were "
                        f"added in {', '.join(f'v{v}' for v in sorted(set(carried))) or 'no version'}")
    return problems


def run_problems(manifest: dict, rows: list[dict]) -> list[str]:
    """`runs` against the rows' `run_id`: each run's new and carried counts where the manifest holds them
    (`run_entries`), else that every row this version added came from a run it names."""
    version, entries = manifest["version"], manifest.get("runs")
    if not isinstance(entries, list):
        return []
    listed = {entry.get("run_id") for entry in entries if isinstance(entry, dict)}
    if all(isinstance(entry, dict) and {"new", "carried"} <= entry.keys() for entry in entries):
        claimed = {(entry["run_id"], kind): entry[kind] for entry in entries for kind in ("new", "carried")}
        found = Counter((row["run_id"], "new" if row["added_in"] == version else "carried") for row in rows)
        if {key: n for key, n in claimed.items() if n} != dict(found):
            return [f"manifest.json: runs {describe_runs(claimed)}, the rows say {describe_runs(found)}"]
        return []
    strangers = sorted({row["run_id"] for row in rows if row["added_in"] == version} - listed, key=str)
    return [f"manifest.json: runs {sorted(listed, key=str)}, but rows added in v{version} came from "
            f"{', '.join(map(str, strangers))}"] if strangers else []


def describe_runs(counts: dict) -> str:
    return ", ".join(f"{run_id} {n} {kind}" for (run_id, kind), n in sorted(counts.items(), key=str) if n) or "none"


def final_filter_problems(folder: Path, manifest: dict) -> list[str]:
    """`final_filter` (backend, model, kept, dropped) against the final-filter decisions in
    decisions.parquet. A selected version (`selection`) keeps its source's entry and has none."""
    claim = manifest.get("final_filter")
    path = folder / "decisions.parquet"
    if not isinstance(claim, dict) or "selection" in manifest or not plain_file(path):  # a link: file_problems
        return []
    try:
        frame = pd.read_parquet(path, columns=["stage", "verdict", "backend", "model"])
    except Exception as error:  # a file listed and checksummed but not a decisions table: say so, don't crash
        return [f"decisions.parquet: unreadable ({type(error).__name__})"]
    decisions = frame[frame["stage"] == FINAL_FILTER_STAGE]
    problems = []
    found = {"kept": int((decisions["verdict"] == "keep").sum()), "dropped": int((decisions["verdict"] == "drop").sum())}
    for key, count in found.items():
        if key in claim and claim[key] != count:
            problems.append(f"manifest.json: final_filter {key} {claim[key]}, decisions.parquet records {count}")
    backends = set(decisions["backend"])
    if backends and backends != {claim.get("backend")}:
        problems.append(f"manifest.json: final_filter backend {claim.get('backend')!r}, decisions.parquet "
                        f"names {', '.join(sorted(map(str, backends)))}")
    elif backends and claim.get("backend") in FIXED_MODEL_BACKENDS and set(decisions["model"]) != {claim.get("model")}:
        problems.append(f"manifest.json: final_filter model {claim.get('model')!r}, decisions.parquet names "
                        f"{', '.join(sorted(map(str, set(decisions['model']))))}")
    return problems

