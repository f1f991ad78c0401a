"""The release's offline pair checker at its edges: a cosine exactly at the match floor matches, and the
build's harm check is read at its last attempt."""

from __future__ import annotations

from pipeline.contracts import PairToCheck
from pipeline.records import Decision, Verdict
from pipeline.release.final_filter import RulesPairChecker, harm_check_verdicts
from pipeline.writers.tables import decisions_frame, write_frame
from tests.support.embedders import ScriptedEmbedder, basis
from tests.support.release_runs import named_elements


def pair(query: str, description: str, element) -> PairToCheck:
    return PairToCheck(id="p1", seed_id="s1", query=query, image_description=description,
                       category=element.category, sub_category=element.sub_category, element=element.element)


def test_a_cosine_exactly_at_the_match_floor_matches():
    element = named_elements()[0]
    embedder = ScriptedEmbedder({"the query": basis(0), "a plain scene": basis(0)})
    checker = RulesPairChecker(embedder, {"p1": True}, min_match_similarity=1.0)

    [check] = checker.check([pair("the query", "a plain scene", element)])

    assert check.scores["element_in_description"] == 0.0  # matched by the cosine alone
    assert check.matched


def test_the_harm_checks_last_attempt_decides(tmp_path):
    def harm(attempt: int, verdict: Verdict) -> Decision:
        return Decision(item_id="p1", seed_id="s1", stage="harm_check", text="q", reason="test", verdict=verdict,
                        attempt=attempt, backend="rules", model="m", prompt_hash="")

    run = tmp_path / "r1"
    run.mkdir()
    write_frame(decisions_frame([harm(2, Verdict.keep), harm(1, Verdict.drop)], "r1"), run / "decisions.parquet")

    assert harm_check_verdicts([run]) == {"p1": True}
