"""A user's elements file (`run.elements_file`): each bad line is named and left out, the rest build."""

from __future__ import annotations

import json

import pytest

from pipeline.config import load_config
from pipeline.plan import choose_elements, plan_seeds
from pipeline.taxonomy import load_elements
from pipeline.taxonomy.element_file import read_element_file

CYBER = "Cybercrime"
SKIMMER = next(e for e in load_elements() if e.element == "credit card skimmer")
RELAY = {"category": "Illegal Activity", "sub_category": "Property Crimes", "element": "keyless relay box",
         "kind": "object", "synonyms": ["relay attack device", "key fob amplifier"], "broader": ["car theft tool"],
         "description": "A man holding a keyless relay box beside the front window of a house at night."}


def line(**changes) -> str:
    return json.dumps({**RELAY, **changes})


@pytest.fixture
def mixed(tmp_path):
    """A good line, then one bad line of each kind, then a good line again."""
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join([
        SKIMMER.model_dump_json(),
        line(element="Credit  Card-Skimmer", sub_category=CYBER, category="Illegal Activity",
             description="A Credit  Card-Skimmer clipped onto a petrol pump card reader."),
        line(element="", description="An empty name."),
        line(category="Illegal Stuff"),
        '{"category": "Violent", sub_category: oops}',
        line(synonyms=["only one"]),
        line(),
    ]) + "\n")
    return path


def test_every_bad_line_is_named_with_its_line_and_why_and_the_good_lines_stay(mixed):
    loaded = read_element_file(mixed)
    assert [e.element for e in loaded.elements] == ["credit card skimmer", "keyless relay box"]
    assert [note.split(": ", 1)[0] for note in loaded.skipped] == [f"{mixed}:{n}" for n in (2, 3, 4, 5, 6)]
    why = [note.split(": ", 1)[1] for note in loaded.skipped]
    assert why[0].startswith("the name 'Credit  Card-Skimmer' repeats 'credit card skimmer' of line 1")
    assert why[1] == "empty name or description"
    assert why[2].startswith("unknown category/sub-category 'Illegal Stuff'")
    assert why[3].startswith("not a valid element (not JSON")
    assert why[4] == "1 synonyms, not 2 to 6"


def test_a_build_plans_the_good_lines_and_says_which_it_skipped(mixed, tmp_path):
    config = load_config(None, [f"run.elements_file='{mixed}'", f"elements.store='{tmp_path / 'none'}'",
                                f"run.sub_categories=['{CYBER}', 'Property Crimes']"])
    assert [seed.element.element for seed in plan_seeds(config)] == ["credit card skimmer", "keyless relay box"]
    notes = choose_elements(config).notes(config)
    assert [note.startswith("skipped ") for note in notes[:5]] == [True] * 5
    assert notes[5] == "elements used: 2 from the elements file, 0 from the store"


def test_a_file_with_no_good_line_is_one_error_naming_its_first_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(line(element="") + "\n" + line(category="Nope") + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl: no usable element; .*bad.jsonl:1: empty name "
                                         r"or description \(and 1 more bad line\)"):
        read_element_file(path)


def test_elements_list_and_growth_read_the_file_as_the_build_does(mixed):
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.elements import known_library

    result = CliRunner().invoke(app, ["elements", "list", "--set", f"run.elements_file='{mixed}'"])
    assert result.exit_code == 0, result.output
    listed = [row.split("\t")[2] for row in result.stdout.splitlines() if row.startswith("library\t")]
    assert listed == ["credit card skimmer", "keyless relay box"]
    assert result.stderr.count("note: skipped ") == len(read_element_file(mixed).skipped) == 5
    config = load_config(None, [f"run.elements_file='{mixed}'"])
    assert [e.element for e in known_library(config).elements] == listed


def test_an_element_given_twice_takes_its_place_in_run_size_as_plans_always_did():
    """run.size counts the first elements as given, repeats included, before a repeat is dropped: an
    unchanged config plans the seeds it planned before the plan recorded its elements."""
    cyber = [e for e in load_elements() if e.sub_category == CYBER]
    config = load_config(None, ["run.size=3", f"run.sub_categories=['{CYBER}']"])
    seeds = plan_seeds(config, [cyber[0], cyber[0], cyber[1], cyber[2]])
    assert [seed.element.element for seed in seeds] == [cyber[0].element, cyber[1].element]
