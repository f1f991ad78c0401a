"""The diffusers backend's settings and GPU decisions: model families and their rules at config
time, the CPU refusal, the dtype choice, out-of-memory halving, variants and VAE slicing.

No GPU is here, so GPU decisions are checked through their CPU-visible logic (torch's device
queries patched to describe a GPU machine); everything that runs a pipeline runs a tiny real
one on CPU."""

from __future__ import annotations

import json
import weakref

import pytest
import torch
from typer.testing import CliRunner

from pipeline.backends.base import GeneratedImage, ImageRequest, ItemError
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.backends.diffusers_devices import PINNED_ENV, CPURefused, resolve_devices, resolve_dtype
from pipeline.backends.diffusers_families import check_model_files
from pipeline.backends.diffusers_images import DiffusersImageGenerator
from pipeline.config import ConfigError, load_config
from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

REQUESTS = [ImageRequest(f"item-{n}", f"a quiet street corner, view {n}", 40 + n) for n in range(5)]


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd"))


def tiny_generator(model, **overrides) -> DiffusersImageGenerator:
    settings = dict(model=str(model), steps=2, width=64, height=48, batch_size=4, devices=["cpu"],
                    allow_cpu=True)
    return DiffusersImageGenerator(DiffusersConfig(**(settings | overrides)))


# --- families, defaults and rules, at config time -------------------------------------------

@pytest.mark.parametrize("model, family, steps, guidance, max_length", [
    ("stabilityai/stable-diffusion-3.5-large", "sd3", 28, 3.5, 256),
    ("stabilityai/stable-diffusion-3.5-large-turbo", "sd3", 4, 0.0, 256),
    ("stabilityai/stable-diffusion-3.5-medium", "sd3", 40, 4.5, 256),
    ("stabilityai/stable-diffusion-xl-base-1.0", "sdxl", 50, 5.0, None),
    ("black-forest-labs/FLUX.1-dev", "flux", 50, 3.5, 512),
    ("black-forest-labs/FLUX.1-schnell", "flux", 4, 0.0, 256),
])
def test_hub_ids_get_their_model_cards_defaults(model, family, steps, guidance, max_length):
    config = DiffusersConfig(model=model)
    assert (config.family, config.steps, config.guidance, config.max_sequence_length) == (
        family, steps, guidance, max_length)


def test_set_values_win_over_the_family_defaults():
    config = DiffusersConfig(model="black-forest-labs/FLUX.1-schnell", steps=6, guidance=1.0,
                             max_sequence_length=128)
    assert (config.steps, config.guidance, config.max_sequence_length) == (6, 1.0, 128)


@pytest.mark.parametrize("override, message", [
    ("images.diffusers.width=1000", "width = 1000: sd3 models need a multiple of 16"),
    ("images.diffusers.height=520", "height = 520: sd3 models need a multiple of 16"),
    ("images.diffusers.max_sequence_length=600", "less than or equal to 512"),
])
def test_sd3_rules_are_one_line_config_errors(override, message):
    with pytest.raises(ConfigError) as caught:
        load_config(None, [override])
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_flux_takes_no_negative_prompt_and_sd_no_sequence_length(tiny_sd):
    with pytest.raises(ConfigError, match="flux models take no negative prompt"):
        load_config(None, ["images.diffusers.model='black-forest-labs/FLUX.1-dev'",
                           "images.diffusers.negative_prompt='blurry'"])
    with pytest.raises(ConfigError, match="sd models have no T5 prompt encoder"):
        load_config(None, [f"images.diffusers.model='{tiny_sd}'", "images.diffusers.max_sequence_length=77"])
    assert DiffusersConfig(model=str(tiny_sd), width=1000, height=1000).family == "sd"  # 8 is SD's step


