"""A release card's YAML `license` tells the Hub what its Licence section says: with pool images (which keep
their sources' licences) it lists `other` beside the chosen licence, as a Hugging Face dataset card lists
the licences of a dataset under several; without pool images it is the chosen licence alone, as before.
`leakless verify` holds the card to exactly what it is written with."""

from __future__ import annotations

import yaml

from pipeline.release.card_licence import card_licence_problem
from pipeline.release.make import ReleaseOptions, make_release
from pipeline.release.verify import card_problems, load_manifest, verify_release
from tests.release.test_release_make import FixedDetector
from tests.release.test_subset_release import EveryTextItsOwnAxis, PassesEverything
from tests.support.release_runs import QUERIES, make_run, pair_row

NC = "third-party-photos (CC BY-NC 4.0, by J. Doe)"
POOL_ROW = {"image_backend": "pool:photos", "source": NC}
PLAIN_ROW = {"image_backend": "placeholder", "source": "generation"}


def released(tmp_path, pooled: int):
    """A release of three reviewed pairs under cc-by-4.0, the first `pooled` showing pool images."""
    rows = [{**pair_row(i, "r1"), **({"image_backend": "pool:photos", "image_model": "all-MiniLM-L6-v2",
                                      "source": NC} if i < pooled else {})} for i in range(3)]
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=EveryTextItsOwnAxis(),
                        checker=PassesEverything(), detector=FixedDetector(dict.fromkeys(QUERIES, 0.1)),
                        options=ReleaseOptions(license="cc-by-4.0"))


def card_meta(folder) -> dict:
    return yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---\n", 2)[1])


def verified(folder) -> list[str]:
    return verify_release(folder, EveryTextItsOwnAxis(), FixedDetector(dict.fromkeys(QUERIES, 0.1)))


def test_a_release_with_pool_images_lists_other_beside_its_licence_and_verifies(tmp_path):
    folder = released(tmp_path, pooled=2)
    assert card_meta(folder)["license"] == ["cc-by-4.0", "other"]
    assert load_manifest(folder)["license"] == "cc-by-4.0"  # the manifest keeps the chosen licence
    assert verified(folder) == []


def test_a_release_without_pool_images_keeps_its_one_licence_and_verifies(tmp_path):
    folder = released(tmp_path, pooled=0)
    assert card_meta(folder)["license"] == "cc-by-4.0"
    assert verified(folder) == []


def test_verify_holds_the_card_to_exactly_what_it_is_written_with(tmp_path):
    assert card_licence_problem("cc-by-4.0", "cc-by-4.0", [POOL_ROW, PLAIN_ROW]) == (
        "license 'cc-by-4.0'; the manifest says 'cc-by-4.0' and 1 pair(s) show pool images, so the card's "
        "license is ['cc-by-4.0', 'other']")
    assert card_licence_problem(["cc-by-4.0", "other"], "cc-by-4.0", [PLAIN_ROW]) == (
        "license ['cc-by-4.0', 'other'], the manifest says 'cc-by-4.0'")
    assert card_licence_problem(["other", "cc-by-4.0"], "cc-by-4.0", [POOL_ROW]) is not None
    assert card_licence_problem("other", "other", [POOL_ROW]) is None  # `other` already says it
    # the rows not all read (a shard missing): either form the card may be written with
    assert card_licence_problem(["cc-by-4.0", "other"], "cc-by-4.0", None) is None
    assert card_licence_problem("cc-by-4.0", "cc-by-4.0", None) is None
    assert card_licence_problem("mit", "cc-by-4.0", None) == "license 'mit', the manifest says 'cc-by-4.0'"


def test_a_pool_release_whose_card_gives_the_licence_alone_is_flagged(tmp_path):
    folder = released(tmp_path, pooled=1)
    card = folder / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("license:\n- cc-by-4.0\n- other\n",
                                                             "license: cc-by-4.0\n", 1), encoding="utf-8")
    rows = [{**pair_row(0, "r1"), **POOL_ROW}, pair_row(1, "r1"), pair_row(2, "r1")]
    assert card_problems(folder, load_manifest(folder), rows) == [
        "README.md: license 'cc-by-4.0'; the manifest says 'cc-by-4.0' and 1 pair(s) show pool images, so the "
        "card's license is ['cc-by-4.0', 'other']"]
