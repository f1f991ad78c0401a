"""A curator removes one grown element without touching the rest of its grow: `elements remove`
records the removal, with its reason, as a store version of its own, so builds skip the element,
`elements list --source removed` shows it, and a later grow still knows it (its vectors stay in step
and a writer that proposes it again is refused as a repeat). Before, the only way was to delete the
version folder (every element of that grow with it) or a line by hand, which made the next grow
refuse the store. `elements list --origin` shows where each grown element came from."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.elements import known_library
from pipeline.elements.grow import GrowReport, Grower
from pipeline.elements.store import ElementStore, StoredElement
from pipeline.llm.roles import ProposedElement
from pipeline.records import Element
from tests.support.embedders import ScriptedEmbedder, basis

SUB = "Cybercrime"


def stored(name: str, description: str | None = None) -> StoredElement:
    element = Element(category="Illegal Activity", sub_category=SUB, element=name, kind="object",
                      synonyms=(f"{name} kit", f"{name} tool"), broader=("fraud device",),
                      description=description or f"A {name} on a desk beside a laptop in a dim office.")
    return StoredElement(element=element, backend="openai-compatible", model="steer-model", prompt_hash="8416d098e90b",
                         run_id="grow-a", novelty=0.5, nearest="keylogger", version=0)


def elements(store, *args: str):
    return CliRunner().invoke(app, ["elements", *args, "--set", f"elements.store='{store}'"])


@pytest.fixture
def store(tmp_path) -> ElementStore:
    store = ElementStore(tmp_path / "store")
    names = ["card shimming wafer", "chip overlay", "skimmer bar"]
    store.add_version([stored(name) for name in names], np.stack([basis(n) for n in range(3)]), [], "grow-a", {})
    return store


def test_a_removed_element_leaves_builds_and_lists_with_its_reason_kept(store):
    done = elements(store.folder, "remove", "Chip Overlay", "-s", SUB, "--reason", "reads as a skimmer guide")
    assert done.exit_code == 0, done.output
    assert done.stdout == ("removed 'chip overlay' (Cybercrime, grown in v0001) as store version 2: "
                           "builds skip it, grows count it as known\n")
    config = load_config(None, [f"elements.store='{store.folder}'"])
    assert "chip overlay" not in [element.element for element in known_library(config).elements]
    listed = elements(store.folder, "list", "--source", "model").stdout
    assert [line.split("\t")[2] for line in listed.splitlines()] == ["card shimming wafer", "skimmer bar"]
    removed = elements(store.folder, "list", "--source", "removed").stdout.strip().split("\t")
    assert removed[:4] == ["removed", SUB, "chip overlay", "v0001"] and removed[-1] == "reads as a skimmer guide"
    meta = json.loads((store.folder / "v0002" / "meta.json").read_text())
    assert (meta["kind"], meta["removed"], meta["added"]) == ("removal", 1, 0)
    assert "1 grown elements removed" in elements(store.folder, "stats").stdout


def test_a_grow_after_a_removal_reads_the_store_and_refuses_the_element_again(store):
    store.remove(SUB, "chip overlay", "reads as a skimmer guide")
    config = load_config(None, [f"elements.store='{store.folder}'"])
    grower = Grower(config, client=None, embedder=ScriptedEmbedder({}, other=basis(383)), run_id="grow-b",
                    store=store)
    assert "chip overlay" in grower.request(SUB, 3).known_elements  # the writer is told not to propose it
    again = ProposedElement(element="Chip overlays", kind="object", synonyms=["card overlay", "slot overlay"],
                            broader=["fraud device"], description="Chip overlays on a payment terminal in a shop.")
    report = GrowReport(run_id="grow-b", wanted={SUB: 1})
    grower.judge(SUB, SimpleNamespace(output=SimpleNamespace(elements=[again]), provenance=SimpleNamespace(
        backend="scripted", model="m", prompt_hash="h")), 1, report)
    assert grower.decisions[0][2].reason == "element.duplicate_name: repeats the known element 'chip overlay'"


def test_an_entry_a_rule_now_stops_can_be_removed_and_the_store_reads_again(store):
    named = stored("laptop sticker", "A laptop sticker on the lid of Emily Carter's laptop in a cafe.")
    store.add_version([named], basis(9)[None, :], [], "grow-c", {})
    with pytest.raises(ValueError, match="the hard block stops this entry"):
        store.entries()
    number, removed = store.remove(SUB, "laptop sticker", "names a private person")
    assert number == 3 and [entry.version for entry in removed] == [2]
    assert [entry.element.element for entry in store.entries()] == [
        "card shimming wafer", "chip overlay", "skimmer bar"]


def test_an_unknown_name_or_an_empty_reason_is_one_line_and_exit_2(store):
    missing = elements(store.folder, "remove", "handgun", "-s", SUB, "--reason", "x")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no grown element 'handgun' in Cybercrime")
    assert len(missing.stderr.splitlines()) == 1
    blank = elements(store.folder, "remove", "skimmer bar", "-s", SUB, "--reason", " ")
    assert blank.exit_code == 2 and "--reason must say why" in blank.stderr
    assert len(store.versions()) == 1


def test_list_origin_shows_the_version_grow_time_model_prompt_hash_and_run_id(store):
    grown_at = json.loads((store.folder / "v0001" / "meta.json").read_text())["created_at"]
    line = elements(store.folder, "list", "--source", "model", "--origin").stdout.splitlines()[0]
    assert line.split("\t")[2:] == ["card shimming wafer", "A card shimming wafer on a desk beside a laptop in a dim "
                                    "office.", "v0001", grown_at, "steer-model", "8416d098e90b", "grow-a"]
