"""The command line as a script sees it, through the real entry point (`pipeline.cli.main`, or
`python -m pipeline.cli`), not CliRunner, which bypasses main: a bad argument is one `error:` line
and exit 2, stdout holds results only, and a reader that stops early fails nothing."""

from __future__ import annotations

import fcntl
import io
import os
import re
import subprocess
import sys

import pytest

from pipeline.cli import main
from pipeline.progress import StageProgress

SMALL_PIPE = 4096  # bytes: the command outgrows it within its first lines


def leakless(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `leakless ARGS`."""
    monkeypatch.setattr(sys, "argv", ["leakless", *args])
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main wraps both streams: undone after the test
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    with pytest.raises(SystemExit) as exit:
        main()
    out, err = capsys.readouterr()
    return exit.value.code, out, err


@pytest.mark.parametrize(("args", "option"), [
    (["build", "--size", "abc"], "'--size'"),
    (["audit", "x.jsonl", "--chunk-size", "0"], "'--chunk-size'"),
    (["audit", "x.jsonl", "--threshold", "2"], "'--threshold'"),
    (["elements", "grow", "--n", "0"], "'--n'"),
    (["release", "runs/r1"], "'--name'"),
    (["release", "runs/r1", "--name", "v1", "--max-shard-mb", "0"], "'--max-shard-mb'"),
    (["audit"], "'file'"),
    (["build", "--dry-run"], "--dry-run"),
    (["nosuch"], "'nosuch'"),
])
def test_a_bad_argument_is_one_error_line_naming_it(monkeypatch, capsys, tmp_path, args, option):
    monkeypatch.chdir(tmp_path)
    code, out, err = leakless(monkeypatch, capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and option in err, err
    assert list(tmp_path.iterdir()) == []


def test_help_is_unchanged(monkeypatch, capsys):
    code, out, _ = leakless(monkeypatch, capsys, "--help")
    assert code == 0 and out.startswith("Usage: ") and "Commands:" in out
    code, out, err = leakless(monkeypatch, capsys)  # no command: the help, as a usage error
    assert code == 2 and out == "" and "Commands:" in err


@pytest.mark.parametrize("value", ["nan", "NaN"])
def test_a_threshold_that_is_no_number_is_named_so(monkeypatch, capsys, value):
    code, _, err = leakless(monkeypatch, capsys, "audit", "x.jsonl", "--threshold", value)
    assert code == 2
    assert err == f"error: Invalid value for '--threshold': '{value}' is not a number\n"


def test_an_empty_run_id_is_refused_not_a_new_run(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = leakless(monkeypatch, capsys, "build", "--size", "1", "--run-id", "")
    assert (code, err) == (2, "error: invalid run id ''\n")
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["build", "--config", "adir"], "error: config file is a folder: adir"),
    (["extend", "--targets", "adir"], "error: targets file is a folder: adir"),
    (["build", "--set", "run=3", "--set", "run.runs_dir='x'"],
     "error: override 'run=3': run is a section, not a value"),
    (["build", "--set", "images.pool=3"], "error: override 'images.pool=3': images.pool is a section, not a value"),
])
def test_the_message_names_the_real_problem(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    code, _, err = leakless(monkeypatch, capsys, *args)
    assert (code, err) == (2, message + "\n")


def test_an_inline_table_still_sets_a_section(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = leakless(monkeypatch, capsys, "build", "--set", "run={size=0}")
    assert (code, err) == (2, "error: override run.size: Input should be greater than or equal to 1\n")


@pytest.mark.slow  # a `leakless` process each, 4-7 s to start
@pytest.mark.parametrize("streams", ["stdout", "stdout and stderr"])
def test_a_reader_that_stops_early_fails_nothing(streams):
    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, SMALL_PIPE)
    listing = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "elements", "list"], stdout=write,
                               stderr=write if streams == "stdout and stderr" else subprocess.PIPE)
    os.close(write)
    with os.fdopen(read, "rb") as reader:  # `| head -1`
        first = reader.readline()
    _, err = listing.communicate(timeout=120)
    assert first.count(b"\t") >= 3  # a listing line
    assert listing.returncode == 0
    assert not err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def streams(monkeypatch):
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)

    def set_streams(stdout: io.StringIO, stderr: io.StringIO) -> tuple[io.StringIO, io.StringIO]:
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", stderr)
        return stdout, stderr

    return set_streams


def run_bars() -> None:
    with StageProgress(("drafts",), 3) as bars:
        print("a result")
        bars.advance("drafts", 3)


def test_bars_go_to_a_terminal_stderr_and_stdout_keeps_the_results(streams):
    stdout, stderr = streams(io.StringIO(), _Terminal())  # `leakless build > log` at a terminal
    run_bars()
    assert stdout.getvalue() == "a result\n"
    assert "3/3" in stderr.getvalue()


def test_no_bars_where_stderr_is_no_terminal(streams):
    stdout, stderr = streams(_Terminal(), io.StringIO())  # `leakless build 2> log`
    run_bars()
    assert stdout.getvalue() == "a result\n"
    assert stderr.getvalue() == ""


@pytest.mark.slow
def test_the_audit_draws_its_bar_on_stderr(tmp_path):
    """`leakless audit big.jsonl > report.txt` at a terminal: the bar shows, the report stays clean."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "1", "query": "How do I clean this?", "image_description": "a rifle"}\n')
    audit = subprocess.run([sys.executable, "-m", "pipeline.cli", "audit", str(rows)], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "TTY_COMPATIBLE": "1"})
    assert audit.returncode == 0, audit.stderr
    assert "1/1 rows" in plain(audit.stderr)
    assert "1/1 rows" not in plain(audit.stdout)


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
