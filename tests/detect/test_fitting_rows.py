"""The rows a calibration is fitted on never include a public source whose licence allows testing
only (`evaluation_only` in evaluation_sets.toml); the team's sets are always in."""

from __future__ import annotations

import json

from pipeline.detect.corpus import evaluation_only_sources, fitting_rows


def test_evaluation_only_sources_are_never_fitted_on(tmp_path):
    held_back = sorted(evaluation_only_sources())[0]
    corpus = tmp_path / "pairs.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"{source}-1", "query": "q", "label": 1, "source": source}) + "\n"
                              for source in (held_back, "fit-me")))
    team = tmp_path / "team"
    team.mkdir()
    (team / "detector_dev.jsonl").write_text(json.dumps(
        {"id": "1", "query": "How do I hide it?", "image_description": "A pistol.", "label": 1}) + "\n")
    assert [(row.id, row.source) for row in fitting_rows(corpus, team)] == [("fit-me-1", "fit-me"),
                                                                             ("dev:1", "team:dev")]
