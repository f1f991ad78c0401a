"""An adjudication an annotator lapsed later (she changed the label whose text the lead chose) settles
nothing: decisions.parquet credits no adjudicator with the pair and carries the annotators' current
reject reasons, as docs/review.md's import table says (`adjudicated_by`: when an adjudication settled
the pair; `reason`: the adjudicator's alone where one settled it)."""

from __future__ import annotations

from pipeline.review.decisions import ADJUDICATION
from pipeline.review.importer import pair_row
from tests.review.test_importer_outcomes import ITEM, label

ANN_EDIT = "Could I get into the place with this while they are away?"


def current_labels(ann=None, bob=None, *adjudications):
    """The pair's current labels: ann edited and bob accepted, the lead shipped ann's edit (--accept-edit
    ann); `ann`, `bob`: the label that since replaced theirs; then any later adjudications."""
    return [ann or label(1, "ann", "edit", ANN_EDIT), bob or label(2, "bob", "accept"),
            label(3, "adjudicator:lead", "edit", ANN_EDIT, source=ADJUDICATION), *adjudications]


def test_a_lapsed_adjudication_is_not_credited_and_the_new_reject_reason_is_kept():
    row = pair_row(ITEM, current_labels(ann=label(4, "ann", "reject", reason="low_quality")))
    assert (row["review_state"], row["reason"], row["adjudicated_by"]) == ("conflict", "low_quality", None)


def test_labels_that_agree_after_a_lapsed_adjudication_give_their_own_reasons():
    row = pair_row(ITEM, current_labels(ann=label(4, "ann", "reject", reason="low_quality"),
                                        bob=label(5, "bob", "reject", reason="not_harmful")))
    assert (row["review_state"], row["reason"], row["adjudicated_by"]) == ("rejected", "low_quality; not_harmful",
                                                                           None)


def test_the_standing_adjudication_alone_is_credited():
    standing = pair_row(ITEM, current_labels())
    assert (standing["review_state"], standing["adjudicated_by"]) == ("accepted", "adjudicator:lead")
    overruled = pair_row(ITEM, current_labels(
        None, None, label(4, "adjudicator:chief", "reject", reason="image_mismatch", source=ADJUDICATION)))
    assert (overruled["review_state"], overruled["reason"], overruled["adjudicated_by"]) == (
        "rejected", "image_mismatch", "adjudicator:chief")
