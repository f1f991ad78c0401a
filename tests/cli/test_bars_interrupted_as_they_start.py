"""A Ctrl-C that lands while Rich starts a bar (after its first draw, as its refresh thread starts)
left the bar running: `with` never entered, nothing stopped it, and its thread drew it again under the
command's last line ("interrupted; rerun with ..."), with stderr still redirected into it. Found by
pressing Ctrl-C on a build the moment its bars appeared (`test_build_start_up`); here the interrupt is
raised from that first draw."""

from __future__ import annotations

import sys

import pytest
from rich.live import Live

from pipeline.progress import StageProgress


def test_a_ctrl_c_as_the_bars_start_stops_them(monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich's own switch: a terminal it may draw on
    draw = Live.refresh
    draws: list[int] = []

    def interrupted_first_draw(live: Live) -> None:
        draws.append(1)
        if len(draws) == 1:
            raise KeyboardInterrupt  # Live.start stops itself for an Exception, not for this
        draw(live)

    monkeypatch.setattr(Live, "refresh", interrupted_first_draw)
    stderr = sys.stderr
    bars = StageProgress(("drafts",), 3)
    with pytest.raises(KeyboardInterrupt):
        with bars:
            pass
    assert not bars.progress.live.is_started  # no thread left to draw it again
    assert sys.stderr is stderr  # what is written next goes to stderr, not into the bars
