"""CI never skips silently: a test that needs the llama.cpp venv, the shared reference data or the
datasets package fails under CI=true with the one-line reason it skips with elsewhere
(tests/support/ci.py; tests/test_ci_browser.py checks the same for the browser)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.ci import needed_but_missing, require_module

ROOT = Path(__file__).resolve().parent.parent
# A -p plugin for the pytest run below: it hides each thing before any test module is imported.
HIDE_REQUIREMENTS = '''
import sys
from pathlib import Path

import tests.conftest as shared
from pipeline.testing import local_servers

MISSING = Path("/nonexistent")
shared.REFERENCE = MISSING / "shared" / "reference"
local_servers.LLM_VENV = MISSING / ".venv-llm"


class NoDatasets:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "datasets":
            raise ModuleNotFoundError("No module named 'datasets'", name="datasets")
        return None


for loaded in [name for name in sys.modules if name.split(".")[0] == "datasets"]:
    del sys.modules[loaded]
sys.meta_path.insert(0, NoDatasets())
'''
TESTS = ["tests/llm/test_cache_identity.py::test_llama_cpp_started_at_the_dry_runs_url_answers_itself",
         "tests/test_shared_reference_not_copied.py::test_the_project_holds_no_copy_of_any_shared_reference_file",
         "tests/detect/test_hygiene.py::test_the_shipped_lexicon_has_no_item_specific_phrase",
         "tests/release/test_release_make.py::test_datasets_loads_the_image_column_as_an_image_feature"]
REASONS = {"the llama.cpp tests": ".venv-llm is not installed (run scripts/setup_llm_server.sh)",
           "the shared reference data": "../shared/reference is not here (a user's own clone)",
           "the shared public corpus": "../shared/public_vsil is not here (a user's own clone)",
           "the datasets package": "the datasets package is not installed (pip install -e '.[test]')"}


def run_with_requirements_hidden(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "hide_requirements.py").write_text(HIDE_REQUIREMENTS, encoding="utf-8")
    env = {**os.environ, "CI": ci, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "hide_requirements",
                           "-rsfE", *TESTS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_under_ci_each_missing_requirement_fails_with_its_reason(tmp_path):
    result = run_with_requirements_hidden(tmp_path, "true")
    assert result.returncode == 1, result.stdout + result.stderr
    for what, why in REASONS.items():
        assert f"CI needs {what}: {why}" in result.stdout, result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert "2 failed, 2 errors" in result.stdout.splitlines()[-1]  # two tests that check, two fixtures


@pytest.mark.slow
def test_off_ci_each_missing_requirement_skips_with_its_reason(tmp_path):
    result = run_with_requirements_hidden(tmp_path, "")
    assert result.returncode == 0, result.stdout + result.stderr
    for why in REASONS.values():
        assert why in result.stdout, result.stdout
    assert "4 skipped" in result.stdout.splitlines()[-1]


def test_the_helper_fails_under_ci_and_skips_elsewhere_with_one_reason(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="^CI needs the thing: it is not here$"):
        needed_but_missing("the thing", "it is not here")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="^it is not here$"):
        needed_but_missing("the thing", "it is not here")


def test_a_package_that_is_there_is_imported_and_one_that_is_not_is_needed(monkeypatch):
    assert require_module("json", "nothing to install") is sys.modules["json"]
    monkeypatch.setenv("CI", "true")
    why = r"the no_such_package_here package is not installed \(pip install it\)$"
    with pytest.raises(pytest.fail.Exception, match=why):
        require_module("no_such_package_here", "pip install it")
