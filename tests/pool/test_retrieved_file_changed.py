"""A pool file that an element-first seed was retrieved (same name, new pixels or a new caption) is matched
again, as docs/images.md says: the retriever's saved assignment keeps the caption's digest beside the
bytes', so a caption-only edit is seen too; and a seed whose retrieved file changed is failed at the
images stage naming the file and the change, not as an image taken by another seed."""

from __future__ import annotations

import dataclasses
import json

from pipeline.backends.base import ImageRequest
from pipeline.contracts import ItemError, StageName
from pipeline.hashing import sha256_text
from pipeline.pool import load_pool
from pipeline.stages.images import ImageStage
from pipeline.stages.retrieval import RetrievalStage
from tests.pool.test_pool_audit import GUN, KNIFE, captioned_pool, picture, retriever, write_captions
from tests.pool.test_retrieval_stage import batch_of, seed

ASK = ImageRequest("item", "a kitchen knife on a cutting board", 0)
HARBOUR = "A quiet harbour at dawn with fishing boats"


def test_the_saved_assignment_keeps_the_caption_s_digest(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    (served,) = retriever(folder, tmp_path).generate([ASK])
    saved = json.loads((tmp_path / "assignments.json").read_text(encoding="utf-8"))
    assert saved == {"item": {"file": "knife.png", "sha256": served.meta["source_sha256"],
                              "caption_sha256": sha256_text(KNIFE)}}


def test_a_caption_edited_under_the_same_bytes_is_matched_again(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    (first,) = retriever(folder, tmp_path).generate([ASK])
    assert first.meta["file"] == "knife.png"

    write_captions(folder, [{"file": "knife.png", "caption": HARBOUR}, {"file": "gun.png", "caption": GUN}])
    again = retriever(folder, tmp_path)
    (result,) = again.generate([ASK])
    # not the knife's old assignment served under the harbour's caption: matched afresh, and nothing fits
    assert isinstance(result, ItemError) and result.error.startswith("no pool image fits"), result
    assert "item" not in again.assignments


def test_a_seed_whose_retrieved_file_changed_fails_naming_the_file_not_another_seed(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    knife = seed("chef's knife", "A large chef's knife on a chopping block in a kitchen")
    retrieved = RetrievalStage(retriever(folder, tmp_path), tmp_path / "run")(batch_of(knife))
    ImageStage(retriever(folder, tmp_path), tmp_path / "run")(retrieved.model_copy(update={"pairs": []}))  # dropped

    picture(5).save(folder / "knife.png")  # new pixels under the name, before a rerun brings the seed back
    lost = ImageStage(retriever(folder, tmp_path), tmp_path / "run")(retrieved)
    assert not lost.pairs
    [failure] = lost.failures
    assert failure.stage == StageName.images
    assert failure.error.startswith("its retrieved pool image knife.png has new pixels since it was retrieved")
    assert "another seed" not in failure.error

    (folder / "knife.png").unlink()
    [gone] = ImageStage(retriever(folder, tmp_path), tmp_path / "run")(retrieved).failures
    assert gone.error.startswith("its retrieved pool image knife.png left the pool since it was retrieved")


def test_a_caption_change_is_named_as_such(tmp_path):
    from pipeline.pool.retrieval import pool_file_change

    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE})
    [image] = load_pool(folder).images
    meta = {"file": "knife.png", "source_sha256": image.sha256, "caption": KNIFE}
    assert pool_file_change(meta, image) is None
    edited = dataclasses.replace(image, caption=HARBOUR)
    assert pool_file_change(meta, edited) == "has a new caption"
    assert pool_file_change({**meta, "source_sha256": "0" * 64}, edited) == "has new pixels and a new caption"
    assert pool_file_change(meta, None) == "left the pool"
