"""Lines of an elements file left out for the same reason (every line of a sub-category the taxonomy no
longer has) are one note, with the first line and how many; a chosen sub-category with no element is
named in the run's summary, since its one note at the start is easy to miss."""

from __future__ import annotations

import json

import pytest

from pipeline.build import build_without_orchestration, sub_categories_without_seeds
from pipeline.config import load_config
from pipeline.plan import choose_elements
from pipeline.records import LedgerEntry, TerminalState
from pipeline.summary import summarise
from pipeline.taxonomy import load_elements
from pipeline.taxonomy.element_file import read_element_file

SKIMMER = next(e for e in load_elements() if e.element == "credit card skimmer")
GONE = "unknown category/sub-category 'Violence & Weapons'/'Abuse and Physical Altercations'"


def gone_line(i: int) -> str:
    return json.dumps({"category": "Violence & Weapons", "sub_category": "Abuse and Physical Altercations",
                       "element": f"thing {i}", "kind": "object", "synonyms": ["a", "b"], "broader": ["c"],
                       "description": f"A thing {i} on a table."})


@pytest.fixture
def renamed(tmp_path):
    """A good line, 20 lines of a sub-category the taxonomy lacks, an unreadable line, 2 more of those."""
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join([SKIMMER.model_dump_json(), *map(gone_line, range(20)), "{oops",
                               gone_line(20), gone_line(21)]) + "\n", encoding="utf-8")
    return path


def test_lines_left_out_for_the_same_reason_are_one_note_with_the_first_line_and_the_count(renamed):
    assert read_element_file(renamed).skipped == [
        f"{renamed}:2: {GONE} (and 21 more lines like it, the last line 24)",
        f"{renamed}:22: not a valid element (not JSON: Expecting property name enclosed in double quotes "
        "at column 2)"]


def config_for(renamed, tmp_path, *more):
    return load_config(None, [f"run.elements_file='{renamed}'", f"elements.store='{tmp_path / 'none'}'",
                              "run.size=1", "run.sub_categories=['Cybercrime', 'Property Crimes']",
                              f"run.runs_dir='{tmp_path / 'runs'}'", *more])


def test_the_builds_notes_say_each_reason_once_and_the_empty_sub_category_last(renamed, tmp_path):
    config = config_for(renamed, tmp_path)
    notes = choose_elements(config).notes(config)
    assert [note.split(": ", 1)[0] for note in notes if note.startswith("skipped ")] == [
        f"skipped {renamed}:2", f"skipped {renamed}:22"]
    assert notes[-1].startswith("Property Crimes: run.size asks for 1 elements, there are 0")


def test_the_summary_names_a_chosen_sub_category_with_no_seed_and_counts_its_category():
    ledger = [LedgerEntry(seed_id="s", category="Illegal Activity", sub_category="Cybercrime", element="e",
                          state=TerminalState.accepted, stage="export", reason="")]
    config = load_config(None, ["run.sub_categories=['Cybercrime', 'Property Crimes', 'Cultural Xenophobia']"])
    without = sub_categories_without_seeds(config, ledger)
    assert without == [("Illegal Activity", "Property Crimes"), ("Hate", "Cultural Xenophobia")]
    lines = summarise(ledger, [{"category": "Illegal Activity"}], {}, 1.0, "r1", without_seeds=without).markdown
    assert ("**No seed, so no pairs, in 2 chosen sub-categories** (no element in the library or the store): "
            "Property Crimes (Illegal Activity); Cultural Xenophobia (Hate).") in lines.splitlines()
    assert "| Hate | 0 | 0 | 0 |" in lines.splitlines() and "| Illegal Activity | 1 | 1 | 1 |" in lines.splitlines()
    assert "No seed" not in summarise(ledger, [], {}, 1.0, "r1").markdown


@pytest.mark.slow
def test_a_builds_summary_names_the_sub_category_it_had_no_element_for(renamed, tmp_path):
    build_without_orchestration(config_for(renamed, tmp_path), "empty-sub")
    summary = (tmp_path / "runs" / "empty-sub" / "summary.md").read_text(encoding="utf-8")
    assert ("**No seed, so no pairs, in 1 chosen sub-category** (no element in the library or the store): "
            "Property Crimes (Illegal Activity).") in summary
