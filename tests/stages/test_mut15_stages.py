"""mut15: `made_with_other_files` mutations the quick tests let through."""

from __future__ import annotations

import json

from pipeline.stages.images import made_with_other_files


def test_an_image_made_with_another_model_is_not_counted_as_made_from_other_files(tmp_path):
    # M2: without the model check an image noted for another model was counted as outdated
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "s1.json").write_text(json.dumps({"made_for": {"model": "/models/a", "model_files": "x"}}))
    (tmp_path / "images" / "s2.json").write_text(json.dumps({"made_for": {"model": "/models/b", "model_files": "x"}}))
    assert made_with_other_files(tmp_path, ["s1", "s2"], {"model": "/models/b", "model_files": "y"}) == ["s2"]
