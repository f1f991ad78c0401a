"""What a researcher's own image folder brought up: 16-bit and transparent images, blank ones,
TIFFs and other file types, stable skip reasons, pool files that change between runs, image-first
images outside the run's categories, and duplicate files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.minilm import default_embedder
from pipeline.config import load_config
from pipeline.contracts import ItemError
from pipeline.hashing import sha256_text
from pipeline.images.checks import upright_rgb
from pipeline.plan import image_first_seeds, pool_skipped
from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool
from pipeline.records import Element, Seed, content_id

KNIFE = "A kitchen knife lying on a wooden cutting board"
GUN = "A handgun resting on a car seat next to a wallet"
PILLS = "A pile of white pills spilled beside an open bottle"


def picture(n: int, size=(40, 40)) -> Image.Image:
    image = Image.new("RGB", size, (60 * n % 256, 120, 200 - 50 * n % 256))
    ImageDraw.Draw(image).rectangle((5, 5, 20 + 5 * n, 30), fill=(250, 20 * n % 256, 20))
    return image


def write_captions(folder, rows: list[dict]) -> None:
    (folder / "captions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def captioned_pool(folder, captions: dict[str, str], **columns) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, file in enumerate(captions):
        picture(n).save(folder / file)
    write_captions(folder, [{"file": file, "caption": caption, **columns} for file, caption in captions.items()])


def reasons(pool) -> dict[str, str]:
    return {skip.file: skip.reason for skip in pool.skipped}


# Problem 1: images shown as a viewer shows them, and blank ones skipped.

def test_a_16_bit_greyscale_image_is_scaled_to_8_bits_not_clipped_to_white(tmp_path):
    values = np.tile(np.linspace(0, 63736, 64).astype(np.uint16), (16, 1))
    Image.fromarray(values).save(tmp_path / "gray16.png")
    with Image.open(tmp_path / "gray16.png") as opened:
        assert opened.mode == "I;16"
        shown = np.asarray(upright_rgb(opened))
    assert shown.shape == (16, 64, 3)
    assert shown[0, 0].tolist() == [0, 0, 0] and shown[0, -1].tolist() == [248, 248, 248]  # 63736 / 257
    assert abs(int(shown[0, 32, 0]) - round(values[0, 32] / 257)) <= 1


def test_a_float_image_is_scaled_by_its_own_range():
    values = np.tile(np.linspace(-1.0, 1.0, 32, dtype=np.float32), (4, 1))
    shown = np.asarray(upright_rgb(Image.fromarray(values)))
    assert shown[0, 0, 0] == 0 and shown[0, -1, 0] == 255


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_transparent_image_is_laid_over_white(tmp_path, mode):
    """Black strokes on a transparent background (a logo, a cut-out): Pillow's RGB keeps the
    transparent pixels' hidden black, so the picture shipped all black."""
    logo = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((5, 5, 15, 15), fill=(0, 0, 0, 255))
    if mode == "P":  # index 0 transparent, index 1 the black stroke
        indices = (np.asarray(logo)[..., 3] > 0).astype(np.uint8)
        palette_image = Image.fromarray(indices, mode="P")
        palette_image.putpalette([0, 0, 0, 0, 0, 0])
        palette_image.save(tmp_path / "logo.png", transparency=0)
    else:
        logo.convert(mode).save(tmp_path / "logo.png")
    with Image.open(tmp_path / "logo.png") as opened:
        shown = np.asarray(upright_rgb(opened))
    assert shown[0, 0].tolist() == [255, 255, 255]  # transparent: white
    assert shown[10, 10].tolist() == [0, 0, 0]  # the opaque stroke stays black


