"""mut9: filled_then_renamed removes its staging folder on Ctrl-C too (a BaseException, not an Exception)."""

import pytest

from pipeline.staging import filled_then_renamed


def test_ctrl_c_while_filling_removes_the_staging_folder(tmp_path):
    staging, target = tmp_path / ".out.staging", tmp_path / "out"
    staging.mkdir()
    with pytest.raises(KeyboardInterrupt):
        with filled_then_renamed(staging, target) as folder:
            (folder / "half.json").write_text("{")
            raise KeyboardInterrupt
    assert not staging.exists() and not target.exists()


def test_a_refusal_of_the_target_removes_the_staging_folder(tmp_path):
    staging, target = tmp_path / ".out.staging", tmp_path / "out"
    staging.mkdir()

    def refuse(path):
        raise FileExistsError(path)

    with pytest.raises(FileExistsError):
        with filled_then_renamed(staging, target, refuse) as folder:
            (folder / "data.json").write_text("[]")
    assert not staging.exists() and not target.exists()


def test_a_staging_folder_of_another_hosts_live_writer_is_kept(tmp_path):
    """A folder named for a process on another host (or container) cannot be told dead by its pid here: kept
    until it has been idle for a day, even when no process of that pid runs on this host."""
    from pipeline.staging import remove_abandoned_staging

    folder = tmp_path / ".out.p999999@otherhost~4026531836.abcd1234"
    folder.mkdir()
    (folder / "data.json").write_text("[")
    assert remove_abandoned_staging(tmp_path, "out", "export") == []
    assert folder.exists()
