"""`images.pool.default_category` and `default_sub_category` from two categories were taken, and every
image-first seed they filled was built as accepted, then dropped by the release as
release.miscategorised (audit imagefirst, finding 1a): now one line and exit 2, as a run.sub_categories
outside run.categories is."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import load_config
from tests.pool.test_pool import draw


def test_default_category_and_sub_category_from_two_categories_are_one_line_and_exit_2(tmp_path, monkeypatch):
    (tmp_path / "pool").mkdir()
    draw(0).save(tmp_path / "pool" / "a.png")
    (tmp_path / "pool" / "captions.csv").write_text("file,caption\na.png,Two men fighting\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.toml").write_text(
        f"[run]\nsize = 1\nruns_dir = '{tmp_path / 'runs'}'\n[backends]\nimages = 'pool'\n"
        "[images.pool]\nfolder = 'pool'\nimage_first = true\n"
        "default_category = 'Hate'\ndefault_sub_category = 'Cybercrime'\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["build", "--no-progress", "-c", "b.toml"])
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: b.toml: images.pool: sub-category 'Cybercrime' is in category 'Illegal Activity', "
                             "not default_category 'Hate': give a pair of one category\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["b.toml", "pool"], "a refused build writes nothing"


def test_defaults_of_one_category_are_taken():
    config = load_config(None, ["images.pool.folder='.'", "images.pool.name='here'",
                                "images.pool.default_category='Illegal Activity'",
                                "images.pool.default_sub_category='Cybercrime'"])
    assert config.images.pool.default_sub_category == "Cybercrime"
