"""What a failed request of the element writer said is kept (the store's meta.json, the terminal,
extend's artifact), and a model wrote its raw answer: the hard block reads it first, as it reads
every proposal. An audit's server cut off an answer whose first proposal was a private person's
laptop at her address; meta.json and the terminal kept it word for word."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.contracts import ItemError
from pipeline.stages.base import KEPT_CHARS, failure_text as failure_note

CUT_OFF_SUB = "Unauthorized Data Collection"
CUT_OFF = ('{"elements":[{"element":"laura whitfield\'s laptop","kind":"object","description":'
           '"Laura Whitfield\'s laptop open on her desk at 14 Elm Street, her password on a note.",'
           '"synonyms":["laura whitfield\'s computer","her notebook"],"broader":["laptop"]},{"element":"secon')
GOOD = {"elements": [{"element": "card shimming wafer", "kind": "object",
                      "description": "A card shimming wafer held in tweezers above the chip slot of a card terminal.",
                      "synonyms": ["chip shimmer", "shim wafer"], "broader": ["fraud device"]}]}
PRIVATE = ("whitfield", "elm street")


class ScriptedWriter(BaseHTTPRequestHandler):
    """Cuts off its answer (finish_reason "length") for CUT_OFF_SUB; one good proposal otherwise."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cut = CUT_OFF_SUB in json.dumps(body["messages"])
        content, finish = (CUT_OFF, "length") if cut else (json.dumps(GOOD), "stop")
        data = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                           "choices": [{"index": 0, "finish_reason": finish,
                                        "message": {"role": "assistant", "content": content}}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def writer_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedWriter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def grow(writer_url, tmp_path, monkeypatch, *subs):
    monkeypatch.setenv("SCRIPTED_WRITER_KEY", "test-key")
    sets = ["backends.element_writer='llm'", f"elements.store='{tmp_path / 'store'}'", "elements.max_requests=2",
            f"llm.endpoints.default.base_url='{writer_url}'", "llm.endpoints.default.api_key_env='SCRIPTED_WRITER_KEY'",
            "llm.endpoints.default.max_retries=0", f"llm.cache_path='{tmp_path / 'llm.sqlite'}'"]
    return CliRunner().invoke(app, ["elements", "grow", *[a for s in subs for a in ("-s", s)], "--n", "1",
                                    *[a for s in sets for a in ("--set", s)]])


def test_a_cut_off_answer_naming_a_private_person_is_withheld_from_meta_and_terminal(writer_url, tmp_path,
                                                                                      monkeypatch):
    result = grow(writer_url, tmp_path, monkeypatch, CUT_OFF_SUB, "Cybercrime")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "store" / "v0001" / "meta.json").read_text())
    assert meta["failed_requests"] == 2 and "cut off at max_tokens" in meta["first_error"]
    assert "raw answer: (withheld: guardrail private_person:street_address)" in meta["first_error"]
    shown = result.output + (tmp_path / "store" / "v0001" / "meta.json").read_text()
    assert "First failed request:" in result.output
    assert not [word for word in PRIVATE if word in shown.lower()], shown


def test_a_grow_that_gives_up_does_not_print_the_raw_answer(writer_url, tmp_path, monkeypatch):
    result = grow(writer_url, tmp_path, monkeypatch, CUT_OFF_SUB)
    assert result.exit_code == 1 and "every request failed; the first said: the answer was cut off" in result.stderr
    assert "withheld: guardrail private_person" in result.stderr
    assert not [word for word in PRIVATE if word in (result.stdout + result.stderr).lower()]


def test_a_clean_failure_is_kept_bounded_and_a_refusal_is_read_too():
    long = ItemError(error="x" * 5000, raw='{"elements": [' + "y" * 5000)
    kept = failure_note(long, "Illegal Activity")
    assert kept.startswith("x" * KEPT_CHARS + " | raw answer: {") and len(kept) < 2 * KEPT_CHARS + 40
    refusal = ItemError(error="I won't describe Emily Carter's flat at 3 Park Lane.", raw="", refused=True)
    assert failure_note(refusal, None) == "refused: (withheld: guardrail private_person:street_address)"
    # a minor word kept in the error and a sexual word in the raw answer are one item's texts
    split = ItemError(error="about a 15-year-old", raw="explicit photos")
    assert failure_note(split, None) == "about a 15-year-old | raw answer: (withheld: guardrail sexual_minors)"
