"""Where a re-score reads a pair's element terms: a batch folder whose drafts.json is gone is read from
its other checkpoint, a seed held in two batch folders keeps the terms of both, and a pair scored
without its run's terms is counted and named in the notes, as the library's terms or the name alone."""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.elements.terms import FROM_LIBRARY, NAME_ONLY, RunElements, library_terms, seed_elements
from pipeline.records import Element, Seed
from pipeline.taxonomy import load_elements

RELAY = Element(category="Illegal Activity", sub_category="Property Crimes", element="keyless relay box",
                synonyms=("relay attack device", "key fob amplifier"), broader=("car theft tool",),
                description="A man holding a keyless relay box beside the front window of a house.")


def write_checkpoint(run_dir, folder: str, stage: str, element: Element) -> Seed:
    seed = Seed(category=element.category, sub_category=element.sub_category, element=element)
    checkpoint = run_dir / "batches" / folder / stage
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text(Batch(seeds=[seed]).model_dump_json(), encoding="utf-8")
    return seed


def test_a_batch_without_drafts_json_is_read_from_its_other_checkpoint(tmp_path):
    seed = write_checkpoint(tmp_path, "b1", "rewrites.json", RELAY)
    assert seed_elements(tmp_path)[seed.id].terms == RELAY.terms


def test_a_seed_in_two_batch_folders_keeps_the_terms_of_both(tmp_path):
    seed = write_checkpoint(tmp_path, "b1", "drafts.json", RELAY)
    write_checkpoint(tmp_path, "b2", "drafts.json",
                     RELAY.model_copy(update={"synonyms": ("signal booster",), "broader": ("burglary kit",)}))
    assert set(seed_elements(tmp_path)[seed.id].terms) == {*RELAY.terms, "signal booster", "burglary kit"}


def test_pairs_scored_without_their_runs_terms_are_counted_in_the_notes(tmp_path):
    library = load_elements()[0]
    (tmp_path / "run-a").mkdir()
    elements = RunElements.under(tmp_path)
    for seed_id in ("s1", "s2"):
        assert elements.terms("run-a", seed_id, library.category, library.element) == library_terms(
            library.category, library.element)
    found = elements.terms("run-a", "s3", "Illegal Activity", "keyless relay box")
    assert found.terms == ("keyless relay box",) and found.fallback == NAME_ONLY
    assert sorted(elements.notes()) == [
        f"run run-a: 1 pair(s) whose seed no batch checkpoint holds (batches/) were scored with {NAME_ONLY}"
        "; a synonym in their query goes unseen",
        f"run run-a: 2 pair(s) whose seed no batch checkpoint holds (batches/) were scored with {FROM_LIBRARY}"]
