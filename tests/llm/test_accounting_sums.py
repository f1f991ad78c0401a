"""The LLM counts a build reports: its own spend (the client's counts less those before it), per
role, every column of the run summary's table, and a child's counts taken over, not added twice."""

from __future__ import annotations

from dataclasses import fields

from pipeline.llm.accounting import Accounting, RoleUsage, added_up, markdown_table


def test_a_builds_spend_is_the_counts_less_those_before_it_and_a_role_that_spent_nothing_goes():
    before = {"seed_writer": {"requests": 10, "prompt_tokens": 500}, "vsil_judge": {"requests": 4}}
    after = {"seed_writer": {"requests": 16, "prompt_tokens": 800}, "vsil_judge": {"requests": 4}}
    spent = added_up([after], minus=before)
    assert list(spent) == ["seed_writer"]
    assert (spent["seed_writer"]["requests"], spent["seed_writer"]["prompt_tokens"]) == (6, 300)


def test_counts_of_several_children_add_up_per_role():
    total = added_up([{"vsil_judge": {"requests": 3, "failures": 1}}, {"vsil_judge": {"requests": 2}},
                      {"seed_writer": {"cache_hits": 5}}])
    assert total["vsil_judge"]["requests"] == 5 and total["vsil_judge"]["failures"] == 1
    assert total["seed_writer"]["cache_hits"] == 5


def test_the_summary_table_has_a_column_for_every_count():
    usage = RoleUsage(requests=3, failures=2, request_s=1.25)
    table = markdown_table({"vsil_judge": usage.__dict__})
    header, rule, row = table.splitlines()
    names = [f.name for f in fields(RoleUsage)]
    assert header == "| role | " + " | ".join(names) + " |"
    assert rule.count("|---") == len(names) + 1
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "vsil_judge" and len(cells) == len(names) + 1
    assert cells[1 + names.index("failures")] == "2" and cells[1 + names.index("request_s")] == "1.2"


def test_a_childs_counts_are_taken_over_not_added_to_those_already_held():
    accounting = Accounting()
    accounting.add("vsil_judge", requests=4, items=2)
    accounting.replace({"vsil_judge": RoleUsage(requests=6, items=3).__dict__})
    accounting.replace({"vsil_judge": RoleUsage(requests=7, items=3).__dict__})  # each reply: the child's total
    assert (accounting.usage("vsil_judge").requests, accounting.usage("vsil_judge").items) == (7, 3)