@pytest.mark.parametrize("override, message", [
    ("images.diffusers.width=100000", "images.diffusers.width: Input should be less than or equal to 4096"),
    ("images.diffusers.height=4112", "images.diffusers.height: Input should be less than or equal to 4096"),
    ("images.diffusers.devices=[]", "images.diffusers.devices: an empty list names no device: list at "
                                    'least one, e.g. ["cuda:0"], or write "auto"'),
    ("images.diffusers.devices='cuda:0'", "images.diffusers.devices: 'cuda:0' is not a list: write ['cuda:0']"),
])
def test_sizes_have_a_ceiling_and_devices_a_plain_message(override, message):
    with pytest.raises(ConfigError) as caught:
        load_config(None, [override])
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "literal" not in str(caught.value)
    assert load_config(None, ["images.diffusers.width=4096"]).images.diffusers.width == 4096


def test_a_folder_that_does_not_exist_says_so_at_config_time(tmp_path):
    with pytest.raises(ConfigError, match=f"model {tmp_path / 'nope'} does not exist"):
        load_config(None, [f"images.diffusers.model='{tmp_path / 'nope'}'"])


def test_family_is_read_from_the_folders_model_index(tiny_sd):
    config = DiffusersConfig(model=str(tiny_sd))
    assert (config.family, config.steps, config.guidance, config.max_sequence_length) == ("sd", 50, 7.5, None)
    with pytest.raises(ValueError, match="family = 'flux' but .* is a StableDiffusionPipeline"):
        DiffusersConfig(model=str(tiny_sd), family="flux")


def test_a_model_folder_under_the_home_folder_is_read_there(tiny_sd, monkeypatch):
    # "~/models/sd" is the user's home folder, as in every other path setting, not a folder named "~".
    monkeypatch.setenv("HOME", str(tiny_sd.parent))
    config = DiffusersConfig(model=f"~/{tiny_sd.name}")
    assert (config.model, config.family) == (str(tiny_sd), "sd")


def test_an_img2img_or_refiner_folder_is_refused_before_loading(tmp_path):
    for class_name in ("StableDiffusionXLImg2ImgPipeline", "StableDiffusionImg2ImgPipeline"):
        folder = tmp_path / class_name
        folder.mkdir()
        (folder / "model_index.json").write_text(json.dumps({"_class_name": class_name}))
        with pytest.raises(ConfigError, match=f"is a {class_name}, not a text-to-image pipeline"):
            load_config(None, [f"images.diffusers.model='{folder}'"])


def test_a_model_of_unknown_family_asks_for_one(tmp_path):
    with pytest.raises(ConfigError, match="cannot tell the model family .* set family"):
        load_config(None, ["images.diffusers.model='someone/some-model'"])
    assert load_config(None, ["images.diffusers.model='someone/some-model'",
                              "images.diffusers.family='sdxl'"]).images.diffusers.guidance == 5.0


# --- the model's files, before anything loads ----------------------------------------------

SD_COMPONENTS = ("scheduler", "text_encoder", "tokenizer", "unet", "vae")


# What save_pretrained writes in each folder: a model's config and weights, or another part's config.
SD_FILES = {"scheduler": ("scheduler_config.json",), "tokenizer": ("tokenizer_config.json",),
            "text_encoder": ("config.json", "model.safetensors"),
            "unet": ("config.json", "diffusion_pytorch_model.safetensors"),
            "vae": ("config.json", "diffusion_pytorch_model.safetensors")}


def fake_model(folder, components=SD_COMPONENTS, named=SD_COMPONENTS):
    """A folder shaped like a saved StableDiffusionPipeline (its weights are not read here)."""
    folder.mkdir(parents=True)
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0",
             "safety_checker": [None, None], "requires_safety_checker": False,
             **{name: ["diffusers", "SomeClass"] for name in named}}
    (folder / "model_index.json").write_text(json.dumps(index))
    for name in components:
        (folder / name).mkdir()
        for file in SD_FILES[name]:
            (folder / name / file).write_text("{}")
    return folder


def cached_hub_model(cache, repo: str, components=SD_COMPONENTS):
    """`repo` in a Hugging Face cache laid out as huggingface_hub writes it."""
    repo_folder = cache / ("models--" + repo.replace("/", "--"))
    (repo_folder / "refs").mkdir(parents=True)
    (repo_folder / "refs" / "main").write_text("0" * 40)
    return fake_model(repo_folder / "snapshots" / ("0" * 40), components=components)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_a_complete_folder_or_cached_hub_id_passes(tmp_path, hf_cache):
    check_model_files(str(fake_model(tmp_path / "model")), local_files_only=True)
    cached_hub_model(hf_cache, "someone/sd-model")
    check_model_files("someone/sd-model", local_files_only=True)


