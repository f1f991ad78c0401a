"""An edited role template is read again on its next load, and its hash follows (mutation round 3)."""

import os

import pipeline.prompts
from pipeline.prompts import load_template, text_hash


def test_an_edited_template_is_loaded_again_with_its_new_hash(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline.prompts, "prompts_dir", lambda: tmp_path)
    path = tmp_path / "role.j2"
    path.write_text("Rewrite {{ query }}.", encoding="utf-8")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    template, first_hash = load_template("role.j2")
    assert template.render(query="q") == "Rewrite q." and first_hash == text_hash("Rewrite {{ query }}.")

    path.write_text("Reword {{ query }}.", encoding="utf-8")
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))
    template, second_hash = load_template("role.j2")
    assert template.render(query="q") == "Reword q." and second_hash == text_hash("Reword {{ query }}.")
