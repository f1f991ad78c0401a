"""`backends.images = "placeholder"` with a filled [images.diffusers] section gets one note that those settings
are unused: the build ran without a word, its manifest carrying the section as if a model had made the images."""

from __future__ import annotations

import pytest

from pipeline.cli.preflight import check_build_ready
from pipeline.config import load_config

DIFFUSERS = ["images.diffusers.model='/models/sd-tiny'", "images.diffusers.family='sd'", "images.diffusers.steps=2"]


def notes_of(tmp_path, monkeypatch, overrides: list[str]) -> list[str]:
    monkeypatch.chdir(tmp_path)
    return check_build_ready(load_config(None, [f"run.runs_dir='{tmp_path / 'runs'}'", *overrides]))


@pytest.mark.parametrize("backend", ["placeholder", None])  # None: the default, the placeholder
def test_a_diffusers_section_beside_another_image_backend_is_noted_once(tmp_path, monkeypatch, backend):
    chosen = [f"backends.images='{backend}'"] if backend else []
    notes = notes_of(tmp_path, monkeypatch, [*chosen, *DIFFUSERS])
    unused = [note for note in notes if "[images.diffusers]" in note]
    assert unused == ["[images.diffusers] is set, but backends.images = 'placeholder': its settings are unused "
                      "(set backends.images = \"diffusers\" to make the images with that model)"]


def test_no_note_without_the_section(tmp_path, monkeypatch):
    assert not [note for note in notes_of(tmp_path, monkeypatch, []) if "[images.diffusers]" in note]
