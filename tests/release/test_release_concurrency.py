"""Two releases of one name at once: the second is refused at the start (it used to do all its work, then
fail with "already exists and is not a release" about the first one's complete release)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.release import make
from pipeline.release.make import make_release
from pipeline.release.select import add_run
from tests.support.release_runs import accepted_run

ROOT = Path(__file__).parents[2]


def release(tmp_path, runs, **kwargs):
    return make_release(runs, name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(), **kwargs)


def release_cli(tmp_path, *words):
    return CliRunner().invoke(app, ["release", *words, "--name", "bench", "--runs-dir", str(tmp_path / "runs"),
                                    "--releases-dir", str(tmp_path / "releases")])


class Paused:
    """A release in a thread, held at its first step until `resume`."""

    def __init__(self, tmp_path, runs, **kwargs):
        self.started, self.go, self.result = threading.Event(), threading.Event(), {}
        self.thread = threading.Thread(target=self._run, args=(tmp_path, runs, kwargs))
        self.thread.start()
        assert self.started.wait(120), "the first release never reached its first step"

    def _run(self, tmp_path, runs, kwargs):
        try:
            self.result["folder"] = release(tmp_path, runs, on_step=self._step, **kwargs)
        except BaseException as error:  # reported by `resume`
            self.result["error"] = error
        finally:
            self.started.set()

    def _step(self, step):
        self.started.set()
        self.go.wait(120)

    def resume(self) -> Path:
        self.go.set()
        self.thread.join(120)
        assert "error" not in self.result, self.result.get("error")
        return self.result["folder"]


@pytest.mark.parametrize("extend", [False, True])
def test_a_second_release_of_the_name_is_refused_while_one_runs(tmp_path, extend):
    """In one line and exit 2, before any work and without touching the running one, for a plain release and an
    --extend alike; the first one then finishes as if alone."""
    if extend:
        release(tmp_path, [accepted_run(tmp_path / "runs", "r0", 2)])
    first = Paused(tmp_path, [accepted_run(tmp_path / "runs", "r1", 2, start=2)], extend=extend)
    accepted_run(tmp_path / "runs", "r2", 2, start=4)
    releases = tmp_path / "releases"
    try:
        started = time.monotonic()
        result = release_cli(tmp_path, "r2", *(["--extend"] if extend else []))
        assert result.exit_code == 2, result.output
        assert result.stderr == (f"error: another release of bench is running in {releases} (it holds "
                                 f"{releases / '.bench.lock'}): wait for it to end, then rerun\n")
        assert time.monotonic() - started < 30
        assert not [path for path in releases.iterdir() if path.name.startswith(".bench-v")]  # no staging
    finally:
        folder = first.resume()
    assert folder.name == ("bench-v2" if extend else "bench-v1") and (folder / "manifest.json").is_file()


def test_a_release_killed_outright_does_not_hold_the_name(tmp_path):
    """kill -9 leaves the lock file, but not the lock: the next release of the name runs."""
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal, sys; from pipeline.release.make import make_release\n"
         "def die(step): os.kill(os.getpid(), signal.SIGKILL)\n"
         "make_release([sys.argv[1]], name='bench', releases_dir=sys.argv[2], embedder=None, on_step=die)",
         str(accepted_run(tmp_path / "runs", "r1", 2)), str(tmp_path / "releases")], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "releases" / ".bench.lock").is_file()
    result = release_cli(tmp_path, "r1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "releases" / "bench-v1" / "manifest.json").is_file()


def finish_a_release(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")


@pytest.mark.parametrize("when", ["reading the runs", "writing"])
def test_a_version_released_meanwhile_is_named_as_such(tmp_path, monkeypatch, when):
    """Another process made bench-v1 while this release read its runs (before it took the lock), or while it
    wrote (a writer that takes no lock: `leakless select`, another host on a shared folder): the line says so
    instead of calling that complete release "not a release", and leaves it be."""
    taken = tmp_path / "releases" / "bench-v1"

    def add_run_then_another_finishes(*args, **kwargs):
        add_run(*args, **kwargs)
        finish_a_release(taken)

    def another_finishes_while_writing(step):
        if step.startswith("writing"):
            finish_a_release(taken)

    if when == "reading the runs":
        monkeypatch.setattr(make, "add_run", add_run_then_another_finishes)
    run = accepted_run(tmp_path / "runs", "r1", 2)
    with pytest.raises(ValueError) as raised:
        release(tmp_path, [run], on_step=another_finishes_while_writing if when == "writing" else lambda step: None)
    assert str(raised.value) == (f"{taken} was released meanwhile, by another process; nothing of this release "
                                 "was written: rerun it")
    assert sorted(path.name for path in taken.parent.iterdir()) == [".bench.lock", "bench-v1"]
    assert os.listdir(taken) == ["manifest.json"]


def test_a_releases_dir_that_is_a_file_is_one_line(tmp_path):
    """The lock is made in --releases-dir: a file there was a traceback (after all the work, before)."""
    accepted_run(tmp_path / "runs", "r1", 2)
    (tmp_path / "releases").write_text("not a folder")
    result = release_cli(tmp_path, "r1")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {tmp_path / 'releases'}: not a folder (--releases-dir)\n"
