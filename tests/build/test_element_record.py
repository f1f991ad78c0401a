"""A run records which elements its plan chose; a rerun that would choose others is refused, and a
build says where its elements came from and what run.size left out."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import ConfigError, load_config
from pipeline.elements.store import StoredElement
from pipeline.plan import choose_elements
from pipeline.rundir import RunDir
from pipeline.taxonomy import load_elements

CYBER = "Cybercrime"
LIBRARY = [e for e in load_elements() if e.sub_category == CYBER]


def grow(store, name: str, number: int) -> None:
    """What a grow leaves in the store: one version holding one element of Cybercrime."""
    element = LIBRARY[0].model_copy(update={"element": name, "description": f"A {name} on a desk."})
    entry = StoredElement(element=element, backend="llm", model="m", prompt_hash="p", run_id="g",
                          novelty=0.5, nearest=LIBRARY[0].element, version=number)
    folder = store / f"v{number:04d}"
    folder.mkdir(parents=True)
    (folder / "elements.jsonl").write_text(entry.model_dump_json() + "\n")


def settings(tmp_path, *more: str):
    return load_config(None, [f"run.runs_dir='{tmp_path / 'runs'}'", f"elements.store='{tmp_path / 'store'}'",
                              f"run.sub_categories=['{CYBER}']", *more])


def test_a_rerun_after_the_store_grew_is_refused_naming_what_changed(tmp_path):
    config = settings(tmp_path, f"run.size={len(LIBRARY) + 5}")
    RunDir(config.run.runs_dir, "r1").claim(config)
    grow(tmp_path / "store", "card shimmer", 1)
    with pytest.raises(ConfigError) as refused:
        RunDir(config.run.runs_dir, "r1").claim(config)
    message = str(refused.value)
    assert message.startswith("run r1 was planned with other elements (1 more: 'card shimmer'; "
                              "the element store held no version, now v0001)")
    assert "use a new --run-id" in message and "leakless extend" in message


def test_elements_beyond_run_size_may_grow_under_a_run(tmp_path):
    config = settings(tmp_path, "run.size=4")
    RunDir(config.run.runs_dir, "r1").claim(config)
    grow(tmp_path / "store", "card shimmer", 1)
    RunDir(config.run.runs_dir, "r1").claim(config)  # the first four are still the library's


def test_an_edited_elements_file_is_refused_on_resume(tmp_path):
    mine = tmp_path / "mine.jsonl"
    mine.write_text("".join(e.model_dump_json() + "\n" for e in LIBRARY[:3]))
    config = settings(tmp_path, f"run.elements_file='{mine}'")
    RunDir(config.run.runs_dir, "r1").claim(config)
    reworded = LIBRARY[0].model_copy(update={"description": LIBRARY[0].description + " At night."})
    mine.write_text("".join(e.model_dump_json() + "\n" for e in [reworded, *LIBRARY[1:3]]))
    with pytest.raises(ConfigError, match=r"other elements \(the same names with other descriptions, terms "
                                          r"or order; .*mine.jsonl changed \(sha256 "):
        RunDir(config.run.runs_dir, "r1").check(config)


def test_a_run_made_before_the_record_resumes_as_before(tmp_path):
    config = settings(tmp_path, f"run.size={len(LIBRARY) + 5}")
    run = RunDir(config.run.runs_dir, "r1")
    run.claim(config)
    run.elements_record.unlink()
    grow(tmp_path / "store", "card shimmer", 1)
    run.claim(config)
    assert not run.elements_record.exists()


def test_build_refuses_the_rerun_in_one_line_before_it_starts(tmp_path):
    config = settings(tmp_path, f"run.size={len(LIBRARY) + 5}")
    RunDir(config.run.runs_dir, "r1").claim(config)
    grow(tmp_path / "store", "card shimmer", 1)
    result = CliRunner().invoke(app, ["build", "--run-id", "r1", "--size", str(len(LIBRARY) + 5),
                                      "--set", f"run.runs_dir='{tmp_path / 'runs'}'",
                                      "--set", f"elements.store='{tmp_path / 'store'}'",
                                      "--set", f"run.sub_categories=['{CYBER}']"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: run r1 was planned with other elements (1 more: 'card shimmer'")
    assert len(result.output.strip().splitlines()) == 1
    assert json.loads((tmp_path / "runs" / "r1" / "elements.json").read_text())["store"]["versions"] == []


def test_the_build_says_how_many_elements_each_source_gave_and_what_size_left_out(tmp_path):
    grow(tmp_path / "store", "card shimmer", 1)
    small = settings(tmp_path, "run.size=4")
    assert choose_elements(small).notes(small) == [
        "elements used: 4 from the library, 0 from the store; not used: "
        f"{len(LIBRARY) - 4} from the library, 1 from the store (run.size = 4 takes the first elements "
        "of each sub-category, library first)"]
    large = settings(tmp_path, f"run.size={len(LIBRARY) + 5}")
    assert choose_elements(large).notes(large) == [
        f"elements used: {len(LIBRARY)} from the library, 1 from the store",
        f"{CYBER}: run.size asks for {len(LIBRARY) + 5} elements, there are {len(LIBRARY) + 1} (library and "
        "store); growing more needs an element writer (docs/elements.md)"]
