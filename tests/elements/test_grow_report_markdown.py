"""A grow's report is Markdown (the terminal, Prefect's artifact of an extend): the first failed
request's raw answer is a model's text, and stays one code span there, never Markdown of its own."""

from __future__ import annotations

from markdown_it import MarkdownIt

from pipeline.elements.grow import GrowReport

RAW = ("invalid answer | raw answer: ```json\n# Heading\n![x](http://tracker.example/p.png)\n"
       "| a | table |\n```")


def test_a_failed_requests_raw_answer_is_one_code_span_of_the_report():
    report = GrowReport(run_id="grow-1", wanted={"Cybercrime": 1}, failed_requests=1, first_error=RAW)
    tokens = MarkdownIt("commonmark").enable("table").parse(report.markdown())
    last = [token for token in tokens if token.type == "inline"][-1]
    assert [child.type for child in last.children] == ["text", "code_inline"]
    assert "tracker.example" in last.children[1].content
    assert not [token for token in tokens if token.type in ("heading_open", "fence", "image")]
    assert sum(token.type == "table_open" for token in tokens) == 1  # the report's own table only
