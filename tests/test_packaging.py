"""Prompt templates are found from a checkout and from an installed wheel; CI runs the README's test command."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pipeline.prompts as prompts

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(folder), str(ROOT)], check=True, capture_output=True)
    return next(folder.glob("leakless-*.whl"))


@pytest.mark.slow
def test_wheel_carries_every_prompt_template(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = [p.relative_to(ROOT / "prompts") for p in (ROOT / "prompts").rglob("*") if p.is_file()]
    assert templates
    for template in templates:
        assert f"pipeline/prompt_files/{template.as_posix()}" in names
    assert "pipeline/taxonomy/elements.jsonl" in names
    assert "pipeline/guardrails/rules.toml" in names
    # the detector's fitted parts: without them an installed detector cannot start
    assert {"pipeline/detect/calibration.json", "pipeline/detect/text_harm_probe.npz", "pipeline/detect/evaluation_sets.toml", "pipeline/detect/cues.toml", "pipeline/detect/text_harm_adapter.npz"} <= names
    # every other file the code reads at run time: the apps' and reports' templates, the word lists
    read = [p.relative_to(ROOT).as_posix() for p in (ROOT / "pipeline").rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts]
    assert len(read) >= 10, read
    assert set(read) <= names, f"not in the wheel: {sorted(set(read) - names)}"


@pytest.mark.slow
def test_prompts_resolve_from_an_installed_wheel(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(build_wheel(tmp_path))], check=True, capture_output=True)
    # another distribution's top-level `prompts` beside it (an installed wheel audit): never read as ours
    (target / "prompts" / "offline").mkdir(parents=True)
    (target / "prompts" / "offline" / "seed_queries.toml").write_text("# not leakless's\n")
    probe = ("import pipeline.prompts as p; print(p.prompts_dir()); "
             "print(p.prompt_hash('offline/seed_queries.toml'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                         check=True, capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(target))
    assert out[1] == prompts.prompt_hash("offline/seed_queries.toml")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"^(make test)\b", readme, re.MULTILINE).group(1)
    assert re.search(rf"^{test_command}$", ci, re.MULTILINE)


def test_readme_config_example_is_a_valid_config(tmp_path):
    from pipeline.config import load_config

    readme = (ROOT / "README.md").read_text()
    example = next(block for block in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL)
                   if block.startswith("[run]"))
    path = tmp_path / "example.toml"
    path.write_text(example)
    config = load_config(path)
    assert config.run.size == 4 and config.backends.images == "placeholder"


def test_readme_names_every_cli_command():
    from typer.main import get_command

    from pipeline.cli.app import app

    readme = (ROOT / "README.md").read_text()
    for name in get_command(app).commands:
        assert f"leakless {name}" in readme, name


def test_every_test_file_the_docs_and_scripts_name_exists():
    # tests moved into subfolders once and a script kept the old path; CI then ran nothing
    texts = [p for pattern in ("docs/*.md", "README.md", "benchmarks/*.md", "scripts/*", "pipeline/**/*.py",
                                "tests/**/*.py")
             for p in ROOT.glob(pattern) if p.is_file()]
    named = {m for p in texts for m in re.findall(r"tests/[\w/]+\.py", p.read_text(errors="ignore"))}
    assert named, "the docs name no test file: the pattern above is stale"
    assert sorted(n for n in named if not (ROOT / n).is_file()) == []


def test_the_docs_hold_no_unfilled_placeholder_and_no_paragraph_twice():
    """A figures table once stayed a bare `FIGURES_TABLE` line, and two README paragraphs were
    pasted twice, half over each other."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert not re.findall(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]+$", text, re.MULTILINE), path.name
        lines = [line.strip() for line in text.splitlines() if len(line.strip()) > 60 and not line.startswith("|")]
        repeated = {line for line in lines if lines.count(line) > 1}
        assert not repeated, (path.name, sorted(repeated)[:3])
