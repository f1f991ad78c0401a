"""The dataset card says what the data was made with and what was left out, from the data itself:
backends and models per role, the leak filter's threshold and detector version, drops by reason code
(build, review, release), a meaning for every column, the licence, and placeholder images only when
there are some."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.parquet as pq
import yaml

from pipeline.backends.minilm import default_embedder
from pipeline.release.card import render_card
from pipeline.release.card_columns import COLUMN_MEANINGS
from pipeline.release.make import make_release
from pipeline.release.schema import RELEASE_SCHEMA, SELECTED_SCHEMA
from pipeline.writers.tables import write_frame
from tests.support.release_runs import make_run, pair_row

SD35 = "stabilityai/stable-diffusion-3.5-large"


def manifest(rows: int, **fields) -> dict:
    return {"license": "cc-by-nc-4.0", "name": "bench", "version": 1, "preview": False, "rows": rows,
            "shards": [{"bytes": 10}], "extends": None, "carried_rows": 0,
            "counts": {"sub_category": {"Violent/Weapon-Related Violence": rows}},
            "dropped": {"not_taken_by_review": {}, "same_id": 0, "final_filter": 0, "leaks": 0,
                        "image_duplicate": 0, "query_duplicate": 0},
            "runs": [{"run_id": "r1"}], "final_filter": {"backend": "rules", "model": "all-MiniLM-L6-v2", "kept": rows},
            "options": {"max_phash": 8, "max_dhash": 8, "query_threshold": 0.95},
            "schema": {name: "string" for name in RELEASE_SCHEMA.names}, **fields}


def row(i: int, **fields) -> dict:
    return {"id": f"p{i}", "seed_backend": "templates", "rewrite_backend": "rules", "rewrite_model": "",
            "image_backend": "placeholder", "image_model": "", "review_state": "accepted",
            "leak_threshold": 0.5, "leak_verdict": "leak-free", "harm_verdict": "keep",
            "detector_version": "offline-7+aaa+bbb", "override_reason": None, **fields}


def body(card: str) -> str:
    return card.split("\n---\n", 1)[1]


def table_rows(card: str, first_cell: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")]
            for line in card.splitlines() if line.startswith(f"| {first_cell} |")]


def test_every_release_column_has_a_meaning_and_no_meaning_is_stale():
    assert set(RELEASE_SCHEMA.names) <= set(COLUMN_MEANINGS)
    assert set(COLUMN_MEANINGS) == set(SELECTED_SCHEMA.names)
    card = render_card(manifest(1), [row(1)])
    for name in RELEASE_SCHEMA.names:
        assert f"| `{name}` | " in card and COLUMN_MEANINGS[name] in card


def test_diffusers_images_name_each_model_and_make_no_placeholder_or_offline_claim(tmp_path):
    local = str(tmp_path / "models" / "tiny-random-sd3")
    rows = [row(i, seed_backend="llm", rewrite_backend="llm", rewrite_model="gpt-4o",
                image_backend="diffusers", image_model=SD35 if i < 3 else local) for i in range(5)]
    card = render_card(manifest(5, final_filter={"backend": "llm", "model": "gpt-4o", "kept": 5}), rows)

    images = table_rows(card, "images")
    assert ["images", "`diffusers`", f"`{SD35}`", "3", ""] in images
    assert ["images", "`diffusers`", "local files `tiny-random-sd3`", "2", ""] in images
    assert ["leak rewriter", "`llm`", "`gpt-4o`", "5", ""] in table_rows(card, "leak rewriter")
    described = body(card).split("## Columns")[0]  # all but the column meanings, which name every backend
    assert "placeholder" not in described.lower() and "colour grid" not in card and "grey" not in card
    assert "Offline backends were used" not in card
    assert str(tmp_path) not in card  # a local model is named, not its path on the builder's machine


def test_the_seed_writers_model_is_named_per_model_and_offline_or_unrecorded_ones_as_a_dash():
    rows = [row(1, seed_backend="openai-compatible", seed_model="scripted-fake:gpt-4o"),
            row(2, seed_backend="openai-compatible", seed_model="scripted-fake:gpt-4o"),
            row(3, seed_backend="openai-compatible", seed_model="scripted-fake:other"),
            row(4, seed_model=""),  # the offline template writer has no model
            row(5, seed_backend="openai-compatible")]  # carried from a release made before `seed_model`
    seeds = table_rows(render_card(manifest(5), rows), "seed writer")
    assert ["seed writer", "`openai-compatible`", "`scripted-fake:gpt-4o`", "2", ""] in seeds
    assert ["seed writer", "`openai-compatible`", "`scripted-fake:other`", "1", ""] in seeds
    assert ["seed writer", "`openai-compatible`", "—", "1", ""] in seeds
    assert seeds[-1][:4] == ["seed writer", "`templates`", "—", "1"]


def test_placeholder_images_are_called_a_colour_grid_only_for_the_rows_that_have_them():
    rows = [row(1), row(2), row(3, image_backend="diffusers", image_model=SD35)]
    card = render_card(manifest(3), rows)
    assert "grey" not in card
    assert "**2 of 3 images are placeholders**" in card and "colour grid" in card
    assert "`placeholder` (2) for the images" in card
    assert "`templates` (3) for the seed writer" in card and "`rules` (3) for the leak rewriter" in card


def test_review_outcome_and_release_drops_come_from_the_manifest_and_decisions():
    dropped = {"not_taken_by_review": {"rejected": 2, "unreviewed": 15}, "same_id": 1, "final_filter": 3,
               "leaks": 2, "image_duplicate": 4, "query_duplicate": 5}
    decisions = pd.DataFrame({
        "item_id": [f"d{i}" for i in range(6)],
        "stage": ["final_filter"] * 3 + ["release_leak_check"] * 3,
        "verdict": ["drop", "drop", "drop", "drop", "drop", "keep"],
        "code": ["release.mismatch", "release.mismatch", "release.benign", "release.leaks", "release.harm_dropped",
                 "release.leak_free"],
        "backend": ["rules"] * 3 + ["offline-detector"] * 3, "model": ["m"] * 6})
    card = render_card(manifest(4, dropped=dropped), [row(i) for i in range(4)], decisions=decisions)

    assert ("**Review** (runs not read for this card): the 4 pairs shipped are 4 accepted;\n"
            "not taken: 15 unreviewed, 2 rejected.") in card
    assert "**Release**: 15 pairs dropped" in card
    final, leak = "final filtration (query and image match, harmful, categorised right)", \
        "the leak or harm check on the shipped query"
    release = {(cells[0], cells[1]): int(cells[2]) for step in (final, leak, "near-duplicate image",
                                                                "near-duplicate query", "already released under "
                                                                "this name, or repeated across the runs")
               for cells in table_rows(card, step)}
    assert release[(final, "`release.mismatch`")] == 2 and release[(final, "`release.benign`")] == 1
    assert release[(leak, "`release.leaks`")] == 1 and release[(leak, "`release.harm_dropped`")] == 1
    assert release[("near-duplicate image", "—")] == 4 and release[("near-duplicate query", "—")] == 5
    assert release[("already released under this name, or repeated across the runs", "—")] == 1


def test_build_drops_per_reason_code_and_the_build_checks_come_from_the_runs(tmp_path):
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    decisions = pd.DataFrame({
        "item_id": ["p1", "p2", "x1", "x2", "x3", "p1", "p2"], "seed_id": ["s1", "s1", "s1", "s2", "s3", "s1", "s1"],
        "stage": ["leak_filter", "leak_filter", "leak_filter", "harm_check", "harm_check", "harm_check",
                  "harm_check"],
        "attempt": [1, 1, 1, 1, 1, 1, 1],
        "verdict": ["keep", "keep", "drop", "drop", "drop", "keep", "keep"],
        "code": ["leak.none", "leak.none", "leak.leaks", "harm.intent_lost", "harm.intent_lost", "harm.kept",
                 "harm.kept"],
        "backend": ["offline-detector"] * 3 + ["rules"] * 4, "model": ["det-model"] * 3 + ["all-MiniLM-L6-v2"] * 4,
        "threshold": [0.42] * 3 + [0.35] * 4, "detector_version": ["build-det"] * 3 + [""] * 4})
    # a leaky rewrite attempt that was tried again is no dropped item
    retried = pd.DataFrame({"item_id": ["p1"], "seed_id": ["s1"], "stage": ["rewrite"], "attempt": [1],
                            "verdict": ["drop"],
                            "code": ["rewrite.retry"], "backend": ["offline-detector"], "model": ["det-model"],
                            "threshold": [0.42], "detector_version": ["build-det"]})
    write_frame(pd.concat([decisions, retried], ignore_index=True), run / "decisions.parquet")
    write_frame(pd.DataFrame({"item_id": ["s9"], "seed_id": ["s9"], "stage": ["seed"], "rule": ["sexual_minors"],
                              "matched": ["x"], "run_id": ["r1"]}), run / "blocked.parquet")
    card = render_card(manifest(2), [row(1), row(2)], run_dirs=[run])

    build = {tuple(cells[:2]): cells[2:] for cells in (table_rows(card, "leak_filter") + table_rows(card, "harm_check")
                                                      + table_rows(card, "seed")) if len(cells) == 4}
    # (seeds, pairs): a seed blocked before it was drafted loses no pair
    assert build == {("leak_filter", "`leak.leaks`"): ["1", "1"], ("harm_check", "`harm.intent_lost`"): ["2", "2"],
                     ("seed", "`guardrail.sexual_minors`"): ["1", "0"]}
    assert "rewrite.retry" not in card
    assert ["harm check (build)", "`rules`", "`all-MiniLM-L6-v2`", "2", "rule-based (no language model)"] \
        in table_rows(card, "harm check (build)")
    assert table_rows(card, "leak filter (build)")[0][:4] == ["leak filter (build)", "`offline-detector`",
                                                              "`det-model`", "2"]
    assert ["build (leak filter)", "`build-det`", "0.42", "2"] in table_rows(card, "build (leak filter)")
    assert str(tmp_path) not in card


def test_the_leak_threshold_detector_version_and_licence_are_in_the_body():
    rows = [row(1), row(2, leak_threshold=0.3, detector_version="offline-8+ccc+ddd")]
    text = body(render_card(manifest(2), rows))
    checks = table_rows(text, "release (on the shipped query)")
    assert ["release (on the shipped query)", "`offline-7+aaa+bbb`", "0.5", "1"] in checks
    assert ["release (on the shipped query)", "`offline-8+ccc+ddd`", "0.3", "1"] in checks
    assert "## Licence\n\nThis dataset is released under the `cc-by-nc-4.0` licence." in text


def test_a_release_card_reports_review_rejections_drops_and_every_shard_column(tmp_path):
    """End to end: what make_release passes the card is enough for it to say all of the above, and releasing
    the same run again writes the same card byte for byte."""
    rows = [pair_row(i, "r1") for i in range(6)]
    review = {"r1-pair000": "accepted", "r1-pair001": "accepted", "r1-pair002": "rejected",
              "r1-pair003": "rejected", "r1-pair004": "accepted"}  # r1-pair005: unreviewed
    run = make_run(tmp_path / "runs", "r1", rows, review=review, harm_dropped={"r1-pair004"})

    def release(where):
        return make_release([run], name="bench", releases_dir=tmp_path / where, embedder=default_embedder())

    folder = release("a")
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "not taken: 2 rejected, 1 unreviewed." in card
    final = [cells for cells in table_rows(card, "final filtration (query and image match, harmful, "
                                                 "categorised right)")]
    assert sum(int(cells[2]) for cells in final) == 1  # the pair the build's harm check dropped
    assert ["harm_check", "`(no code)`", "1", "1"] in table_rows(card, "harm_check")  # seeds, pairs
    shipped = pq.read_table(folder / "data")
    for name in shipped.column_names:
        assert name in COLUMN_MEANINGS, f"column {name} has no meaning on the card"
        assert f"| `{name}` | " in card
    version, threshold = shipped["detector_version"][0].as_py(), shipped["leak_threshold"][0].as_py()
    assert re.search(rf"\| release \(on the shipped query\) \| `{re.escape(version)}` \| {threshold:g} \| 2 \|", card)
    assert "released under the `apache-2.0` licence" in body(card)
    assert str(tmp_path) not in card
    assert (release("b") / "README.md").read_bytes() == (folder / "README.md").read_bytes()


def test_a_selected_version_without_runs_or_decisions_still_renders():
    drops = {"not_selected": 4, "final_filter": 0, "image_duplicate": 0, "query_duplicate": 0, "same_id": 0}
    schema = {name: "string" for name in SELECTED_SCHEMA.names}
    card = render_card(manifest(2, dropped=drops, schema=schema), [row(1), row(2)])
    assert "not read for this card" in card and "| not selected by `leakless select` | — | 4 |" in card
    assert "| `selection_reason` | string |" in card
    features = yaml.safe_load(card.split("---\n")[1])["dataset_info"]["features"]
    assert {"name": "selection_reason", "dtype": "string"} in features


def test_the_cards_build_steps_come_in_the_builds_stage_order():
    from pipeline.factory import STAGE_ORDER

    card = render_card(manifest(1), [row(1)])
    steps = card.split("harmful seeds from the 6×19 taxonomy", 1)[1].split("final filtration", 1)[0]
    stage_of = {"leak rewriting": "rewrite", "a measured leak filter": "leak_filter",
                "a harm check": "harm_check", "images": "images"}
    named = sorted(stage_of, key=steps.index)
    assert [stage_of[step] for step in named] == [stage for stage in STAGE_ORDER if stage in stage_of.values()]


def recipe(card: str) -> str:
    return card.split("**To make these pairs again**", 1)[1].split("\n\n")[1]  # its list of steps


def test_the_release_command_names_every_run_given_to_the_release_and_an_extension_its_earlier_version():
    # A given run whose pairs were all dropped is in the manifest: left out, the command made another manifest.
    runs = [{"run_id": "r1", "new": 1, "carried": 0}, {"run_id": "r2", "new": 0, "carried": 0}]
    first = recipe(render_card(manifest(1, runs=runs), [row(1)]))
    assert "then `leakless release r1 r2 --name bench`" in first and "first v" not in first
    runs = [{"run_id": "r1", "new": 0, "carried": 1}, {"run_id": "r3", "new": 1, "carried": 0}]
    extension = render_card(manifest(2, version=2, extends=1, carried_rows=1, runs=runs),
                            [row(1, run_id="r1", added_in=1), row(2, run_id="r3", added_in=2)])
    steps = recipe(extension).splitlines()
    assert steps[0] == "- first v1, made again as its own card says (`--extend` carries the latest version's rows)"
    assert steps[-1].startswith("- then `leakless release r3 --name bench --extend`")


def test_a_recipe_for_a_config_without_a_size_has_no_size_flag():
    runs = [{"run_id": "r1", "new": 1, "carried": 0, "build": {"config": {"run": {}}}}]
    card = render_card(manifest(1, runs=runs), [row(1)])
    assert "run r1: `leakless build --run-id r1` with every other setting" in card, recipe(card)
