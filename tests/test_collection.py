"""Every folder of tests/ is collected: pytest's default `norecursedirs` holds "build", and skipped
tests/build (the build job's tests) without a word until pyproject.toml set its own list."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

TESTS = Path(__file__).parent


def test_no_folder_of_test_files_is_one_pytest_skips(request):
    skipped = request.config.getini("norecursedirs")
    folders = {path.parent.relative_to(TESTS) for path in TESTS.rglob("test_*.py")}

    hidden = sorted(str(folder) for folder in folders
                    if any(fnmatch(part, pattern) for part in folder.parts for pattern in skipped))

    assert folders and not hidden, f"pytest never collects {hidden} (norecursedirs {skipped})"
