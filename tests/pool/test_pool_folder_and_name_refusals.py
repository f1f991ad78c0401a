"""What a pool folder or its name can get wrong, and how it shows: a broken link is skipped with its
reason (it was dropped silently), two captions files are refused (the CSV was read as an unsupported
image and its captions lost), and `images.pool.name` must be a plain name (it is a folder of the caption
index: "../../evil" wrote the index outside artifacts/, and "" fell back to the folder's name)."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.pool import load_pool
from tests.cli.test_bad_input import create, jsonl, png, snapshot, workdir  # noqa: F401 (a fixture)

POOL_BACKEND = ["build", "--set", "backends.images='pool'", "--set", "images.pool.folder='pool'"]


def reasons(pool) -> dict[str, str]:
    return {skipped.file: skipped.reason for skipped in pool.skipped}


def test_a_broken_link_is_skipped_with_its_reason(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"},
                                                                        {"file": "gone.png", "caption": "a knife"})})
    os.symlink("does_not_exist.png", tmp_path / "pool" / "gone.png")
    os.symlink("a.png", tmp_path / "pool" / "again.png")  # a link that works is read like a file
    pool = load_pool(tmp_path / "pool")
    assert reasons(pool)["gone.png"] == "broken link (its target does_not_exist.png does not exist)"
    assert len(pool.skipped) == 2 and reasons(pool)["again.png"].startswith("no caption")
    assert [image.file for image in pool.images] == ["a.png"]


def test_a_link_that_points_at_itself_is_skipped_not_a_crash(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"})})
    os.symlink("loop.png", tmp_path / "pool" / "loop.png")
    assert reasons(load_pool(tmp_path / "pool"))["loop.png"].startswith("broken link")


def test_two_captions_files_in_the_folder_are_refused(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"}),
                      "pool/captions.csv": "file,caption\na.png,a blue square\n"})
    with pytest.raises(ValueError, match="holds both captions.jsonl and captions.csv: remove one"):
        load_pool(tmp_path / "pool")


def test_with_a_captions_file_named_the_folders_other_one_is_named_as_not_read(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"}),
                      "pool/captions.csv": "file,caption\na.png,a blue square\n"})
    pool = load_pool(tmp_path / "pool", captions_file=tmp_path / "pool" / "captions.jsonl")
    assert [image.caption for image in pool.images] == ["a red square"]
    assert reasons(pool) == {"captions.csv": f"a second captions file, not read (the captions come from "
                                             f"{tmp_path / 'pool' / 'captions.jsonl'})"}


@pytest.mark.parametrize(("setting", "fragment"), [
    ("images.pool.name='../../evil'", "override images.pool.name: '../../evil' is no pool name"),
    ("images.pool.name=''", "override images.pool.name: '' is no pool name"),
    ("images.pool.name='a/b'", "override images.pool.name: 'a/b' is no pool name"),
    ("images.pool.folder='pool/..'", "the pool folder 'pool/..' has no name of its own to name the pool by"),
])
def test_a_pool_name_that_is_no_plain_name_is_one_line_exit_2(workdir, setting, fragment):  # noqa: F811
    create(workdir, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"})})
    assert_refused([*POOL_BACKEND, "--set", setting], workdir, fragment)


def test_a_build_on_a_folder_with_two_captions_files_is_one_line_exit_2(workdir):  # noqa: F811
    create(workdir, {"pool/a.png": png(), "pool/captions.jsonl": jsonl({"file": "a.png", "caption": "a red square"}),
                     "pool/captions.csv": "file,caption\na.png,a blue square\n"})
    assert_refused(POOL_BACKEND, workdir, "holds both captions.jsonl and captions.csv")


def assert_refused(args: list[str], workdir, fragment: str) -> None:
    before = snapshot(workdir)
    result = CliRunner().invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and fragment in lines[0], result.output
    assert snapshot(workdir) == before  # nothing written, inside artifacts/ or beside it (the work folder)
