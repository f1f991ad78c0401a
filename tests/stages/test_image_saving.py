"""A slow generator's images are saved a wave at a time: a build killed in the image stage keeps
them, and the rerun asks the generator only for the rest (an audit lost a whole batch's images)."""

from __future__ import annotations

import pytest

from pipeline.backends.placeholder import PlaceholderImages
from pipeline.stages.images import ImageStage


class Killed(Exception):
    pass


class CountingPlaceholder(PlaceholderImages):
    """The placeholder generator; it can die (as a killed process would) after some waves."""

    def __init__(self, waves_before_dying: int | None = None):
        super().__init__(width=64, height=64)
        self.asked: list[str] = []
        self.waves_left = waves_before_dying

    def generate(self, requests):
        if self.waves_left == 0:
            raise Killed
        if self.waves_left is not None:
            self.waves_left -= 1
        self.asked += [request.item_id for request in requests]
        return super().generate(requests)


def test_images_saved_before_a_kill_are_reused_and_the_rest_are_made(drafted, tmp_path):
    with pytest.raises(Killed):
        ImageStage(CountingPlaceholder(waves_before_dying=2), tmp_path, save_every=2)(drafted)
    assert len(list((tmp_path / "images").glob("*.png"))) == 4

    rerun = CountingPlaceholder()
    done = ImageStage(rerun, tmp_path, save_every=2)(drafted)
    assert len(rerun.asked) == 2 and len(done.images) == 6
    fresh = ImageStage(CountingPlaceholder(), tmp_path / "fresh", save_every=2)(drafted)
    for seed_id, path in done.images.items():  # the same bytes as an uninterrupted run
        assert (tmp_path / path).read_bytes() == (tmp_path / "fresh" / fresh.images[seed_id]).read_bytes()


def test_an_image_saved_as_it_was_made_is_not_written_a_second_time(drafted, tmp_path, monkeypatch):
    import pipeline.stages.base as base

    written = []
    monkeypatch.setattr(base, "atomic_write_bytes", lambda path, data: written.append(path) or
                        path.parent.mkdir(parents=True, exist_ok=True) or path.write_bytes(data))
    done = ImageStage(CountingPlaceholder(), tmp_path, save_every=2)(drafted)
    assert len(done.images) == 6 and written == []  # the stage's own write is skipped for all six
    assert all((tmp_path / path).is_file() for path in done.images.values())


def test_a_saved_image_made_for_another_prompt_is_made_again(drafted, tmp_path):
    ImageStage(CountingPlaceholder(), tmp_path, save_every=3)(drafted)
    changed = drafted.model_copy(update={"pairs": [pair.model_copy(update={"image_description": "Another scene."})
                                                   for pair in drafted.pairs]})
    again = CountingPlaceholder()
    ImageStage(again, tmp_path, save_every=3)(changed)
    assert len(again.asked) == 6
