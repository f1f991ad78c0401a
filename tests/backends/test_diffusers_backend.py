"""The diffusers backend and the refinement loop, on a tiny random-weight model loaded from disk."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import imagehash
import pytest
from PIL import Image
from pydantic import ValidationError

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.diffusers_images import DiffusersConfig, DiffusersImageGenerator
from pipeline.contracts import CheckResult, ImageChecker, ItemError
from pipeline.images.checks import is_all_black
from pipeline.stages.image_refine import RefineRequest, refine_images
from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

WIDTH, HEIGHT = 64, 48  # not square, so a swapped width/height would show


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="module")
def black_model(tmp_path_factory):
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd-black"), black_vae=True)


def make_generator(model_dir, **overrides) -> DiffusersImageGenerator:
    settings = dict(model=str(model_dir), steps=2, guidance=5.0, width=WIDTH, height=HEIGHT,
                    batch_size=2, devices=["cpu"], allow_cpu=True)
    return DiffusersImageGenerator(DiffusersConfig(**(settings | overrides)))


@pytest.fixture(scope="module")
def generator(tiny_model):
    return make_generator(tiny_model)


REQUESTS = [ImageRequest(f"item-{n}", prompt, seed) for n, (prompt, seed) in enumerate([
    ("a crowded street market at dusk", 11), ("an empty parking garage", 12),
    ("a kitchen counter with fruit", 13),
])]


def test_generates_real_pngs_of_the_configured_size_with_full_meta(generator, tiny_model):
    results = generator.generate(REQUESTS)
    assert len(results) == len(REQUESTS)
    for request, result in zip(REQUESTS, results):
        assert isinstance(result, GeneratedImage)
        assert result.png.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(result.png))
        assert image.size == (WIDTH, HEIGHT)
        meta = result.meta
        assert meta["sha256"] == hashlib.sha256(result.png).hexdigest()
        assert meta["phash"] == str(imagehash.phash(image))
        assert (meta["model"], meta["seed"], meta["steps"], meta["guidance"]) == (
            str(tiny_model), request.seed, 2, 5.0)
        assert (meta["width"], meta["height"]) == (WIDTH, HEIGHT)
        assert meta["seconds"] > 0
    assert generator.provenance.backend == "diffusers"
    assert generator.provenance.model == str(tiny_model)


def test_same_seed_same_bytes_across_loads(generator, tiny_model):
    first = generator.generate(REQUESTS)
    again = make_generator(tiny_model).generate(REQUESTS)  # a fresh load from disk
    assert [r.png for r in first] == [r.png for r in again]


def test_different_seeds_give_different_images(generator):
    same_prompt = [ImageRequest(f"s{seed}", "a red door", seed) for seed in (1, 2, 3)]
    digests = {result.meta["sha256"] for result in generator.generate(same_prompt)}
    assert len(digests) == 3


def test_batches_split_across_devices_come_back_in_request_order(generator, tiny_model):
    requests = [ImageRequest(f"d{n}", f"scene number {n}", 100 + n) for n in range(5)]
    two_workers = make_generator(tiny_model, devices=["cpu", "cpu"])
    assert len(two_workers.pipelines) == 2
    split = two_workers.generate(requests)
    assert [r.meta["seed"] for r in split] == [r.seed for r in requests]
    assert [r.png for r in split] == [r.png for r in generator.generate(requests)]


def test_threads_sharing_a_generator_get_the_sequential_images(generator):
    requests = [[ImageRequest(f"t{n}", f"a harbour at noon {n}", 200 + n)] for n in range(4)]
    sequential = [generator.generate(batch)[0].png for batch in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = [results[0].png for results in pool.map(generator.generate, requests)]
    assert threaded == sequential


def test_all_black_output_is_an_item_error_not_an_image(black_model):
    results = make_generator(black_model).generate(REQUESTS[:2])
    assert all(isinstance(result, ItemError) for result in results)
    assert "all black" in results[0].error


def test_a_build_summary_says_why_every_image_of_an_all_black_model_failed(black_model):
    """An all-black model fails every seed at `images`; summary.md names the stage and the reason
    (before, it said only "0 accepted pairs" and "failed 2", with the reason in failures.parquet)."""
    from pipeline.batch import Batch
    from pipeline.config import load_config
    from pipeline.ledger import ledger_for
    from pipeline.plan import plan_seeds
    from pipeline.stages.base import failure_from
    from pipeline.summary import SHOWN_REASON, summarise

    seeds = plan_seeds(load_config(None, ["run.size=3", "run.categories=['Privacy']"]))[:3]
    errors = make_generator(black_model).generate([ImageRequest(seed.id, "a kitchen knife", 1) for seed in seeds[:2]])
    long_reason = ItemError("server said | " + "x" * 300)
    failures = [failure_from(error, item_id=seed.id, seed_id=seed.id, stage="images", category=seed.category)
                for seed, error in zip(seeds, errors)]
    failures.append(failure_from(long_reason, item_id=seeds[2].id, seed_id=seeds[2].id, stage="drafts",
                                 category=seeds[2].category))
    ledger = ledger_for(Batch(seeds=seeds, failures=failures))
    markdown = summarise(ledger, [], {}, 1.0, "black").markdown
    lines = markdown.splitlines()
    table = lines.index("| stage | failed seeds | most common reason | seeds with it |")
    drafts_row, images_row = lines[table + 2], lines[table + 3]
    assert images_row == f"| images | 2 | {errors[0].error} | 2 |"
    assert "all black" in images_row
    assert drafts_row.startswith("| drafts | 1 | server said \\| xxx") and drafts_row.endswith("x… | 1 |")
    assert len(drafts_row.split(" | ")[2]) <= SHOWN_REASON + 1  # the escaped pipe


def test_safety_checker_flags_are_item_errors(tmp_path):
    flagging = build_tiny_sd_pipeline(tmp_path / "tiny-sd-flagging", flag_everything=True)
    results = make_generator(flagging).generate(REQUESTS[:2])
    assert all(isinstance(result, ItemError) and "nsfw_content_detected" in result.error
               for result in results)


def test_is_all_black_only_for_black_pixels():
    assert is_all_black(Image.new("RGB", (8, 8), (3, 2, 1)))
    assert not is_all_black(Image.new("RGB", (8, 8), (0, 0, 40)))


def test_config_rejects_unknown_fields():
    with pytest.raises(ValidationError):
        DiffusersConfig(modle="typo")


class FirstLookRejects(ImageChecker):
    """A deterministic test double for the VLM checker: it decodes the image, rejects the
    first one it sees per element with a refined prompt, accepts later ones, and never
    accepts the elements in `never`."""

    backend, model = "test-double", "first-look-rejects"

    def __init__(self, never=()):
        self.never, self.seen, self.calls = set(never), set(), []

    def check(self, requests):
        self.calls.append(len(requests))
        results = []
        for request in requests:
            Image.open(io.BytesIO(request.png)).verify()
            if request.element == "broken":
                results.append(ItemError("checker could not parse the image"))
            elif request.element in self.never or request.element not in self.seen:
                self.seen.add(request.element)
                results.append(CheckResult(False, f"{request.description}, {request.element} in focus",
                                           "element not visible"))
            else:
                results.append(CheckResult(True, None, "element visible"))
        return results


def test_refinement_regenerates_only_unaccepted_items_with_refined_prompts(generator):
    requests = [RefineRequest("a", "knife", "a kitchen scene", 5),
                RefineRequest("b", "ledge", "a rooftop", 6),
                RefineRequest("c", "broken", "a street", 7)]
    checker = FirstLookRejects(never={"ledge"})
    outcomes = refine_images(requests, generator, checker, max_rounds=3)

    knife, ledge, broken = outcomes
    assert knife.accepted and [r.shows_element for r in knife.rounds] == [False, True]
    assert [r.prompt for r in knife.rounds] == ["a kitchen scene", "a kitchen scene, knife in focus"]
    assert [r.seed for r in knife.rounds] == [5, 6]
    assert knife.image.meta["sha256"] == knife.rounds[-1].sha256 != knife.rounds[0].sha256

    assert not ledge.accepted and len(ledge.rounds) == 3  # gave up after max_rounds
    assert [r.prompt for r in ledge.rounds] == ["a rooftop"] + ["a rooftop, ledge in focus"] * 2
    assert len({r.sha256 for r in ledge.rounds}) == 3  # a new seed each round, so a new picture
    assert ledge.image is not None and ledge.error is None

    assert not broken.accepted and len(broken.rounds) == 1
    assert broken.error == "checker could not parse the image"
    assert checker.calls == [3, 2, 1]  # each round checks only what is still pending


def test_refinement_records_a_failed_generation(black_model):
    outcome, = refine_images([RefineRequest("x", "knife", "a kitchen", 1)],
                             make_generator(black_model), FirstLookRejects(), max_rounds=2)
    assert outcome.image is None and not outcome.accepted
    assert outcome.rounds[0].sha256 is None and "all black" in outcome.rounds[0].explanation
