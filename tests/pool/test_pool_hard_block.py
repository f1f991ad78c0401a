"""A pool caption or `source` that the hard block stops (a private person's phone or e-mail) ended every
seed that retrieved the image `blocked` at the guardrail, unnamed in the ledger, blocked.parquet, the
summary and pool_skipped.json, and none of those seeds was matched to its next-best image (audit
poolretrieve, finding 2). Now such an entry is left out when the pool loads, skipped in
pool_skipped.json by its file and the rule (never its text), and seeds retrieve from the rest."""

from __future__ import annotations

import json

from pipeline.backends.minilm import default_embedder
from pipeline.config import load_config
from pipeline.factory import _open_pool
from pipeline.plan import pool_skipped
from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool
from pipeline.stages.guardrail import GuardrailStage
from pipeline.stages.retrieval import RetrievalStage
from tests.pool.test_pool import draw
from tests.pool.test_retrieval_stage import batch_of, seed

DESCRIPTION = "A large chef's knife on a chopping block in a kitchen"
PHONE, EMAIL = "07700 900123", "emily.carter@example.com"
ROWS = [  # (file, caption, source): the best match for DESCRIPTION has a private e-mail as its source
    ("best.png", DESCRIPTION, f"photo by {EMAIL}"),
    ("phone.png", f"A kitchen knife on a doorstep, call {PHONE}", "kitchen-photos CC-BY-4.0"),
    ("next.png", "A kitchen knife lying on a wooden cutting board", "kitchen-photos CC-BY-4.0"),
]


def make_pool(folder):
    folder.mkdir()
    lines = []
    for n, (file, caption, source) in enumerate(ROWS):
        draw(n).save(folder / file)
        lines.append(json.dumps({"file": file, "caption": caption, "source": source}))
    (folder / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _open_pool.cache_clear()  # a pool is read once per process
    return folder


def test_an_entry_the_hard_block_stops_is_skipped_by_file_and_rule_never_its_text(tmp_path):
    pool = load_pool(make_pool(tmp_path / "pool"), name="kitchen")
    assert [image.file for image in pool.images] == ["next.png"]
    reasons = {skipped.file: skipped.reason for skipped in pool.skipped}
    assert reasons == {
        "best.png": "stopped by the hard block (guardrail private_person:email) in its source: not used, "
                    "so no seed retrieves or starts from it",
        "phone.png": "stopped by the hard block (guardrail private_person:phone) in its caption: not used, "
                     "so no seed retrieves or starts from it"}
    assert not any(text in reason for reason in reasons.values() for text in (PHONE, EMAIL, "emily", "E****"))


def test_a_seed_retrieves_the_next_best_image_instead_of_being_blocked(tmp_path):
    retriever = PoolRetriever(load_pool(make_pool(tmp_path / "pool"), name="kitchen"), tmp_path / "index",
                              default_embedder(), RetrievalConfig(min_similarity=0.3))
    knife = seed("chef's knife", DESCRIPTION)
    guarded = GuardrailStage()(RetrievalStage(retriever, tmp_path / "run")(batch_of(knife)))
    assert guarded.blocked == [] and guarded.failures == []
    assert guarded.image_meta[knife.id]["file"] == "next.png"
    assert {pair.image_description for pair in guarded.pairs} == {ROWS[2][1]}


def test_the_run_s_pool_skipped_list_names_the_file(tmp_path):
    folder = make_pool(tmp_path / "pool")
    config = load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'", "backends.images='pool'",
                                f"images.pool.folder='{folder}'"])
    skipped = {entry["file"]: entry["reason"] for entry in pool_skipped(config)}
    assert set(skipped) == {"best.png", "phone.png"}
    assert "guardrail private_person:email" in skipped["best.png"]