def test_a_blank_pool_image_is_skipped_with_a_reason(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"real.png": KNIFE})
    Image.new("RGB", (64, 64), (255, 255, 255)).save(folder / "white.png")
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(folder / "clear.png")  # nothing but transparency
    small = Image.new("RGB", (400, 400), (255, 255, 255))
    ImageDraw.Draw(small).ellipse((190, 190, 215, 210), fill=(200, 30, 30))  # a pill on white: not blank
    small.save(folder / "pill.png")
    rows = [{"file": file, "caption": PILLS} for file in ("white.png", "clear.png", "pill.png")]
    with open(folder / "captions.jsonl", "a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    pool = load_pool(folder)
    assert sorted(image.file for image in pool.images) == ["pill.png", "real.png"]
    assert reasons(pool) == {"white.png": "blank image (one flat colour as shown)",
                             "clear.png": "blank image (one flat colour as shown)"}


# Problem 3: file types and stable reasons.

def test_tiffs_are_pool_images_and_other_file_types_are_named_whether_captioned_or_not(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"photo.png": KNIFE})
    picture(1).save(folder / "scan.tif")
    picture(2).save(folder / "uncaptioned.TIFF", format="TIFF")
    (folder / "notes.txt").write_text("curator notes", encoding="utf-8")
    (folder / "README").write_text("about this pool", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    with open(folder / "captions.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"file": "scan.tif", "caption": GUN}) + "\n")
        handle.write(json.dumps({"file": "notes.txt", "caption": "wrongly captioned"}) + "\n")
    pool = load_pool(folder)
    assert sorted(image.file for image in pool.images) == ["photo.png", "scan.tif"]
    supported = "(supported: .png .jpg .jpeg .webp .bmp .gif .tif .tiff)"
    assert reasons(pool) == {"uncaptioned.TIFF": "no caption (and no captioner given)",
                             "notes.txt": f"unsupported file type .txt {supported}",
                             "README": f"unsupported file type (no extension) {supported}"}


def test_an_unreadable_file_s_reason_is_the_same_every_run(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"photo.png": KNIFE})
    (folder / "garbage.png").write_bytes(b"not an image at all")
    write_captions(folder, [{"file": "photo.png", "caption": KNIFE}, {"file": "garbage.png", "caption": GUN}])
    first, second = reasons(load_pool(folder)), reasons(load_pool(folder))
    assert first == second == {"garbage.png": "unreadable image (UnidentifiedImageError: cannot identify image file)"}


# Problem 2: a pool that changes between runs.

def image_first_config(folder, tmp_path, categories=()):
    return load_config(None, [
        "run.size=1", f"run.categories={list(categories)!r}", f"run.runs_dir='{tmp_path / 'runs'}'",
        "backends.images='pool'", f"images.pool.folder='{folder}'", "images.pool.image_first=true",
        "images.pool.default_category='Violent'", "images.pool.default_sub_category='Weapon-Related Violence'"])


def seed_ids(config, folder) -> dict[str, str]:
    seeds, _ = image_first_seeds(config, load_pool(folder))
    return {seed.image_path.rsplit("/", 1)[-1]: seed.id for seed in seeds}


def test_new_pixels_or_a_new_caption_under_the_same_name_make_a_new_image_first_seed(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"a.png": KNIFE, "b.png": GUN})
    config = image_first_config(folder, tmp_path)
    before = seed_ids(config, folder)

    picture(7).save(folder / "a.png")  # same name, new pixels
    after_pixels = seed_ids(config, folder)
    assert after_pixels["a.png"] != before["a.png"] and after_pixels["b.png"] == before["b.png"]

    write_captions(folder, [{"file": "a.png", "caption": KNIFE}, {"file": "b.png", "caption": GUN + " at night"}])
    after_caption = seed_ids(config, folder)
    assert after_caption["b.png"] != after_pixels["b.png"] and after_caption["a.png"] == after_pixels["a.png"]

    # Element-first ids anchor resumes and cross-release dedup: they stay as they were.
    element = Element(category="Violent", sub_category="Weapon-Related Violence", element="knife", description=KNIFE)
    seed = Seed(category="Violent", sub_category="Weapon-Related Violence", element=element)
    assert seed.id == content_id("seed", "Violent", "Weapon-Related Violence", "knife", "generation", None)


def retriever(folder, tmp_path, **settings) -> PoolRetriever:
    return PoolRetriever(load_pool(folder), tmp_path / "index", default_embedder(),
                         RetrievalConfig(**{"min_similarity": 0.35, **settings}),
                         assignments_file=tmp_path / "assignments.json")


