"""Label Studio keeps e-mails lowercased, so `--user Ann@Example.org=ann` must still find ann."""

from __future__ import annotations

from pipeline.review.labelstudio_users import annotator_name, parse_user_options, user_names


def test_a_user_named_by_email_is_found_whatever_its_case():
    names = user_names(parse_user_options(["Ann@Example.org=ann", "7=bob"]), {"1": "ann@example.org"})
    assert annotator_name(1, names) == "ann"
    assert annotator_name({"id": 2, "email": "ANN@example.org"}, names) == "ann"
    assert annotator_name(7, names) == "bob"
