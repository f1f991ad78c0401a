"""mut9: the changes digest covers an edit that is staged (`git add`), not only one left in the worktree:
`git diff HEAD`, not `git diff`."""

from __future__ import annotations

from tests.build.test_code_changes_digest import checkout, git  # noqa: F401  (fixture)
from tests.build.test_retrieval_resume import HARBOUR, a_new_process, resumable  # noqa: F401  (fixture)
from tests.pool.test_pool_audit import GUN, write_captions

from pipeline.contracts import StageName
from pipeline.run_records import code_version


def test_two_different_staged_edits_are_told_apart(checkout):  # noqa: F811
    (checkout / "pipeline" / "stage.py").write_text("THRESHOLD = 0.6\n")
    git(checkout, "add", "pipeline/stage.py")
    first = code_version(checkout)
    (checkout / "pipeline" / "stage.py").write_text("THRESHOLD = 0.7\n")
    git(checkout, "add", "pipeline/stage.py")
    second = code_version(checkout)
    assert first["uncommitted_changes"] and second["uncommitted_changes"]
    assert first["changes_digest"] != second["changes_digest"]


# the resume note counts the batches to make again, not the files that changed


def test_the_note_counts_every_batch_holding_a_changed_file(resumable):  # noqa: F811
    _, run, drafted, pool = resumable
    checkpoint = run.checkpoint(StageName.retrieval.value, drafted.id)
    twin = checkpoint.parent.parent / (checkpoint.parent.name + "-twin") / checkpoint.name
    twin.parent.mkdir(parents=True)
    twin.write_bytes(checkpoint.read_bytes())  # a second batch served the same file
    write_captions(pool, [{"file": "knife.png", "caption": HARBOUR}, {"file": "gun.png", "caption": GUN}])
    a_new_process()
    note = run.pool_changes_note([])
    assert "1 retrieved pool image(s) changed (knife.png has a new caption); the 2 batch(es)" in note, note


def test_an_untracked_prompt_file_makes_the_checkout_differ(checkout):  # noqa: F811
    clean = code_version(checkout)
    (checkout / "prompts").mkdir()
    (checkout / "prompts" / "rewrite_v2.txt").write_text("Rewrite the query so it names nothing in the image.\n")
    changed = code_version(checkout)
    assert clean["uncommitted_changes"] is False
    assert changed["uncommitted_changes"] is True and "changes_digest" in changed


def test_stale_batches_are_discarded_last_stage_first(resumable, monkeypatch):  # noqa: F811
    """As build.run_stage does: a build killed midway must not leave a later checkpoint without its earlier."""
    from pipeline.factory import STAGE_ORDER
    from pipeline.rundir import RunDir

    settings, run, drafted, pool = resumable
    write_captions(pool, [{"file": "knife.png", "caption": HARBOUR}, {"file": "gun.png", "caption": GUN}])
    a_new_process()
    calls = []
    real = RunDir.discard
    monkeypatch.setattr(RunDir, "discard", lambda self, stages, batch_id: (calls.append(list(stages)),
                                                                            real(self, stages, batch_id)))
    run.claim(settings)
    order = [stage.value for stage in STAGE_ORDER]
    [stages] = calls
    assert stages == sorted(stages, key=order.index, reverse=True) and stages[-1] == StageName.retrieval.value
