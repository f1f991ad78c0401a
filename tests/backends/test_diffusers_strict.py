"""[images.diffusers] takes values as written, as the rest of the config does: `steps = true` was
one denoising step, "0.9" a guidance and 1 a `cpu_offload`; now each is one line and exit 2 naming
the key. An integer still fills a number."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError, load_config

SD3 = "stabilityai/stable-diffusion-3.5-large"  # a known hub id: its family needs no download


@pytest.mark.parametrize("key, value, problem", [
    ("steps", "true", "Input should be a valid integer"),
    ("steps", "'5'", "Input should be a valid integer"),
    ("steps", "2.0", "Input should be a valid integer"),
    ("guidance", "true", "Input should be a valid number"),
    ("guidance", "'3.5'", "Input should be a valid number"),
    ("guidance", "inf", "Input should be a finite number"),
    ("width", "1024.0", "Input should be a valid integer"),
    ("batch_size", "true", "Input should be a valid integer"),
    ("max_sequence_length", "true", "Input should be a valid integer"),
    ("cpu_offload", "1", "Input should be a valid boolean"),
    ("allow_cpu", "'yes'", "Input should be a valid boolean"),
    ("local_files_only", "0", "Input should be a valid boolean"),
    ("model", "1", "Input should be a valid string"),
    ("negative_prompt", "1", "Input should be a valid string"),
    ("devices", "[0]", "0 is not a device name: write names as text"),
    ("devices", "true", "True is not a list of devices"),
])
def test_a_value_of_another_type_is_refused_by_name(key, value, problem):
    with pytest.raises(ConfigError) as refused:
        load_config(None, [f"images.diffusers.{key}={value}"])
    assert str(refused.value).startswith(f"override images.diffusers.{key}: {problem}"), refused.value


def test_an_integer_fills_the_guidance_and_a_list_of_names_the_devices():
    config = load_config(None, ["images.diffusers.guidance=4", "images.diffusers.devices=['cuda:1']"]).images.diffusers
    assert config.guidance == 4.0 and isinstance(config.guidance, float) and config.devices == ["cuda:1"]


def test_the_settings_made_in_python_are_as_strict():
    with pytest.raises(ValidationError, match="steps"):
        DiffusersConfig(model=SD3, steps=True)
    assert DiffusersConfig(model=SD3, steps=4).steps == 4


def test_a_wrong_type_in_a_build_config_file_is_one_line_naming_the_key(tmp_path):
    config = tmp_path / "diffusers.toml"
    config.write_text(f'[backends]\nimages = "diffusers"\n\n[images.diffusers]\nmodel = "{SD3}"\nsteps = true\n',
                      encoding="utf-8")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["build", "--config", str(config), "--size", "1", "--no-progress",
                                      "--set", f"run.runs_dir='{runs}'"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, result.output
    assert f"{config}: images.diffusers.steps: Input should be a valid integer" in " ".join(result.output.split())
    assert not runs.exists()
