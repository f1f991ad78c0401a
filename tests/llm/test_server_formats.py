"""Which answer format a server gets: a refusal moves it one step, a transient failure does not,
a server without structured outputs starts at the prompt, and each move is said once."""

from __future__ import annotations

import logging

from pipeline.llm.config import EndpointConfig
from pipeline.llm.formats import ServerFormats, format_rejected
from pipeline.llm.transport import ServerError


def error(status: int, message: str) -> ServerError:
    return ServerError(status, message, "", {})


def test_llama_cpps_500_naming_the_format_is_a_refusal_and_other_failures_are_not():
    assert format_rejected(error(500, "Failed to parse response_format: json_schema unsupported"))
    assert format_rejected(error(400, "json_schema is not supported by this model"))
    assert not format_rejected(error(500, "the upstream model crashed"))  # retried, the format kept
    assert not format_rejected(error(503, "response_format json_schema: server busy"))  # not a refusal status


def test_a_server_without_structured_outputs_starts_at_the_prompt_format():
    formats = ServerFormats()
    assert formats.mode(EndpointConfig(base_url="http://a.test/v1")) == "json_schema"
    assert formats.mode(EndpointConfig(base_url="http://b.test/v1", structured_outputs=False)) == "prompt"


def test_a_late_refusal_of_a_format_left_behind_does_not_move_the_server_back():
    endpoint = EndpointConfig(base_url="http://in-flight.test/v1")
    formats = ServerFormats()
    formats.reject(endpoint, "json_schema", "json_schema unsupported")
    formats.reject(endpoint, "json_schema", "json_schema unsupported")  # a request sent before the first move
    assert formats.mode(endpoint) == "json_object"
    formats.reject(endpoint, "json_object", "response_format json_object unsupported")
    formats.reject(endpoint, "json_schema", "json_schema unsupported")  # sent in json_schema long ago
    assert formats.mode(endpoint) == "prompt"


def test_each_format_a_server_refuses_is_said_once(caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.llm")
    endpoint = EndpointConfig(base_url="http://two-moves.test/v1")
    formats = ServerFormats()
    formats.reject(endpoint, "json_schema", "json_schema unsupported")
    formats.reject(endpoint, "json_object", "response_format json_object unsupported")
    assert formats.mode(endpoint) == "prompt"
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2
    assert "rejected response_format json_schema" in said[0] and "using json_object" in said[0]
    assert "rejected response_format json_object" in said[1] and "using prompt" in said[1]
