from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import ConfigError, load_config

runner = CliRunner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_offline():
    config = load_config()
    assert (config.backends.seed_writer, config.backends.rewriter, config.backends.images) == \
        ("templates", "rules", "placeholder")
    assert config.run.batch_size >= 64


def test_file_and_overrides(tmp_path):
    path = write(tmp_path, '[run]\nsize = 2\ncategories = ["Violent"]\n')
    config = load_config(path, ["run.size=5", "leak_filter.threshold=0.4", "rewrite.max_attempts=2"])
    assert config.run.size == 5 and config.run.categories == ["Violent"]
    assert config.leak_filter.threshold == 0.4 and config.rewrite.max_attempts == 2


@pytest.mark.parametrize("text, expected", [
    ("[run]\nsiez = 2\n", "run.siez: unknown key"),
    ("[nope]\na = 1\n", "nope: unknown key"),
    ('[run]\nsize = "many"\n', "run.size"),
    ('[run]\ncategories = ["Violent", "Gardening"]\n', "unknown category 'Gardening'"),
    ('[run]\nsub_categories = ["Knitting"]\n', "unknown sub-category 'Knitting'"),
    # the 19 names are nowhere in sight: what was likely meant is said
    ('[run]\nsub_categories = ["cybercrim"]\n', "unknown sub-category 'cybercrim' (did you mean 'Cybercrime'?)"),
    ('[run]\nsub_categories = ["Self-Harm"]\n', "unknown sub-category 'Self-Harm' (it is a category; its "
                                                 "sub-categories are 'Risky or Dangerous Behaviors', "
                                                 "'Physical Self-Injury'"),
    ('[run]\nelements_file = "/no/such/file.jsonl"\n', "file not found"),
    ("[run\nsize = 2\n", "not valid TOML"),
    ("[run]\nbatch_size = 8\n", "run.batch_size"),
])
def test_bad_config_is_one_line(tmp_path, text, expected):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file():
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(Path("/no/such/config.toml"))


@pytest.mark.parametrize("args, expected", [
    (["build", "--config", "/no/such.toml"], "config file not found"),
    (["build", "--set", "run.colour=blue"], "run.colour: unknown key"),
    (["build", "--set", "run.categories=['Gardening']"], "unknown category"),
    (["build", "--size", "0"], "run.size"),
    (["build", "--set", "novalue"], "expected section.key=value"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, args, expected):
    result = runner.invoke(app, args + ["--set", f"run.runs_dir={tmp_path}/runs"])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing half-written


def test_a_size_beyond_the_library_is_named_not_silently_capped():
    from pipeline.elements import known_library
    from pipeline.plan import choose_elements

    has = sum(element.sub_category == "Cybercrime" for element in known_library(load_config()).elements)
    config = load_config(None, [f"run.size={has + 5}", "run.sub_categories=['Cybercrime', 'Property Crimes']"])
    assert choose_elements(config).shortfalls(config)["Cybercrime"] == has
    fits = load_config(None, [f"run.size={has}", "run.sub_categories=['Cybercrime']"])
    assert choose_elements(fits).shortfalls(fits) == {}


def test_an_element_held_twice_makes_one_seed():
    """Two grows at once once wrote the same elements to two store versions; each built twice."""
    from pipeline.plan import plan_seeds
    from pipeline.taxonomy import load_elements

    config = load_config(None, ["run.size=30", "run.sub_categories=['Cybercrime']"])
    library = [element for element in load_elements() if element.sub_category == "Cybercrime"]
    seeds = plan_seeds(config, library + library[:3])
    assert len(seeds) == len(library) == len({seed.id for seed in seeds})