@pytest.mark.parametrize("make, message", [
    (lambda folder: None, "does not exist"),
    (lambda folder: folder.write_text("weights"), "is a file, not a diffusers model folder"),
    (lambda folder: folder.mkdir(), "has no model_index.json: not a diffusers pipeline folder"),
    (lambda folder: fake_model(folder, components=("scheduler", "text_encoder", "tokenizer", "vae")),
     "lacks the component folder(s) unet/ (missing or empty) that its model_index.json names"),
    (lambda folder: (fake_model(folder, components=()), (folder / "unet").mkdir()),
     "lacks the component folder(s) scheduler/, text_encoder/, tokenizer/, unet/, vae/"),
])
def test_a_folder_that_cannot_load_is_named_with_what_is_wrong(tmp_path, make, message):
    folder = tmp_path / "model"
    make(folder)
    with pytest.raises(ValueError) as caught:
        check_model_files(str(folder), local_files_only=True)
    assert str(caught.value).startswith(f"images.diffusers.model: {folder}")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_hub_id_must_be_in_the_local_cache_unless_a_download_is_allowed(hf_cache, monkeypatch):
    with pytest.raises(ValueError, match=r"someone/sd-model is not in the local Hugging Face cache .*"
                                         r"\(local_files_only = true\): run `hf download someone/sd-model`"):
        check_model_files("someone/sd-model", local_files_only=True)
    with pytest.raises(ValueError, match=r"not in the local Hugging Face cache .*\(HF_HUB_OFFLINE is set\)"):
        check_model_files("someone/sd-model", local_files_only=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    check_model_files("someone/sd-model", local_files_only=False)  # from_pretrained may download it
    cached_hub_model(hf_cache, "someone/sd-model", components=("scheduler", "tokenizer"))
    with pytest.raises(ValueError, match=r"\(in the local Hugging Face cache, .*\) lacks the component "
                                         r"folder\(s\) text_encoder/, unet/, vae/"):
        check_model_files("someone/sd-model", local_files_only=True)


def test_loading_an_uncached_hub_id_says_so_not_folder_without_model_index(hf_cache):
    generator = DiffusersImageGenerator(DiffusersConfig(model="someone/sd-model", family="sd",
                                                        devices=["cpu"], allow_cpu=True))
    with pytest.raises(ValueError, match="someone/sd-model is not in the local Hugging Face cache"):
        generator.pipelines


def test_an_uncached_hub_id_loads_where_downloads_are_allowed(hf_cache, tmp_path, monkeypatch):
    """local_files_only = false with HF_HUB_OFFLINE=0 fetches model_index.json, then the pipeline
    (before, the missing model_index.json was taken for a wrong pipeline class)."""
    import diffusers
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    downloaded = fake_model(tmp_path / "downloaded") / "model_index.json"
    fetched, loaded = [], []

    class Loaded:
        def to(self, device):
            loaded.append(device)

        def set_progress_bar_config(self, **settings):
            pass

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name: fetched.append((repo, name))
                        or str(downloaded))
    monkeypatch.setattr(diffusers.StableDiffusionPipeline, "from_pretrained",
                        classmethod(lambda cls, model, **options: loaded.append((model, options["local_files_only"]))
                                    or Loaded()))
    generator = DiffusersImageGenerator(DiffusersConfig(model="someone/sd-model", family="sd", devices=["cpu"],
                                                        allow_cpu=True, local_files_only=False))
    assert len(generator.pipelines) == 1
    assert fetched == [("someone/sd-model", "model_index.json")]
    assert loaded == [("someone/sd-model", False), "cpu"]


# --- devices and dtype ------------------------------------------------------------------------

def gpu_machine(monkeypatch, count: int, capability=(9, 0)):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # as on a V100


