"""A run released after taxonomy.toml was edited since its build: where the current file files its pairs
otherwise (a category renamed), the release refuses it before any work, in one line naming the run, the file
and both shas, rather than dropping whole sub-categories as release.miscategorised with exit 0. An edit that
leaves its pairs where they were, and a run made before prompts.json, release as before."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import pipeline.taxonomy as taxonomy
from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.hashing import sha256_file
from pipeline.release.make import make_release
from pipeline.release.taxonomy_check import TAXONOMY_RECORD, TaxonomyChanged
from tests.support.release_runs import make_run, named_elements, pair_row

VIOLENT_SUBS = ("Weapon-Related Violence", "Public Violence and Rioting", "Abuse and Physical Altercations")


@pytest.fixture
def edited_taxonomy(tmp_path, monkeypatch):
    """Point the taxonomy at a copy of the file as it is; returns a function editing the copy."""
    shipped = taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8")
    copy = tmp_path / "taxonomy.toml"
    copy.write_text(shipped, encoding="utf-8")

    def edit(change) -> str:
        copy.write_text(change(shipped), encoding="utf-8")
        taxonomy.load_taxonomy.cache_clear()
        return sha256_file(copy)

    monkeypatch.setattr(taxonomy, "TAXONOMY_FILE", copy)
    yield edit
    taxonomy.load_taxonomy.cache_clear()


def element_of(sub_category: str):
    return next(element for element in named_elements() if element.sub_category == sub_category)


def run_with_violence(tmp_path, *, recorded: bool = True):
    """A run of 2 Violent pairs (in two sub-categories) and 2 Hate ones, recording the taxonomy it was made
    with (the file as it is)."""
    elements = [element_of(sub) for sub in (*VIOLENT_SUBS[:2], "Cultural Xenophobia", "Religious Intolerance")]
    rows = [pair_row(n, "lab3") | {"category": element.category, "sub_category": element.sub_category,
                                   "element": element.element, "image_description": element.description}
            for n, element in enumerate(elements)]
    run = make_run(tmp_path / "runs", "lab3", rows)
    if recorded:
        prompts = {TAXONOMY_RECORD: sha256_file(taxonomy.TAXONOMY_FILE), "prompts/offline/references.toml": "0" * 64}
        (run / "prompts.json").write_text(json.dumps(prompts), encoding="utf-8")
    return run, sum(row["category"] == "Violent" for row in rows)


def release_cli(tmp_path, *args):
    return CliRunner().invoke(app, ["release", "lab3", "--name", "lab", "--preview", "--runs-dir",
                                    str(tmp_path / "runs"), "--releases-dir", str(tmp_path / "releases"), *args])


def test_a_renamed_category_refuses_the_release_in_one_line_before_any_work(tmp_path, edited_taxonomy):
    run, violent = run_with_violence(tmp_path)
    old = sha256_file(taxonomy.TAXONOMY_FILE)
    new = edited_taxonomy(lambda text: text.replace('name = "Violent"', 'name = "Violence & Weapons"'))
    result = release_cli(tmp_path)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == (
        f"error: run lab3 was made with another version of {TAXONOMY_RECORD} (sha256 {old[:12]} -> {new[:12]}), "
        f"which files {violent} of its pairs otherwise ('{VIOLENT_SUBS[0]}' is under 'Violent' in the run, now "
        f"under 'Violence & Weapons'; and 1 more sub-category): the release would drop them as "
        "release.miscategorised; restore the file the run was made with, or build the run again (a new --run-id) "
        "with this one")
    assert not (tmp_path / "releases").exists()
    with pytest.raises(TaxonomyChanged, match="run lab3 was made with another version"):  # from Python too
        make_release([run], name="lab", releases_dir=tmp_path / "releases", embedder=None, preview=True)


def test_a_removed_sub_category_is_named_as_not_in_the_taxonomy(tmp_path, edited_taxonomy):
    run_with_violence(tmp_path)
    edited_taxonomy(lambda text: text.replace(f'name = "{VIOLENT_SUBS[1]}"', 'name = "Riots"'))
    result = release_cli(tmp_path)
    assert result.exit_code == 2
    assert f"which files 1 of its pairs otherwise ('{VIOLENT_SUBS[1]}' is under 'Violent' in the run, now not in it)" \
        in result.output


@pytest.mark.slow
def test_an_edit_that_files_every_pair_where_it_was_releases_as_before(tmp_path, edited_taxonomy):
    run, _ = run_with_violence(tmp_path)
    edited_taxonomy(lambda text: "# the lab's copy\n" + text)  # another sha, the same filing
    folder = make_release([run], name="lab", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                          preview=True)
    assert json.loads((folder / "manifest.json").read_text())["dropped"]["final_filter"] == 0


def test_a_run_made_before_prompts_json_is_not_checked(tmp_path, edited_taxonomy):
    run_with_violence(tmp_path, recorded=False)
    edited_taxonomy(lambda text: text.replace('name = "Violent"', 'name = "Violence & Weapons"'))
    result = release_cli(tmp_path, "--config", str(tmp_path / "no-such.toml"))  # the next step's refusal
    assert result.exit_code == 2 and "no-such.toml" in result.output and "another version" not in result.output


@pytest.mark.slow
def test_extend_with_runs_made_after_a_rename_would_ship_two_category_names_and_is_refused(tmp_path, edited_taxonomy,
                                                                                          monkeypatch):
    first = make_run(tmp_path / "runs", "lab3", [pair_row(0, "lab3") | xenophobia(0)])
    v1 = make_release([first], name="lab", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                      preview=True)
    # the rename, in the taxonomy and the element library (so the final filter keeps the new pair)
    edited_taxonomy(lambda text: text.replace('name = "Hate"', 'name = "Hatred"'))
    library = tmp_path / "elements.jsonl"
    library.write_text(taxonomy.ELEMENTS_FILE.read_text(encoding="utf-8").replace(
        '{"category": "Hate", ', '{"category": "Hatred", '), encoding="utf-8")
    monkeypatch.setattr(taxonomy, "ELEMENTS_FILE", library)
    after = make_run(tmp_path / "runs", "extend-1", [pair_row(1, "extend-1") | xenophobia(1, category="Hatred")])
    with pytest.raises(TaxonomyChanged) as refused:
        make_release([after], name="lab", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                     preview=True, extend=True)
    assert str(refused.value) == (
        "sub-category 'Cultural Xenophobia' is under 'Hate' in lab-v1 and under 'Hatred' in run extend-1: the "
        f"release would ship it under two category names (was the category renamed in {TAXONOMY_RECORD}?); name "
        "it back and build the runs again, or release them under a new --name")
    assert sorted(path.name for path in v1.parent.iterdir() if not path.name.startswith(".")) == ["lab-v1"]


def xenophobia(n: int, category: str = "Hate") -> dict:
    elements = [element for element in named_elements() if element.sub_category == "Cultural Xenophobia"]
    return {"category": category, "sub_category": "Cultural Xenophobia", "element": elements[n].element,
            "image_description": elements[n].description}