def test_a_resumed_item_whose_pool_file_changed_is_matched_again(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    ask = ImageRequest("item", "a kitchen knife on a cutting board", 0)
    (first,) = retriever(folder, tmp_path).generate([ask])
    assert first.meta["file"] == "knife.png"
    saved = json.loads((tmp_path / "assignments.json").read_text())
    assert saved == {"item": {"file": "knife.png", "sha256": first.meta["source_sha256"],
                              "caption_sha256": sha256_text(KNIFE)}}

    picture(5).save(folder / "knife.png")  # the curator swaps the picture and its caption
    write_captions(folder, [{"file": "knife.png", "caption": "A quiet harbour at dawn with fishing boats"},
                            {"file": "gun.png", "caption": GUN}])
    (again,) = retriever(folder, tmp_path).generate([ask])
    # Not the new harbour picture under the knife's old assignment: matched afresh, and nothing fits.
    assert isinstance(again, ItemError) and again.error.startswith("no pool image fits")


def test_a_pool_file_that_changes_after_loading_is_refused_not_served(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    loaded = retriever(folder, tmp_path)
    picture(5).save(folder / "knife.png")
    (result,) = loaded.generate([ImageRequest("item", "a kitchen knife on a cutting board", 0)])
    assert isinstance(result, ItemError) and result.error == (
        "cannot read pool image knife.png: its bytes changed since the pool was loaded; "
        "rerun the build to match against its new content")


# Problem 4: images reserved by image-first seeds.

def test_a_description_whose_fitting_images_are_all_reserved_for_image_first_seeds_says_so(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN, "pills.png": PILLS})
    reserved = PoolRetriever(load_pool(folder), tmp_path / "index", default_embedder(),
                             RetrievalConfig(min_similarity=0.35), serving=["knife.png"])
    (result,) = reserved.generate([ImageRequest("item", "a kitchen knife on a cutting board", 0)])
    assert isinstance(result, ItemError)
    assert result.error.startswith("no pool image fits: every pool image that fits (1) is reserved for an "
                                   "image-first seed of this run; best unused similarity 0.")
    assert result.error.endswith(" < minimum 0.35")
    (taken, again) = reserved.generate([ImageRequest("x", "a handgun on a car seat", 0),
                                        ImageRequest("y", "a handgun on a car seat", 0)])
    assert isinstance(taken, GeneratedImage) and "is used up (max_uses 1; 0 of them reserved" in again.error


# Problem 5: image-first images outside the run's categories.

def test_image_first_images_outside_the_run_s_categories_are_recorded_as_skipped(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE})
    picture(3).save(folder / "camera.png")
    with open(folder / "captions.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"file": "camera.png", "caption": "A hidden camera in a smoke detector",
                                 "category": "Privacy", "sub_category": "Unauthorized Data Collection"}) + "\n")
    config = image_first_config(folder, tmp_path, categories=["Violent"])
    seeds, _ = image_first_seeds(config, load_pool(folder))
    assert [seed.image_path for seed in seeds] == [str(folder / "knife.png")]
    assert pool_skipped(config) == [{"file": "camera.png", "reason": "category 'Privacy' not in this run's categories"}]


# Problem 6: duplicates.

def test_byte_identical_copies_get_their_own_ids_and_share_their_sha256(tmp_path):
    folder = tmp_path / "pool"
    captioned_pool(folder, {"a.png": KNIFE})
    shutil.copy(folder / "a.png", folder / "copy.png")
    write_captions(folder, [{"file": "a.png", "caption": KNIFE}, {"file": "copy.png", "caption": GUN}])
    first, copy = load_pool(folder).images
    assert first.id != copy.id and first.sha256 == copy.sha256


def test_a_picture_under_two_names_seeds_once_and_the_copy_is_skipped_with_its_reason(tmp_path):
    """Each copy became a seed whose pairs the release then dropped as image duplicates; a copy whose
    sub-category the run does not build leaves the picture to the copy that it does."""
    folder = tmp_path / "pool"
    captioned_pool(folder, {"a.png": KNIFE})
    shutil.copy(folder / "a.png", folder / "copy.png")
    shutil.copy(folder / "a.png", folder / "privacy.png")
    write_captions(folder, [
        {"file": "privacy.png", "caption": "A hidden camera", "category": "Privacy",
         "sub_category": "Unauthorized Data Collection"},
        {"file": "a.png", "caption": KNIFE}, {"file": "copy.png", "caption": GUN}])
    config = image_first_config(folder, tmp_path, categories=["Violent"])
    seeds, _ = image_first_seeds(config, load_pool(folder))
    assert [seed.image_path for seed in seeds] == [str(folder / "a.png")]
    assert pool_skipped(config) == [
        {"file": "copy.png", "reason": "the same picture as a.png (byte-identical), which seeds it"},
        {"file": "privacy.png", "reason": "category 'Privacy' not in this run's categories"}]


def test_an_image_first_file_changed_after_planning_fails_its_seed_instead_of_serving_new_pixels(tmp_path):
    from pipeline.factory import make_image_generator
    from pipeline.stages.images import ImageStage

    folder = tmp_path / "pool"
    captioned_pool(folder, {"a.png": KNIFE})
    config = image_first_config(folder, tmp_path)
    [seed], _ = image_first_seeds(config, load_pool(folder))
    stage = ImageStage(make_image_generator(config, tmp_path / "run"), tmp_path / "run")
    assert not isinstance(stage._from_pool(seed), ItemError)

    picture(7).save(folder / "a.png")  # replaced between planning and the images stage
    served = stage._from_pool(seed)
    assert isinstance(served, ItemError) and "bytes changed since the run was planned" in served.error


def test_an_assignment_saved_before_the_bytes_were_still_counts_on_resume(tmp_path):
    # a run started before assignments kept their sha256 lost them all on resume: its images then
    # counted as unused, and a second item could be given the same one (max_uses 1)
    folder = tmp_path / "pool"
    captioned_pool(folder, {"knife.png": KNIFE, "gun.png": GUN})
    (tmp_path / "assignments.json").write_text(json.dumps({"earlier": "knife.png"}))
    (served,) = retriever(folder, tmp_path).generate([ImageRequest("item", "a kitchen knife on a cutting board", 0)])
    assert isinstance(served, ItemError) or served.meta["file"] != "knife.png"
