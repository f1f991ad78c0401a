"""A write into a folder this user may not write names what was to be written and the folder, its mode and
owner, and the fix: `review import` by another member read "[Errno 13] Permission denied:
'.../review/.decisions.parquet.p3975@vm~4026531836.jtp9g6l7.tmp'", a file the user never asked for (lab audit #9).

A root process (CI) may write any folder, so the refusal is made at the OS call: the temporary file's (or
staging folder's) creation is refused the way the kernel refuses it in another member's 0755 folder."""

from __future__ import annotations

import errno
import os

import pytest

from pipeline.storage import atomic_write_text, is_machine_error, staging_dir


def refuse_in(monkeypatch, folder, call: str) -> None:
    real = getattr(os, call)

    def as_another_member_s_folder(path, *args, **kwargs):
        if os.path.dirname(str(path)) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, call, as_another_member_s_folder)


def test_an_atomic_write_refused_names_the_target_and_its_folder_not_the_temporary_file(tmp_path, monkeypatch):
    review = tmp_path / "review"
    review.mkdir()
    review.chmod(0o755)
    refuse_in(monkeypatch, review, "open")
    with pytest.raises(PermissionError) as refused:
        atomic_write_text(review / "decisions.parquet", "rows")
    message = str(refused.value)
    assert message.startswith(f"cannot write {review / 'decisions.parquet'} (review is drwxr-xr-x ")
    assert ".tmp" not in message and "chmod g+w" in message and "umask 002" in message
    assert is_machine_error(refused.value)  # still one `error:` line, exit 2
    assert list(review.iterdir()) == []


def test_a_staging_folder_refused_names_the_folder_it_was_to_go_in(tmp_path, monkeypatch):
    releases = tmp_path / "releases"
    releases.mkdir()
    refuse_in(monkeypatch, releases, "mkdir")
    with pytest.raises(PermissionError) as refused:
        staging_dir(releases, prefix=".team.")
    assert str(refused.value).startswith(f"cannot write in {releases} (releases is d")
    assert ".team." not in str(refused.value)