def test_no_gpu_means_a_refusal_unless_cpu_is_allowed(monkeypatch):
    gpu_machine(monkeypatch, 0)
    with pytest.raises(CPURefused, match="allow_cpu = true"):
        resolve_devices("auto")
    with pytest.raises(CPURefused):
        resolve_devices(["cpu"])
    assert resolve_devices("auto", allow_cpu=True) == ["cpu"]


@pytest.mark.parametrize("gpus, devices, message", [
    (0, ["cuda:0"], "names 'cuda:0', but this machine has no CUDA device"),
    (0, ["cpu", "cuda"], "names 'cuda', but this machine has no CUDA device"),
    (2, ["cuda:0", "cuda:2"], "names 'cuda:2', but this machine has 2 CUDA device(s): cuda:0 to cuda:1"),
    (2, ["gpu0"], "'gpu0' is not a device torch knows"),
    (2, ["cuda:x"], "'cuda:x' is not a device torch knows"),
    (2, ["mps"], "'mps' is a mps device; leakless runs diffusers on CUDA GPUs"),
])
def test_each_listed_device_must_parse_and_exist_on_this_machine(monkeypatch, gpus, devices, message):
    gpu_machine(monkeypatch, gpus)
    with pytest.raises(ValueError) as caught:
        resolve_devices(devices, allow_cpu=True)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not isinstance(caught.value, CPURefused)


def test_devices_this_machine_has_pass(monkeypatch):
    gpu_machine(monkeypatch, 2)
    assert resolve_devices(["cuda:1", "cuda"]) == ["cuda:1", "cuda"]
    assert resolve_devices(["cpu"], allow_cpu=True) == ["cpu"]


def test_every_visible_gpu_gets_a_worker_and_a_pinned_worker_only_its_own(monkeypatch):
    gpu_machine(monkeypatch, 4)
    assert resolve_devices("auto") == ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]
    assert resolve_devices(["cuda:1", "cuda:3"]) == ["cuda:1", "cuda:3"]
    gpu_machine(monkeypatch, 1)  # a runner's worker sees its one GPU as cuda:0
    monkeypatch.setenv(PINNED_ENV, "1")
    assert resolve_devices("auto") == resolve_devices(["cuda:1", "cuda:3"]) == ["cuda:0"]


