"""A seed blocked as a private person has its element masked in ledger.parquet, as its reason is.

The reason said "guardrail private_person:full_name matched 'E**** C*****'" while the same row's
`element` held "photo of my neighbour emily carter": on the image-first path the element is the pool
caption's subject, so the person the block stopped was written down beside the masked match."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.batch import Batch
from pipeline.ledger import ledger_for
from pipeline.pool.image_first import seeds_from_pool
from pipeline.pool.pool import Pool, PoolImage
from pipeline.records import LedgerEntry
from pipeline.stages.drafts import DraftStage
from pipeline.writers.tables import records_frame, write_frame


def pool_seed(caption: str, file: str):
    image = PoolImage(file=file, path=Path("/pool") / file, sha256=file * 8, caption=caption,
                      caption_by="captions-file", id=file, source="my photos",
                      category="Violent", sub_category="Weapon-Related Violence")
    [seed], _ = seeds_from_pool(Pool(name="pool", folder=Path("/pool"), images=[image]))
    return seed


def written_ledger(batch: Batch, tmp_path: Path) -> list[dict]:
    path = tmp_path / "ledger.parquet"
    write_frame(records_frame(ledger_for(batch), LedgerEntry, "r1"), path)
    return pq.read_table(path).to_pylist()


def test_a_pool_seed_blocked_for_a_person_names_no_one_in_the_ledger(tmp_path):
    person = pool_seed("Photo of my neighbour Emily Carter leaving her house holding a handgun", "b.png")
    assert person.element.element == "photo of my neighbour emily carter"
    [row] = written_ledger(DraftStage(TemplateSeedWriter())(Batch(seeds=[person])), tmp_path)
    assert row["state"] == "blocked" and row["reason"].startswith("guardrail private_person:full_name")
    assert "emily" not in str(row).lower() and "carter" not in str(row).lower()
    assert row["element"] == "p**** o* m* n******** e**** c*****"  # what kind of thing, as `masked` writes it


def test_a_seed_blocked_by_another_rule_keeps_its_element(tmp_path):
    minor = pool_seed("A teenage girl posing in lingerie beside a rifle", "c.png")
    [row] = written_ledger(DraftStage(TemplateSeedWriter())(Batch(seeds=[minor])), tmp_path)
    assert row["state"] == "blocked" and row["reason"].startswith("guardrail sexual_minors")
    assert row["element"] == minor.element.element


def test_an_accepted_seed_s_element_is_as_it_was():
    seed = pool_seed("A man holding a handgun in a parking lot", "d.png")
    [entry] = ledger_for(Batch(seeds=[seed]))
    assert entry.element == "man holding a handgun"
