"""`leakless release` of pool images with `--license` left at its default says on stderr, in one note,
that those images and their captions keep their sources' licences (the default covers only what the
pipeline wrote); a licence the user chose, or a release without pool images, gets no such note."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.release import pool_licence_notes
from tests.support.release_runs import make_run, pair_row

NC = "third-party-photos (CC BY-NC 4.0, by J. Doe)"


def write_shard(folder, frame: pd.DataFrame) -> None:
    (folder / "data").mkdir(exist_ok=True)
    frame.to_parquet(folder / "data" / "train-00000.parquet")


def test_the_note_counts_pool_pairs_and_sources_and_is_silent_without_them(tmp_path):
    write_shard(tmp_path, pd.DataFrame({"image_backend": ["pool:photos", "pool:photos", "placeholder"],
                                        "source": [NC, "other", "generation"]}))
    [note] = pool_licence_notes(tmp_path, "apache-2.0")
    assert note.startswith("2 of 3 pairs show pool images") and "default --license apache-2.0" in note
    assert "2 source(s)" in note
    write_shard(tmp_path, pd.DataFrame({"image_backend": ["placeholder"], "source": ["generation"]}))
    assert pool_licence_notes(tmp_path, "apache-2.0") == []


@pytest.mark.slow
def test_release_notes_pool_images_only_under_the_default_licence(tmp_path):
    rows = [{**pair_row(i, "r1"), "image_backend": "pool:photos", "image_model": "all-MiniLM-L6-v2", "source": NC}
            for i in range(2)] + [pair_row(2, "r1")]
    make_run(tmp_path / "runs", "r1", rows)  # never reviewed: a preview
    runner = CliRunner()

    def release(name: str, *flags: str):
        return runner.invoke(app, ["release", "r1", "--name", name, "--preview", "--runs-dir", str(tmp_path / "runs"),
                                   "--releases-dir", str(tmp_path / "releases"), *flags])

    default = release("bench")
    assert default.exit_code == 0, default.output
    assert [line for line in default.stderr.splitlines() if "pool images" in line] == [
        "note: 2 of 3 pairs show pool images: those images and their captions keep their sources' licences, not "
        "the default --license apache-2.0; the card's Licence section says so and lists the 1 source(s)"]
    chosen = release("other", "--license", "apache-2.0")  # chosen, even if the same as the default
    assert chosen.exit_code == 0, chosen.output
    assert "pool images" not in chosen.stderr
