"""docs/library.md's code blocks run as written, in order, as one script (their asserts say what each
step gives), so the page cannot drift from the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "library.md"


def code_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_has_its_examples():
    assert len(code_blocks()) >= 5


@pytest.mark.slow
def test_the_library_page_runs_as_written(tmp_path):
    """Loads MiniLM and the detector: about 30-60 s on two cores."""
    script = tmp_path / "library_page.py"
    script.write_text("\n\n".join(code_blocks()), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
