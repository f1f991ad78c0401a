"""mut8: a list exactly as long as what is shown names every name and no "and 0 more"."""

from pipeline.messages import first_few


def test_a_list_of_exactly_shown_names_has_no_more():
    assert first_few(["a", "b", "c"]) == "a, b, c"
    assert first_few(["a"], shown=1) == "a"
