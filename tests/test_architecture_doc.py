"""The contributor docs name what the code runs: architecture.md's stage table, the README's stage
list and pipeline/factory.py's docstring are STAGE_ORDER, every reason code is on the page, and the
README's config block has a section for every config section."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config import BuildConfig
from pipeline.contracts import ReasonCode
from pipeline import factory
from pipeline.factory import STAGE_ORDER

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def stage_table_rows(markdown: str) -> list[str]:
    """The stage names of the table headed `| # | stage (`StageName`) |`, in row order."""
    table = markdown.split("| # | stage (`StageName`) |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| \d+ \| `([a-z_]+)` \|", table, flags=re.MULTILINE)


def readme_config_sections(markdown: str) -> set[str]:
    """The top-level sections of the README's example config, commented-out ones included."""
    block = markdown.split("Config is a TOML file", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    return {name.split(".")[0] for name in re.findall(r"^(?:# )?\[([a-z_.]+)\]", block, flags=re.MULTILINE)}


def test_the_stage_table_is_stage_order():
    assert stage_table_rows(ARCHITECTURE) == [stage.value for stage in STAGE_ORDER]


def arrow_list(text: str, arrow: str) -> list[str]:
    """The first word of each step of `a → b (a note) → c`."""
    return [step.split()[0] for step in text.split(arrow)]


def test_the_readme_stage_list_is_stage_order():
    steps = README.split("The stages, in order: ", 1)[1].split(". ", 1)[0]
    assert arrow_list(steps, "→") == [stage.value for stage in STAGE_ORDER], "README.md's 'The stages, in order'"


def test_the_factory_docstring_lists_stage_order():
    steps = re.search(r"^drafts ->.*$", factory.__doc__, flags=re.MULTILINE).group()
    assert arrow_list(steps, "->") == [stage.value for stage in STAGE_ORDER], "pipeline/factory.py's docstring"


def test_every_reason_code_is_named_in_architecture_md():
    missing = [code.value for code in ReasonCode if f"`{code.value}`" not in ARCHITECTURE]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_the_readme_config_block_has_every_config_section():
    missing = set(BuildConfig.model_fields) - readme_config_sections(README)
    assert not missing, f"README.md's config block lacks {sorted(missing)}"