@pytest.mark.parametrize("capability, expected", [((7, 0), torch.float16), ((7, 5), torch.float16),
                                                  ((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16)])
def test_bf16_only_where_the_gpu_has_it_natively(monkeypatch, capability, expected):
    gpu_machine(monkeypatch, 1, capability)  # is_bf16_supported() says True on all of them
    assert resolve_dtype("auto", "cuda:0") is expected
    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("float16", "cpu") is torch.float16


def test_the_cli_refuses_diffusers_on_cpu_in_one_line(tiny_sd, tmp_path, monkeypatch):
    from pipeline.cli.app import app

    monkeypatch.chdir(tmp_path)
    common = ["build", "--size", "1", "--set", "run.categories=['Privacy']", "--set", "backends.images='diffusers'",
              "--set", f"images.diffusers.model='{tiny_sd}'", "--set", "images.diffusers.width=64",
              "--set", "images.diffusers.height=64"]
    result = CliRunner().invoke(app, common + ["--set", "images.diffusers.devices=['cpu']"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: images.diffusers would run on the CPU")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "artifacts" / "runs").exists()  # refused before anything was written


# --- out of GPU memory ----------------------------------------------------------------------

class OutOfMemoryAbove:
    """A real pipeline behind a GPU-memory limit: a call with more than `fits` prompts, or any
    prompt naming 'enormous', raises torch's OutOfMemoryError as CUDA would."""

    def __init__(self, pipe, fits: int):
        self.pipe, self.fits, self.calls = pipe, fits, []

    def __call__(self, prompt, **arguments):
        self.calls.append(len(prompt))
        if len(prompt) > self.fits or any("enormous" in text for text in prompt):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.pipe(prompt=prompt, **arguments)


def test_out_of_memory_halves_the_batch_and_fails_only_what_never_fits(tiny_sd, monkeypatch):
    emptied = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(1))
    plain = tiny_generator(tiny_sd, batch_size=1).generate(REQUESTS)
    generator = tiny_generator(tiny_sd)
    limited = OutOfMemoryAbove(generator.pipelines[0], fits=1)
    generator._pipelines = [limited]
    requests = REQUESTS[:3] + [ImageRequest("big", "an enormous hall", 7)] + REQUESTS[3:]
    results = generator.generate(requests)
    # batches [0 1 2 big] [3 4]: each halves down to ones; only "big" fails alone
    assert limited.calls == [4, 2, 1, 1, 2, 1, 1, 2, 1, 1]
    assert [r.png for r in results if isinstance(r, GeneratedImage)] == [r.png for r in plain]
    assert isinstance(results[3], ItemError)
    assert results[3].error.startswith("out of GPU memory even for a batch of one: CUDA out of memory")
    assert len(emptied) == 5  # after every failed call


class AllocatesThenRunsOutOfMemory:
    """A pipeline whose batches of more than one hold activations (a tensor in a frame a few calls
    deep, as a UNet's forward would) when CUDA runs out of memory."""

    def __init__(self, pipe):
        self.pipe, self.failed_calls, self.alive_at_retry, self.alive_at_empty_cache = pipe, [], [], []

    def __call__(self, prompt, **arguments):
        self.alive_at_retry.append(self.alive())
        if len(prompt) > 1:
            self._forward(len(prompt))
        return self.pipe(prompt=prompt, **arguments)

    def _forward(self, size: int):
        activations = torch.empty(size, 1_000_000)  # 4 MB a prompt
        self.failed_calls.append(weakref.ref(activations))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def alive(self) -> int:
        return sum(ref() is not None for ref in self.failed_calls)


def test_a_failed_calls_memory_is_freed_before_the_cache_is_emptied_and_the_halves_run(tiny_sd, monkeypatch):
    # Retrying inside the except block keeps the exception's traceback, and with it the failed
    # call's frames and tensors, alive: empty_cache() could not hand their memory back.
    generator = tiny_generator(tiny_sd, batch_size=4)
    fake = AllocatesThenRunsOutOfMemory(generator.pipelines[0])
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: fake.alive_at_empty_cache.append(fake.alive()))
    generator._pipelines = [fake]
    results = generator.generate(REQUESTS[:4])
    assert all(isinstance(result, GeneratedImage) for result in results)
    assert len(fake.failed_calls) == 3  # the batch of 4, then each half of 2
    assert fake.alive_at_empty_cache == [0, 0, 0]
    assert fake.alive_at_retry == [0, 0, 0, 0, 0, 0, 0]


# --- loading options ---------------------------------------------------------------------------

def test_a_variant_only_folder_loads_with_its_variant(tiny_sd, tmp_path):
    import diffusers

    variant_only = tmp_path / "fp16-only"
    diffusers.StableDiffusionPipeline.from_pretrained(tiny_sd).save_pretrained(variant_only, variant="fp16")
    assert list(variant_only.glob("unet/*.fp16.safetensors"))
    assert not list(variant_only.glob("unet/diffusion_pytorch_model.safetensors"))
    with_variant = tiny_generator(variant_only, variant="fp16").generate(REQUESTS[:2])
    assert [r.png for r in with_variant] == [r.png for r in tiny_generator(tiny_sd).generate(REQUESTS[:2])]


def test_vae_slicing_and_negative_prompt_reach_the_pipeline(tiny_sd):
    sliced = tiny_generator(tiny_sd, vae_slicing=True)
    assert sliced.pipelines[0].vae.use_slicing
    assert not tiny_generator(tiny_sd).pipelines[0].vae.use_slicing
    negative = tiny_generator(tiny_sd, negative_prompt="blurry, low quality", guidance=5.0)
    plain = tiny_generator(tiny_sd, guidance=5.0)
    with_negative, without = negative.generate(REQUESTS[:1]), plain.generate(REQUESTS[:1])
    assert with_negative[0].png != without[0].png
    assert with_negative[0].meta["negative_prompt"] == "blurry, low quality"
    assert with_negative[0].meta["family"] == "sd"


def test_accelerate_is_installed_so_loading_is_low_memory_and_offload_works():
    from diffusers.utils import is_accelerate_available

    assert is_accelerate_available()  # without it diffusers loads at twice the CPU memory
