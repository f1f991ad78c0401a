"""docs/images.md's config per model: each one validates and resolves to what it says, and one
per family runs through the real call path with the model swapped for the family's tiny one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.diffusers_images import DiffusersImageGenerator
from pipeline.config import BuildConfig, apply_override, load_config, validated

DOC = Path(__file__).resolve().parents[2] / "docs" / "images.md"
MODELS = ["stabilityai/stable-diffusion-3.5-large", "stabilityai/stable-diffusion-3.5-large-turbo",
          "stabilityai/stable-diffusion-3.5-medium", "stabilityai/stable-diffusion-xl-base-1.0",
          "black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.1-schnell"]


def doc_configs() -> dict[str, tuple[str, str]]:
    """model -> (declared family, the TOML block), for every block that starts `# family: ...`."""
    blocks = re.findall(r"```toml\n# family: (\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    configs = {}
    for family, text in blocks:
        model = re.search(r'^model = "(.+)"$', text, re.M).group(1)
        configs[model] = (family, text)
    return configs


def test_the_doc_has_a_config_for_every_model_family():
    assert sorted(doc_configs()) == sorted(MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_each_doc_config_validates_and_resolves_to_its_family(model, tmp_path):
    family, text = doc_configs()[model]
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_config(path).images.diffusers
    assert settings.family == family
    written = dict(re.findall(r"^(\w+) = (.+)$", text, re.M))
    assert settings.steps == int(written["steps"]) and settings.guidance == float(written["guidance"])
    if family in ("sd3", "flux"):
        assert settings.max_sequence_length == int(written["max_sequence_length"])
    assert settings.width % settings.family_spec.size_multiple == 0


@pytest.mark.slow
@pytest.mark.parametrize("model", ["stabilityai/stable-diffusion-3.5-large", "stabilityai/stable-diffusion-xl-base-1.0",
                                   "black-forest-labs/FLUX.1-schnell"])
def test_doc_configs_run_on_their_familys_tiny_model(model, tmp_path):
    from pipeline.testing import tiny_diffusers

    family, text = doc_configs()[model]
    tiny = getattr(tiny_diffusers, f"build_tiny_{family}_pipeline")(tmp_path / family)
    data = tomllib.loads(text)
    for cpu_unfit in ("variant", "dtype"):  # the tiny folder has no fp16 files; fp16 on CPU is not run
        data["images"]["diffusers"].pop(cpu_unfit, None)
    for override in (f"images.diffusers.model='{tiny}'", "images.diffusers.width=64", "images.diffusers.height=32",
                     "images.diffusers.steps=2", "images.diffusers.batch_size=2",
                     "images.diffusers.devices=['cpu']", "images.diffusers.allow_cpu=true"):
        apply_override(data, override)
    settings = validated(BuildConfig, data).images.diffusers
    results = DiffusersImageGenerator(settings).generate([ImageRequest("a", "a red door", 1),
                                                         ImageRequest("b", "a kitchen", 2)])
    assert all(isinstance(result, GeneratedImage) for result in results)
    assert results[0].meta["family"] == family
