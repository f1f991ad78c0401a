"""mut9: what a run made before captions were recorded keeps on resume. An assignment saved with the bytes'
digest only is kept while the bytes are the same (so a resumed run still counts the images its finished
batches use), and a retrieval checkpoint's meta that lacks a digest is no change by itself."""

from __future__ import annotations

import json

from pipeline.pool import load_pool
from pipeline.pool.retrieval import pool_file_change
from tests.pool.test_pool_audit import GUN, KNIFE, captioned_pool, retriever
from tests.pool.test_retrieved_file_changed import ASK


def test_an_assignment_saved_before_caption_digests_is_kept(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    retriever(folder, tmp_path).generate([ASK])
    record = tmp_path / "assignments.json"
    saved = json.loads(record.read_text(encoding="utf-8"))
    record.write_text(json.dumps({item: {"file": entry["file"], "sha256": entry["sha256"]}
                                  for item, entry in saved.items()}), encoding="utf-8")
    assert retriever(folder, tmp_path).assignments == {"item": "knife.png"}


def test_a_meta_without_digests_is_no_change(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE})
    [image] = load_pool(folder).images
    assert pool_file_change({"file": "knife.png"}, image) is None
    assert pool_file_change({"file": "knife.png", "caption": KNIFE}, image) is None
