"""The models file (`--models models.toml`): the models under test and the judge.

Each entry is an endpoint in the shape of the build's `[llm.endpoints.*]` (base URL,
API-key variable, in-flight, rate limits, timeout, retries) plus the model id and its
sampling settings. The API key itself is never in the file.

    [judge]
    base_url = "https://api.openai.com/v1"
    model = "gpt-4o"

    [[models]]
    name = "qwen2-vl-7b"
    base_url = "http://127.0.0.1:8000/v1"
    model = "Qwen/Qwen2-VL-7B-Instruct"
    api_key_env = "VLLM_API_KEY"
    max_in_flight = 32
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from pipeline.config import read_toml, validated
from pipeline.llm.config import EndpointConfig, LLMSettings, RoleConfig, Temperature
from pipeline.settings import FrozenSettings, PathText
from pipeline.release.versions import NAME

ANSWERER, JUDGE = "answerer", "safety_judge"


class ModelEndpoint(EndpointConfig):
    model: str
    temperature: Temperature = 0.0  # "default": left out of the request (OpenAI's reasoning models)
    max_tokens: int = Field(default=1024, ge=1)  # sent under the endpoint's token_limit name

    def llm_settings(self, role: str) -> LLMSettings:
        """This endpoint as the build's LLM settings, with `role` answered by this model
        (the caller hands the client its cache, shared by every model of a run)."""
        endpoint = {name: getattr(self, name) for name in EndpointConfig.model_fields}
        return LLMSettings(endpoints={"default": EndpointConfig(**endpoint)},
                           roles={role: RoleConfig(model=self.model, temperature=self.temperature,
                                                   max_tokens=self.max_tokens)}, cache=False)


class ModelEntry(ModelEndpoint):
    name: str  # names the output file: evaluations/<release>/<name>.parquet

    @field_validator("name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError(f"bad model name {value!r}: use letters, digits, '.', '_', '-'")
        return value


class EvaluationConfig(FrozenSettings):
    models: list[ModelEntry] = Field(min_length=1)
    judge: ModelEndpoint
    cache: bool = True
    cache_path: PathText | None = None  # default: the build's LLM cache, <artifacts>/cache/llm.sqlite
    batch_size: int = Field(default=512, ge=1)  # pairs per checkpoint of the output file

    @field_validator("models")
    @classmethod
    def _unique_names(cls, value: list[ModelEntry]) -> list[ModelEntry]:
        names = [entry.name for entry in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"model names must be unique; repeated: {', '.join(repeated)}")
        return value

    def resolved_cache_path(self) -> Path | None:
        if not self.cache:
            return None
        return self.cache_path or LLMSettings().resolved_cache_path()

    def model(self, name: str) -> ModelEntry:
        for entry in self.models:
            if entry.name == name:
                return entry
        raise ValueError(f"no model {name!r} in the models file ({', '.join(e.name for e in self.models)})")


def load_models(path: Path) -> EvaluationConfig:
    """The models file, or a ConfigError naming the file and the first problem."""
    return validated(EvaluationConfig, read_toml(path, "models file"), path)
