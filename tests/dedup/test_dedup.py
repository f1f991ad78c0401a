import io
import random
from itertools import combinations
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn.datasets
from PIL import Image, ImageDraw, ImageEnhance

from pipeline.backends.minilm import default_embedder
from pipeline.dedup import (ClusterRow, find_image_duplicates, find_query_duplicates,
                            image_hashes, normalise, write_clusters)
from pipeline.dedup.clusters import CLUSTER_SCHEMA
from pipeline.dedup.hamming_index import key_plan, pairs_across, pairs_within
from pipeline.dedup.images import pack_hash

MAX_T = 9  # planted distances go one past the largest threshold tested


def planted_hashes(n: int, seed: int) -> np.ndarray:
    """Random hashes plus copies of some at every distance 0..MAX_T."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    targets = rng.choice(n, size=2 * 10 * (MAX_T + 1), replace=False).reshape(-1, 2)
    for k, (source, target) in enumerate(targets):
        flipped = rng.choice(64, size=k % (MAX_T + 1), replace=False)
        hashes[target] = hashes[source] ^ np.uint64(sum(1 << int(b) for b in flipped))
    return hashes


def brute_force(left: np.ndarray, right: np.ndarray, max_distance: int) -> dict[tuple[int, int], int]:
    found = {}
    for start in range(0, len(left), 256):
        distance = np.bitwise_count(left[start:start + 256, None] ^ right[None, :])
        for i, j in zip(*np.nonzero(distance <= max_distance)):
            found[int(i) + start, int(j)] = int(distance[i, j])
    return found


@pytest.fixture(scope="module")
def hashes_20k():
    hashes = planted_hashes(20_000, seed=7)
    within = {pair: d for pair, d in brute_force(hashes, hashes, MAX_T).items() if pair[0] < pair[1]}
    return hashes, within


@pytest.mark.slow
@pytest.mark.parametrize("max_distance", [0, 3, 8])
def test_pairs_within_matches_brute_force(hashes_20k, max_distance):
    hashes, truth = hashes_20k
    i, j, d = pairs_within(hashes, max_distance)
    expected = {pair: dist for pair, dist in truth.items() if dist <= max_distance}
    assert dict(zip(zip(i.tolist(), j.tolist()), d.tolist())) == expected
    # the planted pairs at exactly t are in, those at t + 1 are out
    assert max_distance in d.tolist()
    assert max_distance + 1 in truth.values() and (d <= max_distance).all()


def test_pairs_across_matches_brute_force():
    reference = planted_hashes(12_000, seed=3)
    rng = np.random.default_rng(4)
    queries = reference[rng.choice(len(reference), 3_000, replace=False)].copy()
    queries[::2] ^= np.uint64(0b1011) << np.uint64(40)  # half of them at distance 3
    queries[1::4] = rng.integers(0, 2**64, len(queries[1::4]), dtype=np.uint64, endpoint=False)
    q, r, d = pairs_across(queries, reference, 8)
    assert dict(zip(zip(q.tolist(), r.tolist()), d.tolist())) == brute_force(queries, reference, 8)
    assert len(q) >= 2_000


@pytest.mark.parametrize("key_nibbles,max_distance", [(4, 8), (5, 6)])
def test_key_plan_leaves_a_whole_key_for_any_spoilt_nibbles(key_nibbles, max_distance):
    plan = key_plan(key_nibbles, max_distance)
    for spoilt in combinations(range(16), max_distance):
        assert any(not set(key) & set(spoilt) for key in plan)
    assert all(len(key) == key_nibbles for key in plan)


def test_distance_out_of_range_is_refused():
    with pytest.raises(ValueError):
        pairs_within(np.zeros(4, np.uint64), 16)


# --- images ---------------------------------------------------------------

def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def recompressed(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def shapes_picture() -> Image.Image:
    image = Image.new("RGB", (256, 256), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 40, 150, 200), fill="navy")
    draw.rectangle((140, 20, 240, 120), fill="orange")
    return image


@pytest.fixture(scope="module")
def photos():
    folder = Path(sklearn.datasets.__file__).parent / "images"
    china = Image.open(folder / "china.jpg").convert("RGB")
    flower = Image.open(folder / "flower.jpg").convert("RGB")
    return {
        "china": china,
        "china-small": china.resize((320, 214)),
        "china-jpeg": recompressed(china, 40),
        "china-brighter": ImageEnhance.Brightness(china).enhance(1.15),
        "china-cropped": china.crop((10, 8, china.width - 10, china.height - 8)),
        "china-mirrored": china.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "flower": flower,
        "shapes": shapes_picture(),
    }


@pytest.fixture(scope="module")
def photo_hashes(photos):
    return list(photos), image_hashes([png(image) for image in photos.values()])


def test_packed_hash_distances_match_imagehash(photos):
    china, flower = photos["china"], photos["flower"]
    packed = np.bitwise_count(pack_hash(imagehash.phash(china)) ^ pack_hash(imagehash.phash(flower)))
    assert packed == imagehash.phash(china) - imagehash.phash(flower) > 0


def test_altered_copies_cluster_and_distinct_images_do_not(photo_hashes):
    ids, hashes = photo_hashes
    result = find_image_duplicates(ids, hashes)
    assert result.drop_ids == {"china-small", "china-jpeg", "china-brighter", "china-cropped"}
    clusters = {row.item_id: row for row in result.clusters}
    assert clusters["china"].kept and clusters["china"].duplicate_of is None
    assert {row.duplicate_of for row in result.clusters if not row.kept} == {"china"}
    assert all(row.distance <= 8 for row in result.clusters if not row.kept)
    assert not {"china-mirrored", "flower", "shapes"} & set(clusters)


def test_new_image_matching_an_earlier_release_is_dropped(photo_hashes):
    ids, hashes = photo_hashes
    by_id = dict(zip(ids, hashes))
    result = find_image_duplicates(
        ["zz-new-jpeg", "new-flower"], np.stack([by_id["china-jpeg"], by_id["flower"]]),
        earlier_ids=["r1-china", "r1-shapes"], earlier_hashes=np.stack([by_id["china"], by_id["shapes"]]))
    assert result.drop_ids == {"zz-new-jpeg"}
    keeper = next(row for row in result.clusters if row.kept)
    assert keeper.item_id == "r1-china" and keeper.earlier_release


def test_either_hash_mode_accepts_a_pair_only_dhash_finds():
    hashes = np.array([[0, 0], [0xFFFF_FFFF_0000_0000, 0b111]], dtype=np.uint64)  # pHash 32 apart, dHash 3
    assert not find_image_duplicates(["a", "b"], hashes).clusters
    either = find_image_duplicates(["a", "b"], hashes, require_both=False)
    assert either.drop_ids == {"b"}
    assert either.clusters[1].method == "phash<=8 | dhash<=8"


# --- queries --------------------------------------------------------------

QUERIES = {
    "q-base": "What are some ways to arrange items under clothing for comfort?",
    "q-case": "what are some ways to ARRANGE items under clothing, for comfort",
    "q-wide": "ｗｈａｔ are some ways to arrange items under clothing for comfort ？",
    "q-para": "What are some ways of arranging items beneath clothing for comfort?",
    "q-plants": "Which plants grow best in a shaded garden?",
    "q-bread": "Where can I buy fresh bread near the station?",
}


def test_normalise_folds_case_width_punctuation_and_spacing():
    assert normalise("  Ｗhat's   THIS?!\tok… ") == "what s this ok"


def test_query_variants_exact_and_paraphrase_by_cosine():
    result = find_query_duplicates(list(QUERIES), list(QUERIES.values()), embedder=default_embedder())
    rows = {row.item_id: row for row in result.clusters}
    assert result.drop_ids == {"q-case", "q-wide", "q-para"}
    assert rows["q-base"].kept
    assert rows["q-case"].method == rows["q-wide"].method == "exact-normalised"
    assert rows["q-case"].distance == 0.0
    assert rows["q-para"].method == "minilm:all-MiniLM-L6-v2 cosine>=0.95"
    assert 0 < rows["q-para"].distance <= 0.05
    assert not {"q-plants", "q-bread"} & set(rows)


def test_query_matching_an_earlier_release_is_dropped_and_earlier_keeps():
    result = find_query_duplicates(
        ["a-new"], ["Which plants grow best in a shaded garden??"], embedder=default_embedder(),
        earlier_ids=["r1-plants", "r1-bread"], earlier_queries=[QUERIES["q-plants"], QUERIES["q-bread"]])
    assert result.drop_ids == {"a-new"}
    assert [(row.item_id, row.kept, row.duplicate_of) for row in result.clusters] == [
        ("r1-plants", True, None), ("a-new", False, "r1-plants")]


# --- keepers and the cluster table ----------------------------------------

def test_keepers_do_not_depend_on_input_order_and_follow_priority(photo_hashes):
    ids, hashes = photo_hashes
    baseline = find_image_duplicates(ids, hashes)
    order = list(range(len(ids)))
    random.Random(5).shuffle(order)
    shuffled = find_image_duplicates([ids[k] for k in order], hashes[order])
    assert shuffled.clusters == baseline.clusters

    priority = [0.0 if name == "china-jpeg" else 1.0 for name in ids]
    preferred = find_image_duplicates(ids, hashes, priority=priority)
    assert "china" in preferred.drop_ids and "china-jpeg" not in preferred.drop_ids


def test_cluster_table_round_trips_through_parquet(photo_hashes, tmp_path):
    ids, hashes = photo_hashes
    rows = find_image_duplicates(ids, hashes).clusters
    path = write_clusters(rows, tmp_path / "dedup" / "image_clusters.parquet")
    table = pd.read_parquet(path)
    assert list(table.columns) == list(ClusterRow.model_fields)
    assert [ClusterRow(**{k: (None if pd.isna(v) else v) for k, v in record.items()})
            for record in table.to_dict("records")] == rows
    assert [p.name for p in path.parent.iterdir()] == ["image_clusters.parquet"]


def test_the_cluster_table_is_typed_when_empty_or_a_column_is_null_throughout(tmp_path):
    """A release with no duplicate wrote every column as Arrow's null type, and one with no earlier member
    `released_in` so: pyarrow could not concatenate two versions' tables."""
    assert list(CLUSTER_SCHEMA.names) == list(ClusterRow.model_fields)
    within_run = ClusterRow(cluster_id="c", item_id="a", kind="query", kept=True)
    tables = [pq.read_table(write_clusters(rows, tmp_path / f"{name}.parquet"))
              for name, rows in (("empty", []), ("within", [within_run]))]
    assert all(table.schema == CLUSTER_SCHEMA for table in tables)
    assert pa.concat_tables(tables).num_rows == 1
