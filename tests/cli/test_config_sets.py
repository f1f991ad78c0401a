"""`--set` values as a researcher types them: a bare None unsets a key as null does (a store folder or an
answer cache named "None" was made), a table value changes only the keys it names, and an error a
`--set` caused names that `--set`."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.cli.preflight import check_runner_reachable
from pipeline.config import ConfigError, load_config
from pipeline.elements.store import ElementStore


@pytest.mark.parametrize("word", ["None", "none", "Null", "NULL", "null"])
def test_a_bare_none_unsets_an_optional_key(word):
    config = load_config(None, [f"elements.store={word}", f"runner.address={word}", f"llm.cache_path={word}",
                                f"images.diffusers.negative_prompt={word}"])
    assert config.elements.store is None
    assert config.runner.address is None
    assert config.llm.cache_path is None
    assert config.images.diffusers.negative_prompt is None


def test_none_stays_a_choice_where_a_key_offers_it_and_quoted_it_stays_text():
    config = load_config(None, ["backends.image_refiner=none", "images.diffusers.negative_prompt='None'"])
    assert config.backends.image_refiner == "none"
    assert config.images.diffusers.negative_prompt == "None"


def test_a_table_value_sets_its_keys_and_keeps_the_others(tmp_path):
    file = tmp_path / "build.toml"
    file.write_text('[run]\nsize = 2\nbatch_size = 64\nsub_categories = ["Cybercrime"]\n', encoding="utf-8")
    config = load_config(file, ["run.queries_per_seed=2", "run={size=1}", "images={diffusers={steps=3}}"])
    assert (config.run.size, config.run.batch_size, config.run.sub_categories) == (1, 64, ["Cybercrime"])
    assert config.run.queries_per_seed == 2
    assert config.images.diffusers.steps == 3


@pytest.mark.parametrize("store, problem", [('""', "empty: name a folder, or null"), ("afile", "is a file, not a folder")])
def test_an_empty_store_path_or_a_file_is_refused_by_name(tmp_path, monkeypatch, store, problem):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("keep\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["elements", "stats", "--set", f"elements.store={store}"])
    assert result.exit_code == 2
    assert "error: override elements.store: " in result.output and problem in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["afile"]  # no .lock, no versions


def test_a_store_that_is_a_file_is_not_read_as_empty(tmp_path):
    (tmp_path / "grown.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="grown.jsonl is not a folder"):
        ElementStore(tmp_path / "grown.jsonl").versions()


@pytest.mark.parametrize("overrides, blamed", [
    (["images.pool.image_first=true"], "override images.pool.image_first: images.pool.folder: Field required"),
    (["images.width=300", "images.pool.image_first=true"], "override images.pool.image_first: images.pool.folder"),
    (["llm.roles.seedwriter.model=x"], "override llm.roles.seedwriter.model: llm.roles.seedwriter."),
])
def test_an_error_in_a_section_a_set_made_names_that_set(tmp_path, overrides, blamed):
    file = tmp_path / "s.toml"
    file.write_text("[run]\nsize = 1\n", encoding="utf-8")
    for path in (file, None):
        with pytest.raises(ConfigError) as error:
            load_config(path, overrides)
        assert str(error.value).startswith(blamed)


def test_a_key_the_file_leaves_out_of_its_own_section_is_still_the_files(tmp_path):
    file = tmp_path / "s.toml"
    file.write_text("[images.pool]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^.*s\.toml: images\.pool\.folder: Field required"):
        load_config(file, ["images.pool.image_first=true"])


@pytest.mark.parametrize("address", ["scheduler", "host:abc", "tcp://h:8786/x", "auto"])
def test_a_dask_address_that_is_no_host_and_port_is_refused_by_name(address):
    with pytest.raises(ConfigError, match=f"override runner.address: '{address}' is no"):
        load_config(None, ["runner.kind=dask", f"runner.address={address}"])


def test_ray_finds_its_own_cluster_with_auto():
    assert load_config(None, ["runner.kind=ray", "runner.address=auto"]).runner.address == "auto"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once it is closed


def test_an_unreachable_cluster_is_refused_before_the_run_folder_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["build", "--no-progress", "--size", "1", "--run-id", "r",
                                      "--set", 'run.sub_categories=["Cybercrime"]', "--set", "run.runs_dir='runs'",
                                      "--set", "runner.kind=dask",
                                      "--set", f"runner.address=tcp://127.0.0.1:{closed_port()}"])
    assert result.exit_code == 2, result.output
    assert "error: runner.address 'tcp://127.0.0.1:" in result.output and "cannot be reached" in result.output
    assert not (tmp_path / "runs" / "r").exists()


def test_a_cluster_that_answers_passes():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        check_runner_reachable(load_config(None, ["runner.kind=dask", f"runner.address=127.0.0.1:{port}"]))
