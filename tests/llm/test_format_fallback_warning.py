"""The warning of a server refusing a response_format: one line, the server's message cut at a word."""

from __future__ import annotations

import logging

from pipeline.llm.config import EndpointConfig
from pipeline.llm.formats import SHOWN_WHY, ServerFormats

# llama.cpp's refusal, as a real build saw it (cut at 200 characters, it ended inside a quote: "'te)")
LLAMA_CPP = ("HTTP 500: 1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
             "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': "
             "\"'text' or 'json_object'\"}}")


def test_a_long_refusal_is_cut_at_a_word_on_one_line(caplog):
    endpoint = EndpointConfig(base_url="http://127.0.0.1:1/long-refusal/v1")
    with caplog.at_level(logging.WARNING, logger="pipeline.llm"):
        ServerFormats().reject(endpoint, "json_schema", LLAMA_CPP)
    [line] = caplog.messages
    why = line[line.index("(") + 1:line.rindex(")")]
    assert "\n" not in line and why.endswith(" …") and len(why) <= SHOWN_WHY + 2
    words, kept = LLAMA_CPP.split(), why.removesuffix(" …").split(" ")
    assert kept[:-1] == words[:len(kept) - 1] and words[len(kept) - 1].rstrip(",;:") == kept[-1]  # whole words
    assert line.endswith("using json_object for this server from now on")


def test_a_short_refusal_is_shown_whole():
    from pipeline.llm.formats import shown_why

    assert shown_why("HTTP 400: response_format json_schema is not supported") == \
        "HTTP 400: response_format json_schema is not supported"
