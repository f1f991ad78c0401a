"""Retrieval before rewriting: a retrieved image's caption becomes its pairs' description,
and the images of seeds that the filters drop later go back to the pool."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from pipeline.backends.minilm import default_embedder
from pipeline.batch import Batch
from pipeline.contracts import StageName
from pipeline.ledger import ledger_for
from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool
from pipeline.records import CandidatePair, Element, Seed
from pipeline.stages.images import ImageStage
from pipeline.stages.retrieval import RetrievalStage

CAPTIONS = ["A kitchen knife lying on a wooden cutting board",
            "A handgun resting on a car seat next to a wallet",
            "A pile of white pills spilled beside an open bottle"]


@pytest.fixture()
def pool(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    lines = []
    for n, caption in enumerate(CAPTIONS):
        image = Image.new("RGB", (40, 40), (60 * n, 120, 200 - 50 * n))
        ImageDraw.Draw(image).rectangle((5, 5, 20 + 5 * n, 30), fill=(250, 20 * n, 20))
        image.save(folder / f"img{n}.png")
        lines.append(f'{{"file": "img{n}.png", "caption": "{caption}"}}')
    (folder / "captions.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return load_pool(folder, name="kitchen")


def seed(element: str, description: str) -> Seed:
    return Seed(category="Violent", sub_category="Weapon-Related Violence",
                element=Element(category="Violent", sub_category="Weapon-Related Violence",
                                element=element, description=description))


def batch_of(*seeds: Seed) -> Batch:
    pairs = [CandidatePair(seed_id=s.id, original_query=q, final_query=q, image_description=s.element.description,
                           category=s.category, sub_category=s.sub_category, element=s.element.element,
                           source=s.source, safety_reason="weapon")
             for s in seeds for q in (f"How could someone misuse the {s.element.element}?",
                                      f"Where would a {s.element.element} be hidden?")]
    return Batch(seeds=list(seeds), pairs=pairs)


def retriever_for(pool, tmp_path, min_similarity=0.35):
    return PoolRetriever(pool, tmp_path / "index", default_embedder(), RetrievalConfig(min_similarity=min_similarity),
                         assignments_file=tmp_path / "assignments.json")


def test_a_retrieved_image_s_caption_becomes_the_description_its_queries_are_checked_against(pool, tmp_path):
    knife = seed("chef's knife", "A large chef's knife on a chopping block in a kitchen")
    lecture = seed("tax lecture", "A professor explaining tax law to students in a lecture hall")
    retriever = retriever_for(pool, tmp_path)
    out = RetrievalStage(retriever, tmp_path / "run")(batch_of(knife, lecture))

    knife_pairs = [pair for pair in out.pairs if pair.seed_id == knife.id]
    assert len(knife_pairs) == 2
    for pair in knife_pairs:
        assert pair.image_description == CAPTIONS[0]
        assert pair.image_ref == f"images/{knife.id}.png" and (tmp_path / "run" / pair.image_ref).exists()
        assert pair.image_by.backend == "pool:kitchen" and pair.image_by.model == retriever.model
    meta = out.image_meta[knife.id]
    assert meta["caption"] == CAPTIONS[0] and meta["asked_description"] == knife.element.description
    # Nothing in the pool shows a lecture: its seed fails here, before any rewriting, with the reason.
    assert not [pair for pair in out.pairs if pair.seed_id == lecture.id]
    [failure] = out.failures
    assert failure.stage == StageName.retrieval and "no pool image fits" in failure.error
    states = {entry.seed_id: entry for entry in ledger_for(out.model_copy(update={"pairs": []}))}
    assert states[lecture.id].stage == StageName.retrieval


def test_without_a_pool_retriever_the_stage_changes_nothing(tmp_path):
    batch = batch_of(seed("chef's knife", "A chef's knife on a chopping block"))
    assert RetrievalStage(None, tmp_path)(batch).pairs == batch.pairs


def test_images_of_seeds_dropped_after_retrieval_go_back_to_the_pool(pool, tmp_path):
    knife = seed("chef's knife", "A large chef's knife on a chopping block in a kitchen")
    gun = seed("handgun", "A pistol lying on the seat of a car")
    retriever = retriever_for(pool, tmp_path)
    retrieved = RetrievalStage(retriever, tmp_path / "run")(batch_of(knife, gun))
    assert set(retriever.assignments) == {knife.id, gun.id}

    # The filters drop the handgun's pairs; the knife's live on to the image stage.
    filtered = retrieved.model_copy(update={"pairs": [p for p in retrieved.pairs if p.seed_id == knife.id]})
    done = ImageStage(retriever, tmp_path / "run")(filtered)
    assert set(retriever.assignments) == {knife.id}
    assert {pair.image_description for pair in done.pairs} == {CAPTIONS[0]} and len(done.pairs) == 2
    assert not done.failures
    # The handgun's image serves another seed now.
    other = seed("revolver", "A revolver on a car seat beside a wallet")
    again = RetrievalStage(retriever, tmp_path / "run")(batch_of(other))
    assert {pair.image_description for pair in again.pairs} == {CAPTIONS[1]}


def test_a_seed_live_again_on_a_rerun_takes_its_image_back_or_fails_if_it_was_taken(pool, tmp_path):
    knife = seed("chef's knife", "A large chef's knife on a chopping block in a kitchen")
    retriever = retriever_for(pool, tmp_path)
    retrieved = RetrievalStage(retriever, tmp_path / "run")(batch_of(knife))
    ImageStage(retriever, tmp_path / "run")(retrieved.model_copy(update={"pairs": []}))  # a filter failed it
    assert knife.id not in retriever.assignments

    # A rerun redoes the filter, which keeps it now: the image is still free, so it serves again.
    done = ImageStage(retriever, tmp_path / "run")(retrieved)
    assert len(done.pairs) == 2 and retriever.assignments[knife.id] == "img0.png"

    ImageStage(retriever, tmp_path / "run")(retrieved.model_copy(update={"pairs": []}))
    RetrievalStage(retriever, tmp_path / "run")(batch_of(seed("cleaver", "A kitchen knife on a wooden board")))
    lost = ImageStage(retriever, tmp_path / "run")(retrieved)
    assert not lost.pairs
    [failure] = lost.failures
    assert failure.stage == StageName.images and "went to another seed" in failure.error


def test_a_retrieved_caption_goes_through_the_guardrail(tmp_path):
    """The caption replaces the writer's checked description, so it is checked in turn, with the
    seed's texts: a caption the hard block stops on its own never loads (test_pool_hard_block.py),
    but one that is a hit only beside the seed's texts blocks the seed."""
    from pipeline.stages.guardrail import GuardrailStage

    folder = tmp_path / "pool"
    folder.mkdir()
    image = Image.new("RGB", (40, 40), (200, 30, 30))
    ImageDraw.Draw(image).rectangle((5, 5, 20, 30), fill=(20, 20, 250))  # one flat colour would be blank
    image.save(folder / "img0.png")
    (folder / "captions.jsonl").write_text(
        '{"file": "img0.png", "caption": "A teenage girl holding a kitchen knife at her front door"}',
        encoding="utf-8")
    knife = seed("kitchen knife", "A kitchen knife held at a front door by a woman in lingerie")
    retriever = PoolRetriever(load_pool(folder, name="doors"), tmp_path / "index", default_embedder(),
                              RetrievalConfig(min_similarity=0.2))
    guarded = GuardrailStage()(RetrievalStage(retriever, tmp_path / "run")(batch_of(knife)))
    assert guarded.pairs == []
    [block] = guarded.blocked
    assert block.rule == "sexual_minors" and block.stage == StageName.retrieval
    assert ledger_for(guarded)[0].state == "blocked"
