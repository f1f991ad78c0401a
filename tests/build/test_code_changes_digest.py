"""A build from a checkout with uncommitted changes recorded only `uncommitted_changes: true`, and a new file
git does not track (a module under pipeline/) not even that: two builds of one commit with different edits
could not be told apart. The record now counts untracked files under pipeline/, flows/ and prompts/, and
carries a short digest of `git diff HEAD` and of those files (names and contents); a clean checkout's
record is as it was."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pipeline.run_records import CHANGES_DIGEST_LENGTH, code_version

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "leakless"
    (repo / "pipeline").mkdir(parents=True)
    (repo / "pipeline" / "stage.py").write_text("THRESHOLD = 0.5\n")
    (repo / "README.md").write_text("notes\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def test_a_clean_checkout_records_its_commit_and_no_digest(checkout):
    version = code_version(checkout)
    assert set(version) == {"commit", "uncommitted_changes"} and version["uncommitted_changes"] is False
    (checkout / "scratch.txt").write_text("an untracked file outside the code folders\n")
    assert code_version(checkout) == version


def test_two_different_edits_of_one_commit_are_told_apart_and_the_same_edit_is_not(checkout):
    (checkout / "pipeline" / "stage.py").write_text("THRESHOLD = 0.6\n")
    first = code_version(checkout)
    assert first["uncommitted_changes"] is True and len(first["changes_digest"]) == CHANGES_DIGEST_LENGTH
    assert code_version(checkout) == first  # the same edit, the same record

    (checkout / "pipeline" / "stage.py").write_text("THRESHOLD = 0.7\n")
    assert code_version(checkout)["changes_digest"] != first["changes_digest"]


def test_an_untracked_file_under_the_code_folders_counts_by_name_and_contents(checkout):
    (checkout / "pipeline" / "word_roles.py").write_text("ROLES = 1\n")
    with_module = code_version(checkout)
    assert with_module["uncommitted_changes"] is True and "changes_digest" in with_module

    (checkout / "pipeline" / "word_roles.py").write_text("ROLES = 2\n")
    changed = code_version(checkout)["changes_digest"]
    assert changed != with_module["changes_digest"]
    (checkout / "pipeline" / "word_roles.py").rename(checkout / "pipeline" / "roles.py")
    assert code_version(checkout)["changes_digest"] not in (changed, with_module["changes_digest"])


def test_the_card_names_the_changes_digest_beside_the_commit():
    from pipeline.release.provenance import rebuild_recipes

    dirty = {"commit": "c" * 40, "uncommitted_changes": True, "changes_digest": "0123456789abcdef"}
    recipe, = rebuild_recipes({"runs": [{"run_id": "r1", "build": {"code": dirty, "config": {}}}]})
    assert recipe.endswith("leakless commit `cccccccccccc` with uncommitted changes (digest `0123456789abcdef`)")
