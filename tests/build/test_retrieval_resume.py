"""A resume of an element-first pool run whose retrieved pool file changed since (new pixels or a new caption
under the same name) matches the seed again against the pool as it is now, as docs/images.md says: the
resume names the file in a note, forgets the seed's saved assignment (also one saved before assignments
kept the caption), and has the batch made again from retrieval on, since its pairs were written for the
old caption. Unchanged files are no note and no work."""

from __future__ import annotations

import json

import pytest

from pipeline.config import load_config
from pipeline.contracts import StageName
from pipeline.factory import _open_pool, make_image_generator
from pipeline.rundir import RunDir
from pipeline.stages.retrieval import RetrievalStage
from tests.pool.test_pool_audit import GUN, KNIFE, captioned_pool, write_captions
from tests.pool.test_retrieval_stage import batch_of, seed

HARBOUR = "A quiet harbour at dawn with fishing boats"
LATER = (StageName.guardrail.value, StageName.rewrite.value)  # checkpoints made from the retrieval's output


@pytest.fixture
def resumable(tmp_path, monkeypatch):
    """A pool run with one batch retrieved (knife.png) and checkpointed past retrieval."""
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))  # the pool's caption index
    pool = tmp_path / "pool"
    captioned_pool(pool, {"knife.png": KNIFE, "gun.png": GUN})
    _open_pool.cache_clear()
    settings = load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'", "backends.images='pool'",
                                  f"images.pool.folder='{pool}'", "images.pool.name='resumepool'",
                                  "images.pool.min_similarity=0.35"])
    run = RunDir(settings.run.runs_dir, "r1")
    run.claim(settings)
    drafted = batch_of(seed("chef's knife", "A large chef's knife on a chopping block in a kitchen"))
    retrieved = RetrievalStage(make_image_generator(settings, run.path), run.path)(drafted)
    assert retrieved.image_meta[drafted.seeds[0].id]["file"] == "knife.png"
    run.save(StageName.drafts.value, drafted.id, drafted)
    for stage in (StageName.retrieval.value, *LATER):
        run.save(stage, drafted.id, retrieved)
    yield settings, run, drafted, pool
    _open_pool.cache_clear()


def a_new_process():
    _open_pool.cache_clear()  # a process reads a pool once; the resume is a new one


def saved_assignments(run: RunDir) -> dict:
    return json.loads(run.pool_assignments.read_text(encoding="utf-8"))


def test_an_unchanged_pool_is_no_note_and_no_work(resumable):
    settings, run, drafted, _ = resumable
    a_new_process()
    assert run.pool_changes_note([]) is None
    run.claim(settings)
    assert all(run.checkpoint(stage, drafted.id).exists() for stage in (StageName.retrieval.value, *LATER))


@pytest.mark.parametrize("saved_before_captions", [False, True])
def test_a_caption_edited_since_retrieval_is_named_and_its_batch_retrieved_again(resumable, saved_before_captions):
    settings, run, drafted, pool = resumable
    knife = drafted.seeds[0].id
    if saved_before_captions:  # an assignments file written before the caption's digest was kept
        run.pool_assignments.write_text(json.dumps({item: {key: entry[key] for key in ("file", "sha256")}
                                                    for item, entry in saved_assignments(run).items()}))
    write_captions(pool, [{"file": "knife.png", "caption": HARBOUR}, {"file": "gun.png", "caption": GUN}])
    a_new_process()

    note = run.pool_changes_note([])
    assert note == ("the image pool changed since run r1 last ran: 1 retrieved pool image(s) changed (knife.png "
                    "has a new caption); the 1 batch(es) holding their seeds are made again from retrieval on, "
                    "matching those seeds against the pool as it is now")

    run.claim(settings)
    assert run.checkpoint(StageName.drafts.value, drafted.id).exists()
    assert not any(run.checkpoint(stage, drafted.id).exists() for stage in (StageName.retrieval.value, *LATER))
    assert knife not in saved_assignments(run)
    assert run.pool_changes_note([]) is None  # said once

    # the resumed retrieval matches the seed against the pool as it is now: the harbour fits no knife
    again = RetrievalStage(make_image_generator(settings, run.path), run.path)(drafted)
    assert knife not in again.image_meta and not again.pairs
    [failure] = again.failures
    assert failure.stage == StageName.retrieval and failure.error.startswith("no pool image fits")


def test_new_pixels_under_the_name_are_named_too(resumable):
    from tests.pool.test_pool_audit import picture

    _, run, _, pool = resumable
    picture(7).save(pool / "knife.png")
    a_new_process()
    assert "(knife.png has new pixels)" in run.pool_changes_note([])
