"""A full or read-only disk met writing an image stops the images stage with an OSError naming the
image (the CLI's one `error:` line, exit 2), rather than failing the seed for good in a checkpoint
that a rerun would reuse (an audit lost 98 of 114 seeds that way, with exit 0)."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline import storage
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.stages.images import ImageStage


class CountingPlaceholder(PlaceholderImages):
    def __init__(self):
        super().__init__(width=64, height=64)
        self.asked: list[str] = []

    def generate(self, requests):
        self.asked += [request.item_id for request in requests]
        return super().generate(requests)


def disk_fails_for(monkeypatch, error_number: int, hit=lambda target: target.parent.name == "images") -> None:
    """The real atomic write, whose bytes reach the temporary file and then fail the way write(2) does
    on a full or read-only disk (no file name), for the targets `hit` picks."""
    real = storage.atomic_path

    @contextmanager
    def failing(target):
        with real(target) as temporary:
            yield temporary
            if hit(Path(target)):
                raise OSError(error_number, os.strerror(error_number))

    monkeypatch.setattr(storage, "atomic_path", failing)


@pytest.mark.parametrize("save_every", [None, 2], ids=["written-by-the-stage", "written-per-wave"])
def test_a_full_disk_stops_the_stage_naming_the_image(drafted, tmp_path, monkeypatch, save_every):
    disk_fails_for(monkeypatch, errno.ENOSPC)
    with pytest.raises(OSError) as stopped:
        ImageStage(CountingPlaceholder(), tmp_path, save_every=save_every)(drafted)
    assert stopped.value.errno == errno.ENOSPC
    assert Path(stopped.value.filename).parent == tmp_path / "images"
    assert str(stopped.value.filename) in str(stopped.value)
    assert not list(tmp_path.rglob("*.tmp"))


def test_per_wave_saving_stops_at_the_first_full_write_not_after_every_image(drafted, tmp_path, monkeypatch):
    disk_fails_for(monkeypatch, errno.ENOSPC)
    generator = CountingPlaceholder()
    with pytest.raises(OSError):
        ImageStage(generator, tmp_path, save_every=2)(drafted)
    assert len(generator.asked) == 2  # a diffusers model would have run every wave for nothing


def test_a_read_only_image_note_stops_the_stage_naming_the_note(drafted, tmp_path, monkeypatch):
    disk_fails_for(monkeypatch, errno.EROFS, hit=lambda target: target.suffix == ".json")
    with pytest.raises(OSError) as stopped:
        ImageStage(CountingPlaceholder(), tmp_path, save_every=2)(drafted)
    assert stopped.value.errno == errno.EROFS and stopped.value.filename.endswith(".json")

