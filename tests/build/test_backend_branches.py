"""Each `[backends]` role is built in one `make_*` function of pipeline/factory.py (docs/architecture.md,
"Adding a backend"). A value the config accepts but no branch builds, a backend added half-way, stops
with `NoBackendBranch` naming the role and the function, instead of running another backend in
silence; the release and the element writer's callers ask the factory, not the config value."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import BackendsConfig, BuildConfig, load_config
from pipeline.extend import Targets, plan_extension
from pipeline.extend_inventory import Inventory
from pipeline.factory import (NoBackendBranch, has_element_writer, make_element_writer, make_harm_check,
                              make_image_checker, make_image_generator, make_leak_filter, make_pair_checker,
                              make_rewriter, make_seed_writer)

HALF_ADDED = "half-added"
CYBER = "Cybercrime"

ROLE_MAKERS = {
    "seed_writer": make_seed_writer,
    "rewriter": make_rewriter,
    "harm_check": make_harm_check,
    "vsil_judge": make_leak_filter,
    "images": lambda config: make_image_generator(config, Path("unused-run-folder")),
    "image_refiner": make_image_checker,
    "pair_checker": make_pair_checker,
    "element_writer": make_element_writer,
}


def with_backend(config: BuildConfig, role: str, value: str) -> BuildConfig:
    """`config` with a backend value its `Literal` would refuse: what a value added to the `Literal`
    without a factory branch looks like once loaded."""
    backends = config.backends.model_copy(update={role: value})
    return config.model_copy(update={"backends": backends})


def no_branch_message(role: str) -> str:
    return rf"backends\.{role} = '{HALF_ADDED}' is accepted by BackendsConfig .* has no branch for it"


def test_every_backends_role_is_made_in_the_factory():
    assert set(ROLE_MAKERS) == set(BackendsConfig.model_fields)


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_a_backend_value_without_a_branch_fails_naming_the_role(role):
    with pytest.raises(NoBackendBranch, match=no_branch_message(role)):
        ROLE_MAKERS[role](with_backend(BuildConfig(), role, HALF_ADDED))


def test_the_offline_defaults_still_have_their_branches():
    config = BuildConfig()
    assert make_pair_checker(config) is None and make_image_checker(config) is None
    assert make_element_writer(config) is None and not has_element_writer(config)
    assert make_seed_writer(config).backend == "templates" and make_rewriter(config).backend == "rules"
    assert make_image_generator(config, Path("unused-run-folder")).backend == "placeholder"


def test_an_element_writer_without_a_branch_stops_every_caller(tmp_path, monkeypatch):
    """plan (the build's notes), extend's plan, `elements grow` and the grower decided by comparing the
    value with "llm": a new writer was 'no writer' in three places and refused in the fourth."""
    from pipeline.elements.grow import grow_elements
    from pipeline.plan import choose_elements

    config = with_backend(load_config(None, ["run.size=1000", f"run.sub_categories=['{CYBER}']",
                                             f"elements.store='{tmp_path / 'store'}'"]),
                          "element_writer", HALF_ADDED)
    message = no_branch_message("element_writer")
    with pytest.raises(NoBackendBranch, match=message):
        choose_elements(config).notes(config)
    with pytest.raises(NoBackendBranch, match=message):
        plan_extension(Targets(name="bench", targets={CYBER: 5}), config, Inventory())
    with pytest.raises(NoBackendBranch, match=message):
        grow_elements(config, {CYBER: 1})
    monkeypatch.setattr("pipeline.cli.elements.load_config", lambda *args: config)
    result = CliRunner().invoke(app, ["elements", "grow", "-s", CYBER, "--n", "1"])
    assert isinstance(result.exception, NoBackendBranch), result.output


def test_the_release_makes_its_pair_checker_in_the_factory(tmp_path, monkeypatch):
    """The release CLI chose the pair checker itself: a value it did not know released with the rules."""
    run = tmp_path / "runs" / "r1"
    (run / "data").mkdir(parents=True)
    (run / "manifest.json").write_text("{}")
    config = with_backend(BuildConfig(), "pair_checker", HALF_ADDED)
    monkeypatch.setattr("pipeline.config.load_config", lambda *args: config)
    result = CliRunner().invoke(app, ["release", "r1", "--name", "bench", "--preview",
                                      "--runs-dir", str(tmp_path / "runs"),
                                      "--releases-dir", str(tmp_path / "releases")])
    assert isinstance(result.exception, NoBackendBranch), result.output
    assert not (tmp_path / "releases").exists()
