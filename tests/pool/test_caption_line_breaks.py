"""A quoted spreadsheet cell's line break shipped verbatim (`\\r\\n`) in `image_description`.
Each run of whitespace in a caption, from the captions file or a captioner, is now one space."""

from __future__ import annotations

from pipeline.pool import load_pool
from tests.pool.test_pool_audit import picture


def test_a_captions_line_breaks_and_runs_of_spaces_become_one_space(tmp_path):
    picture(1).save(tmp_path / "knife.png")
    picture(2).save(tmp_path / "uncaptioned.png")
    (tmp_path / "captions.csv").write_bytes(
        b'file,caption\r\nknife.png,"A pocket knife, blade open,\r\nnext to a wallet\ton a  table."\r\n')
    pool = load_pool(tmp_path, captioner=lambda paths: ["A wallet\n\n on a table. " for _ in paths])
    assert {image.file: image.caption for image in pool.images} == {
        "knife.png": "A pocket knife, blade open, next to a wallet on a table.",
        "uncaptioned.png": "A wallet on a table."}
