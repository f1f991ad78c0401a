"""The card's YAML as the Hub reads it: `language: [en]` (the detector and the hard block read English only);
`--license` is one of the Hub's licence identifiers, refused otherwise (one line, exit 2, before any work,
with the identifier it was likely meant to be); `other` carries `license_name` and `license_link`, as the
Hub's card template asks. huggingface_hub's own DatasetCard / DatasetCardData take the result offline."""

from __future__ import annotations

import pytest
import yaml
from huggingface_hub import DatasetCard, DatasetCardData
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.release.card import render_card
from pipeline.release.card_hub_licences import licence_problem, unlisted_licence_note
from pipeline.release.card_licence import card_licence_problem
from tests.release.test_release_card import manifest, row

POOL_ROW = {"image_backend": "pool:photos", "image_model": "all-MiniLM-L6-v2", "source": "TestSetX"}


def meta(card: str) -> dict:
    return yaml.safe_load(card.split("---\n", 2)[1])


def hub_reads(card: str) -> dict:
    """The metadata as huggingface_hub parses the card and round-trips it through DatasetCardData."""
    data = DatasetCard(card).data
    assert isinstance(data, DatasetCardData)
    return DatasetCardData(**data.to_dict()).to_dict()


def test_every_card_says_its_language_is_english():
    card = render_card(manifest(2, license="cc-by-4.0"), [row(1), row(2)])
    assert meta(card)["language"] == ["en"]
    assert hub_reads(card)["language"] == ["en"]
    assert "license_name" not in meta(card) and "license_link" not in meta(card)  # a listed licence needs none


def test_pool_images_name_other_and_link_the_cards_licence_section():
    card = render_card(manifest(2, license="cc-by-4.0"), [row(1), row(2, **POOL_ROW)])
    read = hub_reads(card)
    assert read["license"] == ["cc-by-4.0", "other"]
    assert read["license_name"] == "image-pool-sources" and read["license_link"] == "README.md#licence"
    assert "\n## Licence\n" in card and "`TestSetX`" in card.split("## Licence", 1)[1]  # what the link reaches


def test_a_licence_outside_the_list_is_other_with_its_name():
    card = render_card(manifest(1, license="other:my-licence-1.0"), [row(1)])
    read = hub_reads(card)
    assert read["license"] == "other" and read["license_name"] == "my-licence-1.0"
    assert read["license_link"] == "README.md#licence"
    assert "released under the `my-licence-1.0` licence" in card
    assert card_licence_problem(read["license"], "other:my-licence-1.0", [row(1)]) is None  # verify agrees
    assert card_licence_problem(read["license"], "other:my-licence-1.0", None) is None


@pytest.mark.parametrize("licence", ["apache-2.0", "cc-by-4.0", "cc-by-nc-sa-4.0", "unknown", "other:my-licence-1.0",
                                     "llama3", "llama3.1", "llama3.3"])
def test_hub_identifiers_and_a_named_other_are_taken(licence):
    assert licence_problem(licence) is None
    assert unlisted_licence_note(licence) is None


@pytest.mark.parametrize("licence, meant", [("eupl-1.2", "eupl-1.1"), ("cc-by-4", "cc-by-4.0")])
def test_an_identifier_newer_than_the_list_is_taken_with_a_note_naming_the_closest(licence, meant):
    """The Hub adds identifiers after any copy of its list ("llama3" was refused as "did you mean llama2?"):
    one spelt as an identifier is taken, with a note that names the listed one it is closest to."""
    assert licence_problem(licence) is None
    note = unlisted_licence_note(licence)
    assert f"did you mean {meant}?" in note and f"--license other:{licence}" in note


def refused(tmp_path, monkeypatch, licence: str):
    (tmp_path / "runs" / "r1" / "data").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "manifest.json").write_text("{}", encoding="utf-8")  # a finished run, to `release`
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["release", "r1", "--name", "z", "--preview", "--runs-dir", "runs",
                                      "--releases-dir", "releases", "--license", licence])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "releases").exists(), "a refused release writes nothing"
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: --license ")
    return result.stderr


@pytest.mark.parametrize("licence, meant", [("CC BY 4.0", "cc-by-4.0"), ("Apache-2.0", "apache-2.0"),
                                             ("MIT", "mit")])
def test_a_licence_the_hub_does_not_know_is_refused_with_what_was_meant(tmp_path, monkeypatch, licence, meant):
    message = refused(tmp_path, monkeypatch, licence)
    assert f"--license {licence} is not a Hugging Face licence identifier; did you mean {meant}?" in message


@pytest.mark.parametrize("licence", ["other", "other:My Licence"])
def test_other_without_a_usable_name_is_refused(tmp_path, monkeypatch, licence):
    assert "other:" in refused(tmp_path, monkeypatch, licence)
