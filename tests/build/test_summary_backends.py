"""A build's summary names each role's backend and the prompt files it read: an edited `prompts/*.j2`
that an offline backend does not read had no effect, and only the records said so."""

from __future__ import annotations

import pytest

from pipeline.build import backends_line, build_without_orchestration
from pipeline.config import load_config


def test_an_offline_build_says_its_backends_and_that_it_read_no_llm_prompt():
    line = backends_line(load_config(None, []))
    assert line.startswith("Backends: seed_writer `templates`, rewriter `rules`, harm_check `rules`, ")
    assert "pair_checker" not in line and "element_writer" not in line  # not the build's roles
    assert line.endswith("Prompt files read: `prompts/offline/seed_queries.toml`, `prompts/offline/references.toml` "
                         "(no `prompts/*.j2`: no role used a language model).")


def test_an_llm_rewriter_names_the_prompt_it_read_and_only_that_one():
    line = backends_line(load_config(None, ["backends.rewriter='llm'"]))
    assert "rewriter `llm`" in line and "`prompts/leak_rewriter.j2`" in line
    assert "harm_filter.j2" not in line and "no `prompts/*.j2`" not in line


@pytest.mark.slow
def test_the_summary_of_an_offline_build_carries_the_line(tmp_path):
    config = load_config(None, ["run.size=1", "run.sub_categories=['Cybercrime']", f"run.runs_dir='{tmp_path}'"])
    build_without_orchestration(config, "offline")
    summary = (tmp_path / "offline" / "summary.md").read_text(encoding="utf-8").splitlines()
    assert backends_line(config) in summary
