"""Settings for the OpenAI-compatible backend: the `[llm]` section of the build config.

Endpoints are named servers (OpenAI, vLLM, Ollama, ...); each role picks an
endpoint and a model. The API key is never in the config, only the name of the
environment variable that holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from pipeline.env import artifacts_dir
from pipeline.llm.roles import RoleName
from pipeline.settings import FrozenSettings, PathText


DEFAULT_TIMEOUT_S = 120.0
# how long the loopback server's "timeout" fault holds a request (`leakless fake-llm --hang-s`): past
# the default timeout, or the client would get its answer and the fault would be no timeout at all
FAKE_HANG_S = DEFAULT_TIMEOUT_S + 30.0

def server_default(value: object) -> object:
    """`temperature = "default"` (TOML has no null): the request leaves it out."""
    return None if value == "default" else value


# None: not sent, the server's default applies (OpenAI's reasoning models take no other than 1)
Temperature = Annotated[Annotated[float, Field(ge=0, le=2)] | None, BeforeValidator(server_default)]


class EndpointConfig(FrozenSettings):
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    max_in_flight: int = Field(default=64, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)  # first retry delay when no retry-after; doubles
    # false for servers without JSON-schema response_format: the schema then goes in the prompt
    structured_outputs: bool = True
    # false for a text-only model: images are left out of requests (llama.cpp's chatml
    # template would silently drop a message with an image part, text included), and an
    # item only the image can answer (image_refiner) fails with that reason
    vision: bool = True
    # OpenAI's reasoning models (o1, o3, o4-mini, gpt-5) refuse `max_tokens` (HTTP 400) and
    # take the same limit as `max_completion_tokens`
    token_limit: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL (for example http://127.0.0.1:8000/v1)")
        if parts.query:  # requests go to base_url + "/chat/completions": a query would end up mid-path
            raise ValueError(f"{value!r} has a query string, which no request can carry; for Azure OpenAI "
                             "use its v1 endpoint, https://RESOURCE.openai.azure.com/openai/v1")
        return value


class RoleConfig(FrozenSettings):
    endpoint: str = "default"
    model: str = "gpt-4o"
    temperature: Temperature = 0.0
    max_tokens: int = Field(default=1024, ge=1)
    fallback_models: list[str] = []  # tried in order when the model refuses or fails an item

    def sampling(self, token_limit: str) -> dict:
        """The request's sampling fields, under the names the endpoint takes."""
        return sampling(self.temperature, token_limit, self.max_tokens)


def sampling(temperature: float | None, token_limit: str, max_tokens: int) -> dict:
    return {**({} if temperature is None else {"temperature": temperature}), token_limit: max_tokens}


class LLMSettings(FrozenSettings):
    endpoints: dict[str, EndpointConfig] = {"default": EndpointConfig()}
    roles: dict[RoleName, RoleConfig] = {}  # a role left out uses RoleConfig()'s defaults
    cache: bool = True
    cache_path: PathText | None = None  # default: <artifacts>/cache/llm.sqlite
    # also cache the model's own bad answers (invalid after repair, cut off, refused) at
    # temperature 0, where asking again gets the same answer: a rerun against a deterministic
    # local model then sends nothing. Transport failures are never cached.
    cache_failures: bool = False
    # run the batch client in a child process of its own (`pipeline.llm.process`): its event
    # loop then never waits for the GIL behind the build's stages
    client_process: bool = True

    @model_validator(mode="after")
    def _roles_name_known_endpoints(self) -> LLMSettings:
        for name, role in self.roles.items():
            if role.endpoint not in self.endpoints:
                raise ValueError(f"role {name!r} uses endpoint {role.endpoint!r}, which is not "
                                 f"in [llm.endpoints] ({', '.join(self.endpoints)})")
        if "default" not in self.endpoints and len(self.roles) < len(RoleName.__args__):
            raise ValueError("define [llm.endpoints.default] or give every role an endpoint")
        return self

    def role(self, name: str) -> RoleConfig:
        return self.roles.get(name, RoleConfig())

    def endpoint_of(self, role: str) -> tuple[str, EndpointConfig]:
        name = self.role(role).endpoint
        return name, self.endpoints[name]

    def resolved_cache_path(self) -> Path:
        return self.cache_path or artifacts_dir() / "cache" / "llm.sqlite"
