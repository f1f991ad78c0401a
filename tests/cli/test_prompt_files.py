"""The prompt files a build reads: one that would fail midway is one line and exit 2 before any work,
and a resumed run made with other versions of them (or of the taxonomy) is refused by name.

Each test works on a copy of prompts/ (the repository's own files are never edited)."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir

LLM_REWRITER = ["--set", "backends.rewriter='llm'"]


@pytest.fixture
def runs(tmp_path) -> Path:
    return tmp_path / "runs"


def build(runs: Path, *args: str):
    return CliRunner().invoke(app, ["build", "--size", "1", "--no-progress", "--set", f"run.runs_dir='{runs}'", *args])


def one_line_error(result, runs: Path) -> str:
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not runs.exists(), "a refused build writes nothing"
    return result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_undefined_name_in_a_role_template_is_named_with_its_line(prompts, runs):
    edit(prompts / "leak_rewriter.j2", "{{ query }}", "{{ querry }}")
    message = one_line_error(build(runs, *LLM_REWRITER), runs)
    line = next(number for number, text in enumerate((prompts / "leak_rewriter.j2").read_text().splitlines(), 1)
                if "querry" in text)
    assert f"leak_rewriter.j2:{line}: 'querry' is undefined" in message


def test_a_template_that_does_not_compile_is_named_with_its_line(prompts, runs):
    edit(prompts / "leak_rewriter.j2", "{% endset %}\n{% set user %}", "\n{% set user %}")
    message = one_line_error(build(runs, *LLM_REWRITER), runs)
    assert re.search(r"leak_rewriter\.j2:\d+: Unexpected end of template", message), message


def test_a_missing_role_template_is_named(prompts, runs):
    (prompts / "leak_rewriter.j2").unlink()
    assert "prompt template not found: leak_rewriter.j2" in one_line_error(build(runs, *LLM_REWRITER), runs)


@pytest.mark.parametrize("table", ["seed_queries.toml", "references.toml"])
def test_an_offline_table_that_is_no_toml_is_named(prompts, runs, table):
    (prompts / "offline" / table).write_text("[frames\n", encoding="utf-8")
    assert f"{table}: not valid TOML" in one_line_error(build(runs), runs)


def test_an_offline_table_saved_with_a_byte_order_mark_reads_and_keeps_its_files_hash(prompts):
    from pipeline.hashing import sha256_file
    from pipeline.prompts import read_prompt_table

    table = prompts / "offline" / "seed_queries.toml"
    table.write_bytes(b"\xef\xbb\xbf" + table.read_bytes())
    parsed, hashed = read_prompt_table("offline/seed_queries.toml")
    assert parsed and hashed == sha256_file(table)[:12]


def test_queries_per_seed_beyond_the_offline_cores_is_refused_with_the_most_there_are(prompts, runs):
    message = one_line_error(build(runs, "--set", "run.queries_per_seed=6"), runs)
    assert "run.queries_per_seed = 6" in message and "at most 3" in message


def test_a_sub_category_without_a_seed_query_table_is_refused(prompts, runs):
    table = prompts / "offline" / "seed_queries.toml"
    edit(table, '["Cybercrime"]', '["Cybercrime (moved)"]')
    message = one_line_error(build(runs, "--set", "run.sub_categories=['Cybercrime']"), runs)
    assert "seed_queries.toml has no safety_reasons for 'Cybercrime'" in message


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


# -- resuming ------------------------------------------------------------------------------------

def claimed(runs: Path, *overrides: str) -> RunDir:
    run = RunDir(runs, "r1")
    run.claim(load_config(None, ["run.size=1", f"run.runs_dir='{runs}'", *overrides]))
    return run


def test_a_resume_after_an_offline_table_was_edited_is_refused_naming_it(prompts, runs):
    claimed(runs)
    append(prompts / "offline" / "seed_queries.toml", "\n# a comment is an edit too\n")
    result = CliRunner().invoke(app, ["build", "--size", "1", "--run-id", "r1", "--no-progress",
                                      "--set", f"run.runs_dir='{runs}'"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert "run r1 was made with other versions of prompts/offline/seed_queries.toml (sha256 " in result.output
    assert "use a new --run-id" in result.output


def test_a_resume_after_the_llm_rewriter_template_was_edited_is_refused(prompts, runs):
    run = claimed(runs, "backends.rewriter='llm'")
    config = load_config(None, ["run.size=1", f"run.runs_dir='{runs}'", "backends.rewriter='llm'"])
    run.check(config)  # unchanged: resumes
    edit(prompts / "leak_rewriter.j2", "Rewrite the harmful query", "Rewrite the query")
    with pytest.raises(ConfigError, match=r"other versions of prompts/leak_rewriter\.j2 \(sha256 "):
        run.check(config)


@pytest.mark.parametrize("module, attribute, recorded_as", [
    ("pipeline.taxonomy", "TAXONOMY_FILE", "pipeline/taxonomy/taxonomy.toml"),
    # the rules rewriter's paraphrases: one run would mix rows of two rewrite_prompt_hash values
    ("pipeline.lexicon", "LEXICON_FILE", "pipeline/lexicon/harm_words.toml"),
    # the detector's risk lexicon: its weights move every leak score (and the detector's version)
    ("pipeline.detect.lexicon", "CUES_FILE", "pipeline/detect/cues.toml"),
    # the bundled element library: its terms are in every leak score's library match (and the detector's version)
    ("pipeline.taxonomy", "ELEMENTS_FILE", "pipeline/taxonomy/elements.jsonl")])
def test_a_resume_after_a_data_file_the_build_reads_was_edited_is_refused(prompts, runs, tmp_path, monkeypatch,
                                                                          module, attribute, recorded_as):
    original = getattr(importlib.import_module(module), attribute)
    copy = tmp_path / original.name
    shutil.copy(original, copy)
    monkeypatch.setattr(f"{module}.{attribute}", copy)
    run = claimed(runs)
    append(copy, "\n# a comment is an edit too\n")
    with pytest.raises(ConfigError, match=f"other versions of {re.escape(recorded_as)}"):
        run.check(load_config(None, ["run.size=1", f"run.runs_dir='{runs}'"]))


def test_the_run_records_the_files_it_reads_and_a_run_made_before_the_record_resumes_unchecked(prompts, runs):
    run = claimed(runs)
    recorded = json.loads(run.prompts_record.read_text(encoding="utf-8"))
    assert sorted(recorded) == ["pipeline/detect/cues.toml", "pipeline/lexicon/harm_words.toml",
                                "pipeline/taxonomy/elements.jsonl", "pipeline/taxonomy/taxonomy.toml", "prompts/offline/references.toml",
                                "prompts/offline/seed_queries.toml"]
    run.prompts_record.unlink()
    append(prompts / "offline" / "references.toml", "\n# edited\n")
    run.check(load_config(None, ["run.size=1", f"run.runs_dir='{runs}'"]))


def test_a_run_made_before_the_record_says_what_it_cannot_check_and_is_checked_from_its_resume_on(prompts, runs):
    run = claimed(runs)
    run.prompts_record.unlink()
    config = load_config(None, ["run.size=1", f"run.runs_dir='{runs}'"])
    assert "cannot be seen" in run.unrecorded_prompts_note()
    run.claim(config)  # the resume records the files as they are now
    assert run.unrecorded_prompts_note() is None and run.prompts_record.exists()
    append(prompts / "offline" / "references.toml", "\n# edited after the resume\n")
    with pytest.raises(ConfigError, match=r"other versions of prompts/offline/references\.toml"):
        run.check(config)
