"""A base_url the requests cannot be sent under is a config error that says what to use instead."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.llm.config import EndpointConfig


def test_a_base_url_with_a_query_string_is_a_config_error_naming_azures_v1_endpoint():
    with pytest.raises(ValidationError, match="query string.*https://RESOURCE.openai.azure.com/openai/v1"):
        EndpointConfig(base_url="https://r.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21")
