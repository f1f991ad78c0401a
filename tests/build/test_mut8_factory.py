"""mut8: `leakless release` with an LLM pair checker checks that role's model before the release is made."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.factory import pair_checker_llm_roles


def test_an_llm_pair_checker_is_a_role_the_release_checks():
    assert pair_checker_llm_roles(load_config(None, ["backends.pair_checker='llm'"])) == ["pair_checker"]
    assert pair_checker_llm_roles(load_config(None, [])) == []
