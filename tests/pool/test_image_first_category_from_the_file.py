"""An image-first seed takes its category from its captions-file row; the caller's default only fills
a row that has none (mutation round 3: the default overriding the row filed a cybercrime image as Violent)."""

from __future__ import annotations

from pipeline.pool import load_pool, seeds_from_pool
from tests.pool.test_pool import draw


def test_a_rows_own_category_wins_over_the_default(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for n in range(2):
        draw(n).save(folder / f"{n}.png")
    (folder / "captions.csv").write_text(
        "file,caption,category,sub_category\n"
        "0.png,A laptop showing a fake bank login page,Illegal Activity,Cybercrime\n"
        "1.png,Two men shouting in a dark alley,,\n", encoding="utf-8")
    login, alley = seeds_from_pool(load_pool(folder), "Violent", "Public Violence and Rioting")[0]
    assert (login.category, login.sub_category) == ("Illegal Activity", "Cybercrime")
    assert login.element.category == "Illegal Activity"
    assert (alley.category, alley.sub_category) == ("Violent", "Public Violence and Rioting")
