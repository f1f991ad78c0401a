"""The card's counts add up: the pairs review took and left out make the runs' pairs, each role of the
"How it was built" table counts the shipped pairs, and the build's drops add up to the pairs drafted."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.backends.minilm import default_embedder
from pipeline.release.card import render_card
from pipeline.release.make import make_release
from pipeline.writers.tables import write_frame
from tests.release.test_release_card import manifest, row, table_rows
from tests.support.release_runs import make_run, pair_row


def release(tmp_path, runs, **options):
    return make_release(runs, name="bench", releases_dir=tmp_path / "rel", embedder=default_embedder(), **options)


def test_review_counts_the_pairs_taken_before_the_release_drops_and_an_extend_counts_carried_ones_apart(tmp_path):
    rows = [pair_row(i, "r1") for i in range(6)]
    review = {"r1-pair000": "accepted", "r1-pair001": "accepted", "r1-pair002": "rejected",
              "r1-pair003": "rejected", "r1-pair004": "accepted"}  # r1-pair005: unreviewed
    run = make_run(tmp_path / "runs", "r1", rows, review=review, harm_dropped={"r1-pair004"})
    card = (release(tmp_path, [run]) / "README.md").read_text(encoding="utf-8")
    # 3 taken + 3 not taken = the run's 6; the final filter's drop is the release's own
    assert ("**Review**: 3 accepted pairs taken of the 6 pairs of run r1, before the release's own drops (below), "
            "which leave 2;\nnot taken: 2 rejected, 1 unreviewed.") in card

    second = pair_row(9, "r2")  # an image of its own, so dedup keeps it
    run2 = make_run(tmp_path / "runs", "r2", [second], review={second["id"]: "accepted"})
    card = (release(tmp_path, [run2], extend=True) / "README.md").read_text(encoding="utf-8")
    assert ("**Review**: 1 accepted pairs taken of the 1 pairs of run r2, before the release's own drops (below), "
            "which leave 1; the 2 pairs carried over from v1 were taken by its review;\n"
            "none left out by review.") in card


def test_every_role_counts_the_shipped_pairs_and_carried_ones_on_a_line_of_their_own():
    rows = [row(1, added_in=1), row(2, added_in=1), row(3, added_in=2)]
    decisions = pd.DataFrame({  # p9 passed the final filter and leak check, then dedup dropped it
        "item_id": ["p3", "p9", "p3", "p9"], "stage": ["final_filter"] * 2 + ["release_leak_check"] * 2,
        "verdict": ["keep"] * 4, "code": [""] * 4, "backend": ["rules"] * 2 + ["offline-detector"] * 2,
        "model": ["m"] * 4})
    card = render_card(manifest(3, version=2, extends=1, carried_rows=2,
                                final_filter={"backend": "rules", "model": "m", "kept": 2}), rows, decisions=decisions)

    for role in ("seed writer", "leak rewriter", "images", "final filter", "leak check (release)",
                 "leak filter (build)", "harm check (build)"):
        assert sum(int(cells[3]) for cells in table_rows(card, role)) == 3, role
    assert ["final filter", "`rules`", "`m`", "1", "rule-based (no language model)"] in table_rows(card, "final filter")
    assert ["final filter", "—", "carried from v1: its card says", "2", ""] in table_rows(card, "final filter")
    assert "`rules` (1) for the final filter" in card
    assert ["build (leak filter), carried from v1: its card says", "—", "—", "2"] in \
        table_rows(card, "build (leak filter), carried from v1: its card says")


def test_a_seed_that_failed_counts_the_pairs_it_had_drafted(tmp_path):
    run = tmp_path / "runs" / "r1"
    (run / "batches" / "b1").mkdir(parents=True)
    drafted = [{"seed_id": seed} for seed in ("s1", "s1", "s1", "s2", "s2", "s2")]
    (run / "batches" / "b1" / "drafts.json").write_text(json.dumps({"pairs": drafted}))
    write_frame(pd.DataFrame({"id": ["p1", "p2"], "seed_id": ["s1", "s1"]}), run / "data" / "train-00000.parquet")
    write_frame(pd.DataFrame({"item_id": ["p3"], "seed_id": ["s1"], "stage": ["harm_check"], "attempt": [1],
                              "verdict": ["drop"], "code": ["harm.text_harmful"], "backend": ["rules"],
                              "model": [""]}), run / "decisions.parquet")
    write_frame(pd.DataFrame({"item_id": ["s2"], "seed_id": ["s2"], "stage": ["retrieval"], "error": ["no image"],
                              "transient": [False], "run_id": ["r1"]}), run / "failures.parquet")
    card = render_card(manifest(2), [row(1), row(2)], run_dirs=[run])

    assert ["retrieval", "`error`", "1", "3"] in table_rows(card, "retrieval")  # seeds, pairs
    assert ["harm_check", "`harm.text_harmful`", "1", "1"] in table_rows(card, "harm_check")
    # 2 accepted + 1 + 3 dropped = the 6 drafted
