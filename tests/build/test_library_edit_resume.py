"""An edit of the bundled element library is another leak detector (its terms are in detector.version),
so a run made before the edit is not resumed: an audit appended an element past run.size, the plan's
chosen elements stayed the same, and the resume would have scored the rest with other library terms.
A run whose prompts.json predates the library's record still resumes, as for the other late records."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline import taxonomy
from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir

RECORDED_AS = "pipeline/taxonomy/elements.jsonl"
ADDED = {"category": "Illegal Activity", "sub_category": "Cybercrime", "element": "card shimming wafer",
         "kind": "object", "synonyms": ["chip shimmer", "shim wafer"], "broader": ["fraud device"],
         "description": "A card shimming wafer held in tweezers above the chip slot of a card terminal."}


@pytest.fixture
def library(tmp_path, monkeypatch):
    copy = tmp_path / "elements.jsonl"
    shutil.copy(taxonomy.ELEMENTS_FILE, copy)
    monkeypatch.setattr(taxonomy, "ELEMENTS_FILE", copy)
    return copy


def config(tmp_path):
    return load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'"])


def claimed_then_library_edited(tmp_path, library) -> RunDir:
    run = RunDir(tmp_path / "runs", "r1")
    run.claim(config(tmp_path))
    with library.open("a", encoding="utf-8") as lines:  # past run.size: the chosen elements stay the same
        lines.write(json.dumps(ADDED) + "\n")
    return run


def test_a_resume_after_the_library_was_edited_is_refused_naming_it(tmp_path, library):
    run = claimed_then_library_edited(tmp_path, library)
    with pytest.raises(ConfigError, match=f"run r1 was made with other versions of {RECORDED_AS} \\(sha256 "):
        run.check(config(tmp_path))


def test_a_run_recorded_without_the_library_still_resumes(tmp_path, library):
    run = claimed_then_library_edited(tmp_path, library)
    recorded = json.loads(run.prompts_record.read_text(encoding="utf-8"))
    run.prompts_record.write_text(json.dumps({name: sha for name, sha in recorded.items() if name != RECORDED_AS}))
    run.check(config(tmp_path))
