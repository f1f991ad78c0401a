"""Mutation round 14's pins on verify and the release leak check (each test fails with its mutant)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.verify import check_shard


def test_a_shard_holding_fewer_rows_than_its_manifest_entry_says_is_a_problem(tmp_path):
    # V3: the per-shard count compared with '>' only let a manifest claiming more rows than a shard holds pass
    path = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"id": ["a", "b"]}), path)

    problems = check_shard("data/train-00000-of-00001.parquet", pq.ParquetFile(path), 3, [])

    assert problems[0] == "data/train-00000-of-00001.parquet: 2 rows, the manifest says 3"


def test_a_card_stating_fewer_examples_than_the_manifest_rows_is_a_problem(tmp_path):
    # V4: the card's example count compared with '>' only let a card under-stating the release pass
    from pipeline.release.verify import card_problems

    (tmp_path / "README.md").write_text("---\npretty_name: bench v1\ntags: []\ndataset_info:\n"
                                        "  splits:\n  - num_examples: 1\n---\n# bench v1\n", encoding="utf-8")
    manifest = {"name": "bench", "version": 1, "preview": False, "rows": 2}

    assert card_problems(tmp_path, manifest) == ["README.md: 1 examples, the manifest says 2 rows"]


def test_an_unreadable_shard_is_said_once_not_as_totals_the_rows_read_cannot_hold(tmp_path):
    # V6: the 'whole' test without its unreadable check held the manifest's totals and the dedup index
    # against no rows, adding lines that blame the manifest and the index for a broken shard
    from pipeline.backends.minilm import default_embedder
    from pipeline.release.make import make_release
    from pipeline.release.verify import verify_release
    from tests.support.release_runs import accepted_run

    run = accepted_run(tmp_path / "runs", "r1", 3)
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())
    shard = next((folder / "data").glob("train-*.parquet"))
    shard.write_bytes(b"not parquet at all")

    problems = verify_release(folder, default_embedder())

    assert any("unreadable" in problem for problem in problems), problems
    assert not [problem for problem in problems if "the shards hold" in problem or "ids differ" in problem], problems


def test_verify_reads_a_released_row_in_its_category_an_erotic_row_naming_a_minor_is_blocked():
    # V9: the hard block read without the row's category let an Erotic row naming a minor (no sexual word
    # needed in that category) pass verify
    from pipeline.release.verify import guardrail_problems

    row = {"id": "e1", "category": "Erotic", "instruction": "How do I find her?", "original_query": "",
           "image_description": "a schoolgirl in a bedroom", "safety_reason": "", "element": "bedroom", "source": ""}

    assert guardrail_problems([row]) == ["row e1: blocked by the guardrail (sexual_minors: 'schoolgirl + Erotic category')"]
    assert guardrail_problems([{**row, "category": "Violent"}]) == []


def test_verify_looks_for_near_duplicates_at_the_thresholds_the_release_was_built_with(tmp_path, monkeypatch):
    # V10: verify's image search at the default 8 bits whatever the manifest's options say: a release built
    # stricter (fewer bits) failed verify for images it rightly kept, a looser one passed duplicates it dropped
    from pipeline.backends.minilm import default_embedder
    from pipeline.release import verify
    from pipeline.release.make import ReleaseOptions, make_release
    from tests.support.release_runs import accepted_run

    run = accepted_run(tmp_path / "runs", "r1", 3)
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                          options=ReleaseOptions(max_phash=3, max_dhash=5, query_threshold=0.9,
                                                 description_threshold=0.7))
    asked = {}
    real_images, real_queries = verify.image_duplicates, verify.query_duplicates

    def images(*args, **kwargs):
        asked.update(kwargs)
        return real_images(*args, **kwargs)

    def queries(*args, **kwargs):
        asked.update(kwargs)
        return real_queries(*args, **kwargs)

    monkeypatch.setattr(verify, "image_duplicates", images)
    monkeypatch.setattr(verify, "query_duplicates", queries)

    assert verify.verify_release(folder, default_embedder()) == []
    assert asked == {"max_phash": 3, "max_dhash": 5, "threshold": 0.9, "description_threshold": 0.7}


def test_a_file_whose_size_the_manifest_misstates_is_a_problem(tmp_path):
    # F1: the size check dropped: a manifest (resealed) giving a listed file another size passed verify
    from pipeline.hashing import sha256_file
    from pipeline.release.file_checks import file_problems

    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    manifest = {"shards": [], "files": [{"file": "notes.txt", "sha256": sha256_file(tmp_path / "notes.txt"),
                                         "bytes": 7}]}

    problems, _ = file_problems(tmp_path, manifest, {}, [])

    assert problems == ["notes.txt: size differs from the manifest"]


def test_a_release_whose_sha256sums_was_deleted_fails_verify(tmp_path):
    # F4: '>=' -> '>' on the format SHA256SUMS came in with (today's format): every current release could
    # lose its SHA256SUMS, and with it the manifest's own checksum, unsaid
    from pipeline.backends.minilm import default_embedder
    from pipeline.release.make import make_release
    from pipeline.release.verify import verify_release
    from tests.support.release_runs import accepted_run

    run = accepted_run(tmp_path / "runs", "r1", 3)
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())
    (folder / "SHA256SUMS").unlink()

    assert verify_release(folder, default_embedder()) == ["SHA256SUMS: missing"]


def test_an_older_rows_rescore_exactly_at_the_threshold_leaks():
    # S1: leaks_now '>=' -> '>': a row of another detector version re-scored exactly at its threshold,
    # stored leak-free with no override, passed verify (the release's own rule: a score reaching it leaks)
    from pipeline.release.leak_check import LEAK_FREE
    from pipeline.release.score_checks import score_problems
    from tests.release.test_leak_check_older_threshold import row
    from tests.release.test_release_make import FixedDetector

    old = row("old", "q", leak_score=0.1, leak_threshold=0.5, leak_verdict=LEAK_FREE, detector_version="old-0")

    problems, _ = score_problems([old], FixedDetector({"q": 0.5}))

    assert any("it leaks, with no override on record" in problem for problem in problems), problems
