"""The contributor recipes name real places: docs/architecture.md's backend table has a row for every
`[backends]` key, naming the factory function that makes it, and docs/llm.md's provider-quirk note
names the functions that build an LLM request's headers."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pipeline import factory
from pipeline.cli import preflight
from pipeline.config import BackendsConfig
from pipeline.llm import client, transport

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LLM_DOC = (ROOT / "docs" / "llm.md").read_text(encoding="utf-8")


def backend_table() -> dict[str, str]:
    """`[backends]` key -> the first function its row names, from the table headed `| `[backends]` key |`."""
    table = ARCHITECTURE.split("| `[backends]` key |", 1)[1].split("\n\n", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| `(make_[a-z_]+)`", table, flags=re.MULTILINE))


def test_the_backend_table_has_every_role_and_its_factory_function():
    table = backend_table()
    assert set(table) == set(BackendsConfig.model_fields), "docs/architecture.md's backend table"
    missing = [name for name in table.values() if not callable(getattr(factory, name, None))]
    assert not missing, f"docs/architecture.md names {missing}, which pipeline/factory.py lacks"


def test_the_provider_quirk_note_names_where_headers_are_built():
    note = LLM_DOC.split("## Adding a provider quirk", 1)[1].split("\n## ", 1)[0]
    places = [(transport.ChatTransport.__init__, "`ChatTransport`", "pipeline/llm/transport.py"),
              (client.LLMClient._transport, "`LLMClient._transport`", "pipeline/llm/client.py"),
              (preflight.ask, "`ask`", "pipeline/cli/preflight.py")]
    for function, name, path in places:
        assert name in note and path in note, f"docs/llm.md's provider-quirk note lacks {name} ({path})"
        source = inspect.getsource(function)
        assert "Authorization" in source or "ChatTransport(" in source, f"{name} builds no headers now"
