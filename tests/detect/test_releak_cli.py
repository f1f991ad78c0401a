"""`python -m pipeline.detect.releak --help` says what it does instead of scoring every re-leak."""

from __future__ import annotations

import pytest

from pipeline.detect import releak


def test_help_prints_usage_and_scores_nothing(capsys, monkeypatch):
    monkeypatch.setattr(releak, "releak_pairs", lambda: pytest.fail("--help ran the measurement"))
    with pytest.raises(SystemExit) as stopped:
        releak.main(["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m pipeline.detect.releak") and "re-leaks" in out


def test_an_unknown_argument_is_refused_with_exit_2(capsys):
    with pytest.raises(SystemExit) as stopped:
        releak.main(["--split", "dev"])
    assert stopped.value.code == 2


@pytest.mark.parametrize("word, off", [("pistol", "pitsol"), ("bottle", "botle"), ("pills", "plils"), ("pill", "pill")])
def test_a_misspelt_releak_word_is_one_edit_off(word, off):
    from rapidfuzz.distance import OSA

    assert releak.misspelt(word) == off
    assert OSA.distance(word, off) == (1 if len(word) >= 5 else 0)
