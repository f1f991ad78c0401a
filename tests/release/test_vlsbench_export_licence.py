"""`export-vlsbench` output carries the release's licence statement as LICENSE.md beside data.json: an
export travels without the card, and pool images in it keep their sources' licences."""

from __future__ import annotations

import pytest

from pipeline.backends.minilm import default_embedder
from pipeline.release.make import make_release
from pipeline.release.vlsbench import LICENCE_NOTE, export_vlsbench, licence_md
from tests.release.test_release_card import row
from tests.support.release_runs import make_run, pair_row

NC = "third-party-photos (CC BY-NC 4.0, by J. Doe)"


def test_the_note_is_the_cards_statement_made_from_the_rows(tmp_path):
    pool = row(1, image_backend="pool:photos", image_model="all-MiniLM-L6-v2", source=NC)
    note = licence_md(tmp_path / "bench-v1", "apache-2.0", [pool, row(2)])
    assert note.startswith("# Licence of this export of `bench-v1`")
    assert "The images of 1 of 2 pairs come from an image pool" in note and f"| `{NC}` | 1 |" in note
    assert "all-MiniLM-L6-v2" not in note
    assert "manifest.json names no licence" in licence_md(tmp_path / "bench-v1", None, [row(1)])


@pytest.mark.slow
def test_an_export_carries_license_md_beside_data_json(tmp_path):
    rows = [{**pair_row(0, "r1"), "image_backend": "pool:photos", "image_model": "all-MiniLM-L6-v2", "source": NC},
            pair_row(1, "r1")]
    run = make_run(tmp_path / "runs", "r1", rows)
    release = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                           preview=True)
    out = tmp_path / "out"
    assert export_vlsbench(release, out, allow_preview=True) == 2
    note = (out / LICENCE_NOTE).read_text(encoding="utf-8")
    assert "The images of 1 of 2 pairs come from an image pool" in note and f"| `{NC}` | 1 |" in note
    assert "released under the `apache-2.0` licence" in note
