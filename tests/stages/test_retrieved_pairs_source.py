"""A retrieved pool image's pairs name where the image came from (`source`: the pool's `source`
column, else the pool's name), as image-first pairs do; they said `generation`, in the run's shards,
the release and export-vlsbench's data.json."""

from __future__ import annotations

from pipeline.backends.minilm import default_embedder
from pipeline.batch import Batch
from pipeline.build import pair_rows
from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool
from pipeline.records import Seed
from pipeline.rundir import RunDir
from pipeline.stages.drafts import DraftStage
from pipeline.stages.retrieval import RetrievalStage
from tests.pool.test_pool_audit import picture
from tests.pool.test_retrieval_stage import seed
from tests.stages.test_guardrails import EchoWriter


def pool_of(tmp_path, captions_lines: list[str]):
    folder = tmp_path / "pool"
    folder.mkdir()
    for n in range(len(captions_lines)):
        picture(n).save(folder / f"img{n}.png")
    (folder / "captions.jsonl").write_text("\n".join(captions_lines), encoding="utf-8")
    return load_pool(folder, name="street")


def retrieved(tmp_path, pool, *seeds: Seed) -> tuple[Batch, RunDir]:
    run = RunDir(tmp_path / "runs", "r")
    retriever = PoolRetriever(pool, tmp_path / "index", default_embedder(), RetrievalConfig(min_similarity=0.3))
    drafted = DraftStage(EchoWriter())(Batch(seeds=list(seeds)))
    assert {pair.source for pair in drafted.pairs} == {"generation"}
    return RetrievalStage(retriever, run.path)(drafted), run


def test_retrieved_pairs_take_the_pool_name_or_the_images_own_source_column(tmp_path):
    pool = pool_of(tmp_path, ['{"file": "img0.png", "caption": "A kitchen knife on a wooden cutting board"}',
                              '{"file": "img1.png", "caption": "A handgun on a car seat next to a wallet", '
                              '"source": "UnsafeBench"}'])
    knife = seed("chef's knife", "A chef's knife lying on a chopping board in a kitchen")
    gun = seed("pistol", "A pistol lying on the seat of a car")
    out, _ = retrieved(tmp_path, pool, knife, gun)
    assert {pair.seed_id: pair.source for pair in out.pairs} == {knife.id: "street", gun.id: "UnsafeBench"}


def test_a_run_row_of_a_retrieved_image_ships_the_pools_source(tmp_path):
    pool = pool_of(tmp_path, ['{"file": "img0.png", "caption": "A kitchen knife on a wooden cutting board"}'])
    out, run = retrieved(tmp_path, pool, seed("chef's knife", "A chef's knife on a chopping board"))
    [row] = pair_rows(out, run)
    assert row["source"] == "street" and row["image_backend"] == "pool:street"
