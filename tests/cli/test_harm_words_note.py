"""A lab that renames a category ("Violence & Weapons") loses its harm-word table in
pipeline/lexicon/harm_words.toml, which is keyed by the category's name: the rules rewriter then left "riot" and
"strangle" in her queries, and nothing said so. The build now names such a category at start, once."""

from __future__ import annotations

import pytest

import pipeline.taxonomy as taxonomy
from pipeline.cli.preflight import check_build_ready
from pipeline.config import load_config
from pipeline.lexicon import LEXICON_FILE


def settings(tmp_path, *overrides: str):
    return load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'", *overrides])


@pytest.fixture
def renamed(tmp_path, monkeypatch):
    """The shipped taxonomy with its categories renamed as `renames` says."""
    shipped = taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8")

    def rename(**renames: str) -> None:
        text = shipped
        for old, new in renames.items():
            text = text.replace(f'name = "{old}"', f'name = "{new}"')
        edited = tmp_path / "taxonomy.toml"
        edited.write_text(text, encoding="utf-8")
        monkeypatch.setattr(taxonomy, "TAXONOMY_FILE", edited)
        taxonomy.load_taxonomy.cache_clear()

    yield rename
    taxonomy.load_taxonomy.cache_clear()


def harm_notes(notes: list[str]) -> list[str]:
    return [note for note in notes if "harm-word table" in note]


def test_a_renamed_category_is_named_once_at_build_start_with_the_file(tmp_path, renamed):
    renamed(Violent="Violence & Weapons")
    notes = harm_notes(check_build_ready(settings(tmp_path)))
    assert notes == [f"{LEXICON_FILE} has no harm-word table for the taxonomy's category 'Violence & Weapons': the "
                     "rules rewriter replaces only the common harm words in their queries (add a "
                     '[harm."Violence & Weapons"] table, keyed by the exact name)']


def test_several_renamed_categories_are_one_note(tmp_path, renamed):
    renamed(Violent="Violence & Weapons", Hate="Hateful Speech")
    (note,) = harm_notes(check_build_ready(settings(tmp_path)))
    assert "categories 'Violence & Weapons', 'Hateful Speech':" in note


def test_the_shipped_taxonomy_has_a_table_for_every_category(tmp_path):
    assert harm_notes(check_build_ready(settings(tmp_path))) == []


def test_with_the_llm_rewriter_no_note(tmp_path, renamed):
    from pipeline.cli.preflight import harm_words_note  # check_build_ready would ask the LLM server
    renamed(Violent="Violence & Weapons")
    assert harm_words_note(settings(tmp_path, "backends.rewriter='llm'")) is None
    assert harm_words_note(settings(tmp_path)) is not None
