"""The card names the build harm check's min_intent_similarity of each run (its drops are counted on the
card), read from the runs' build configs; `leakless verify` passes on a new card and on an old one
without the line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.config import load_config
from pipeline.hashing import sha256_file
from pipeline.release.card_thresholds import INTENT_RULE, harm_threshold_note
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.support.release_forgery import forge_manifest
from tests.support.release_runs import accepted_run

runner = CliRunner()


def build_record(*overrides: str) -> dict:
    return {"config": load_config(None, list(overrides)).model_dump(mode="json")}


def test_each_runs_threshold_is_named_with_its_runs():
    manifest = {"runs": [
        {"run_id": "base", "build": build_record()},
        {"run_id": "h05", "build": build_record("harm_check.min_intent_similarity=0.5")},
        {"run_id": "l03", "build": build_record("leak_filter.threshold=0.3")},
        {"run_id": "judged", "build": build_record("backends.harm_check='llm'")},
        {"run_id": "old", "build": None},
    ]}
    assert harm_threshold_note(manifest) == (
        INTENT_RULE + "0.35 (runs base, l03); 0.5 (run h05). The build config of run old does not record the "
        "harm check's threshold (`backends.harm_check`, `harm_check.min_intent_similarity`). The harm check "
        "of run judged was the LLM's, which has no threshold.")


def test_only_llm_harm_checks_name_no_number():
    manifest = {"runs": [{"run_id": "a", "build": build_record("backends.harm_check='llm'")}]}
    assert harm_threshold_note(manifest) == "The harm check of run a was the LLM's, which has no threshold."
    assert harm_threshold_note({"runs": []}) == ""


def released_with_configs(tmp_path):
    """A release of two runs built at different intent thresholds (each run's config.json)."""
    runs = []
    for run_id, start, intent in (("r1", 0, 0.35), ("r2", 6, 0.5)):
        run = accepted_run(tmp_path / "runs", run_id, 6, start=start)
        config = load_config(None, [f"harm_check.min_intent_similarity={intent}"]).model_dump(mode="json")
        (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
        runs.append(run)
    return make_release(runs, name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_new_release_card_names_each_runs_intent_threshold_and_verifies(tmp_path):
    folder = released_with_configs(tmp_path)
    card = one_line((folder / "README.md").read_text(encoding="utf-8"))
    assert one_line(INTENT_RULE + "0.35 (run r1); 0.5 (run r2).") in card
    assert verify_release(folder, default_embedder()) == []
    result = runner.invoke(app, ["verify", str(folder)])
    assert result.exit_code == 0, result.output


def test_an_old_card_without_the_line_still_verifies(tmp_path):
    folder = released_with_configs(tmp_path)
    card = folder / "README.md"
    lines = card.read_text(encoding="utf-8").splitlines(keepends=True)
    old = "".join(line for line in lines if not line.startswith(INTENT_RULE[:40]))
    assert old != card.read_text(encoding="utf-8") and "min_intent_similarity" not in old
    card.write_text(old, encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:  # the card as the old release recorded it
        if entry["file"] == "README.md":
            entry.update(sha256=sha256_file(card), bytes=card.stat().st_size)
    forge_manifest(folder, manifest)
    assert verify_release(folder, default_embedder()) == []
