"""The OpenAI-compatible LLM backend: config, roles, batch client, cache, limits, accounting.

Build one `LLMClient.from_settings(settings)` per process and pass it to the
backends in `pipeline.backends.llm_text`.
"""

from pipeline.llm.client import Answer, LLMClient, LLMConfigError
from pipeline.llm.config import EndpointConfig, LLMSettings, RoleConfig

__all__ = ["Answer", "EndpointConfig", "LLMClient", "LLMConfigError", "LLMSettings", "RoleConfig"]
