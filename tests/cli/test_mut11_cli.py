"""mut11: `--version`'s lines, the signal handler's fresh start, rewrite's slices, grow's own client,
the build summary's thresholds."""

from __future__ import annotations

from importlib import metadata

import pytest

import pipeline.cli.rewrite as rewrite_cli
import pipeline.cli.version as version
import pipeline.elements.grow as grow
from pipeline.build_thresholds import intent_threshold_text, summary_line
from pipeline.cli.errors import nothing_written
from pipeline.contracts import StageName
from pipeline.detect.calibration import detector_version
from pipeline.hashing import sha256_file
from pipeline.detect.lexicon import CUES_FILE
from pipeline.progress import StageProgress
from pipeline.stopping import request_stop, stop_requested


def test_version_says_uncommitted_changes_with_their_digest(monkeypatch):
    monkeypatch.setattr(version, "code_version",
                        lambda: {"commit": "abc", "uncommitted_changes": True, "changes_digest": "d1"})
    assert version._code() == "git abc with uncommitted changes (digest d1)"
    monkeypatch.setattr(version, "code_version", lambda: {"commit": "abc", "uncommitted_changes": False})
    assert version._code() == "git abc"


def test_version_names_a_missing_library_and_the_detectors_precision(monkeypatch):
    real = metadata.version

    def fake(name):
        if name == "diffusers":
            raise metadata.PackageNotFoundError(name)
        return real(name)
    monkeypatch.setattr(version.metadata, "version", fake)
    lines = version.version_lines()
    assert "diffusers not installed" in lines[3]
    assert lines[2].endswith(f"({version.configured_precision()})")


def test_detector_version_uses_the_given_calibration_digest_and_the_lexicon():
    text = detector_version("feedbeef")
    assert "+feedbeef+" in text and text.endswith("+" + sha256_file(CUES_FILE)[:8])


def test_a_stop_left_from_before_does_not_stop_the_next_command():
    request_stop()
    with nothing_written():
        assert not stop_requested()


class Outcome:
    def __init__(self, item):
        self.item = item


def test_rewrite_slices_keep_each_rows_language_and_every_row(monkeypatch):
    import pipeline.stages.rewrite_loop as loop
    seen = []

    def until_clean(items, rewriter, leak_filter, max_attempts, score_first):
        seen.extend(item for item in items)
        return [loop.RewriteOutcome(item) for item in items]
    monkeypatch.setattr(loop, "rewrite_until_clean", until_clean)
    monkeypatch.setattr(rewrite_cli, "REWRITE_SLICE", 2)
    items = [loop.RewriteItem(item_id=f"q{n}", query=f"q{n}?", image_description="d", category="Violence")
             for n in range(5)]
    english = [True, True, False, True, True]
    advanced = []
    outcomes = rewrite_cli.rewrite_in_scope(items, english, None, None, 3, advance=advanced.append)
    assert [o.item.item_id for o in outcomes] == ["q0", "q1", "q2", "q3", "q4"]
    assert [item.item_id for item in seen] == ["q0", "q1", "q3", "q4"]
    assert advanced == [2, 2, 1]
    assert rewrite_cli.rewrite_in_scope(items[:1], english[:1], None, None, 3)[0].item.item_id == "q0"


def test_set_total_changes_the_bars_total():
    progress = StageProgress(("scoring",), 10, enabled=False, unit="rows")
    progress.set_total("scoring", 4)
    assert progress.progress.tasks[0].total == 4


def test_intent_threshold_is_unknown_where_the_config_lacks_the_harm_check_backend():
    assert intent_threshold_text({"harm_check": {"min_intent_similarity": 0.5}}) == "unknown"


class D:
    def __init__(self, stage, threshold):
        self.stage, self.threshold = stage, threshold


def test_the_leak_threshold_line_reads_only_leak_filter_decisions():
    config = {"leak_filter": {"threshold": None}, "backends": {"harm_check": "llm"}}
    line = summary_line(config, [D(StageName.leak_filter, 0.42), D(StageName.harm_check, 0.3)])
    assert line == "Thresholds: leak 0.42 (the detector's own: `leak_filter.threshold` unset)."


class Client:
    closed = 0

    def close(self):
        Client.closed += 1


@pytest.mark.parametrize("passed", [True, False])
def test_grow_closes_the_client_it_made_and_never_the_callers(monkeypatch, tmp_path, passed):
    from pipeline.config import load_config
    import pipeline.factory as factory

    class FakeGrower:
        def __init__(self, *args):
            pass

        def run(self, wanted, on_round):
            return "report"
    Client.closed = 0
    monkeypatch.setattr(grow, "Grower", FakeGrower)
    monkeypatch.setattr(factory, "make_element_writer", lambda config: Client())
    config = load_config(None, ["backends.element_writer='llm'", f"elements.store='{tmp_path}'"])
    assert grow.grow_elements(config, {"x": 1}, client=Client() if passed else None, embedder=object()) == "report"
    assert Client.closed == (0 if passed else 1)
