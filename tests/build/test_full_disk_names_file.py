"""A full disk mid-build said only "error: [Errno 28] No space left on device": write(2)'s error names
no file, and the run, Prefect's home and TMPDIR may be on three disks. An atomic write's error now names
the file and where its disk is mounted, and keeps the errno (`storage.is_machine_error`, retries)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import storage
from pipeline.cli.app import app

NO_SPACE = os.strerror(errno.ENOSPC)


def full_disk_for(monkeypatch, hit) -> None:
    """Writes of the temporary files of the targets `hit` picks fail as on a full disk: half the bytes
    land, then write(2) says ENOSPC, naming no file (on /dev/full, where there is one)."""
    real = Path.write_bytes

    def write_bytes(path: Path, data: bytes) -> int:
        if not (path.name.endswith(".tmp") and hit(path)):
            return real(path, data)
        real(path, data[: len(data) // 2])
        if Path("/dev/full").exists():
            return real(Path("/dev/full"), data)
        raise OSError(errno.ENOSPC, NO_SPACE)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_a_full_disk_names_the_file_and_its_disk(monkeypatch, tmp_path):
    target = tmp_path / "batches" / "b0" / "drafts.json"
    full_disk_for(monkeypatch, lambda path: True)
    with pytest.raises(OSError) as refused:
        storage.atomic_write_bytes(target, b"{}" * 1000)
    error = refused.value
    assert error.errno == errno.ENOSPC and storage.is_machine_error(error)
    assert error.filename == str(target)
    assert str(error) == f"cannot write {target}: {NO_SPACE} (the disk mounted at {storage.mount_point(tmp_path)})"
    assert not target.exists() and not list(tmp_path.rglob("*.tmp"))


def test_the_mount_point_is_that_of_the_nearest_existing_folder(tmp_path):
    mount = storage.mount_point(tmp_path / "not" / "made")
    assert os.path.ismount(mount) and tmp_path.is_relative_to(mount)


def test_an_error_naming_another_file_is_left_as_it_is(tmp_path):
    """Inside the write's block, a machine error about some other file is that file's."""
    other = tmp_path / "elsewhere.txt"
    with pytest.raises(OSError) as refused:
        with storage.atomic_path(tmp_path / "out.json"):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(other))
    assert not isinstance(refused.value, storage.WriteRefused) and refused.value.filename == str(other)


@pytest.mark.slow  # a small build
def test_the_build_line_names_the_checkpoint_that_did_not_fit(prefect_harness, monkeypatch, tmp_path):
    full_disk_for(monkeypatch, lambda path: path.name.startswith(".drafts.json."))
    stopped = CliRunner().invoke(app, ["build", "--size", "1", "--set", "run.categories=['Privacy']", "--set",
                                       f"run.runs_dir='{tmp_path}'", "--run-id", "full", "--no-progress"])
    assert stopped.exit_code == 2, stopped.output
    [batch] = (tmp_path / "full" / "batches").iterdir()
    assert [line for line in stopped.output.splitlines() if line.startswith("error:")] == [
        f"error: cannot write {batch / 'drafts.json'}: {NO_SPACE} "
        f"(the disk mounted at {storage.mount_point(tmp_path)})"]
    assert not list((tmp_path / "full").rglob(".*.tmp"))
