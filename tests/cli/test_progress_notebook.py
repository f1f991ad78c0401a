"""A build run from a Jupyter notebook (`flows.build.build(config, show_progress=True)`, README's Python
route) shows its stage bars in the cell, as Rich draws them there: through an ipywidgets Output. A kernel
without ipywidgets gets one line saying how to get them, not silence (the bars were only ever drawn at a
terminal, so a build of minutes showed nothing until it ended) nor a warning per bar.

A real kernel (this venv's python, started by nbclient once for the module) runs the cells; nbclient keeps
what an Output widget shows in the notebook's widget state, where the bars are read back."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.factory import STAGE_ORDER
from pipeline.progress import NOTEBOOK_HINT
from tests.support.ci import require_module

# the `test` extra's: skipped where missing, failed under CI=true
nbformat = require_module("nbformat", "pip install -e '.[test]'")
nbclient = require_module("nbclient", "pip install -e '.[test]'")
require_module("ipykernel", "pip install -e '.[test]'")
require_module("ipywidgets", "pip install -e '.[test]'")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402  (nbclient's dependency)
from jupyter_client.manager import KernelManager  # noqa: E402

pytestmark = pytest.mark.slow  # a kernel, and a build with its Prefect server in each test

ROOT = Path(__file__).resolve().parents[2]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SET_UP = """
from pipeline.config import load_config
from flows.build import build
tiny = load_config(None, ["run.size=1", 'run.sub_categories=["Cybercrime"]', 'run.runs_dir="{runs}"'])
"""
BUILD = """
result = build(tiny, show_progress=True)
print('built', result['seeds'], 'seeds')
"""
# Hidden for this cell only (the other test's kernel is the same one): `import ipywidgets` raises ImportError.
BUILD_WITHOUT_IPYWIDGETS = """
import sys
kept = sys.modules.get("ipywidgets")
sys.modules["ipywidgets"] = None
try:
{build}
finally:
    if kept is None:
        del sys.modules["ipywidgets"]
    else:
        sys.modules["ipywidgets"] = kept
""".format(build=textwrap.indent(BUILD.strip(), "    "))


class Kernel:
    """One kernel, its cells run one at a time in one notebook."""

    def __init__(self, client):
        self.client = client

    def run(self, source: str):
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        return cell

    def output_widget_texts(self, cell) -> list[str]:
        """The text each Output widget the cell displayed shows last (nbclient's record of its state)."""
        self.client.set_widgets_metadata()
        state = self.client.nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
        models = state.get("state", {})
        texts = []
        for output in cell.outputs:
            model = models.get(output.get("data", {}).get(WIDGET_VIEW, {}).get("model_id"))
            if model is not None and model["state"].get("outputs"):
                texts.append(ANSI.sub("", model["state"]["outputs"][-1]["data"]["text/plain"]))
        return texts


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    # This venv's own python3 spec only ("python" in its argv is this interpreter to jupyter_client),
    # not a user's kernel of the same name elsewhere on the Jupyter path.
    specs = KernelSpecManager(kernel_dirs=[str(Path(sys.prefix) / "share" / "jupyter" / "kernels")])
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    client = nbclient.NotebookClient(nbformat.v4.new_notebook(), km=manager, timeout=600, allow_errors=True)
    # No configured API: the build starts its own server, as in a user's notebook.
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env["LEAKLESS_ARTIFACTS"] = str(tmp_path_factory.mktemp("artifacts"))
    env.pop("PREFECT_HOME", None)  # derived from LEAKLESS_ARTIFACTS when the kernel imports pipeline
    env.pop("PREFECT_PROFILES_PATH", None)
    runs = tmp_path_factory.mktemp("runs")
    with client.setup_kernel(cwd=str(ROOT), env=env):
        notebook = Kernel(client)
        ready = notebook.run("import sys\nprint(sys.executable)")
        assert [o.get("text", "").strip() for o in ready.outputs] == [sys.executable], ready.outputs
        notebook.run(SET_UP.format(runs=runs))
        yield notebook


def errors(cell) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]


def built(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout").strip()


def stderr(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def test_a_build_in_a_notebook_shows_its_stage_bars_and_ends_with_every_stage_done(kernel):
    cell = kernel.run(BUILD)
    assert errors(cell) == []
    assert built(cell) == "built 1 seeds"
    bars = kernel.output_widget_texts(cell)
    assert len(bars) == 1, f"no bars in the cell: {cell.outputs}"
    lines = bars[0].splitlines()
    assert [line.split()[0] for line in lines] == [stage.value for stage in STAGE_ORDER]
    assert all(" 1/1 seeds " in line for line in lines), bars[0]  # the last refresh is drawn too
    assert NOTEBOOK_HINT not in stderr(cell)


def test_a_build_in_a_notebook_without_ipywidgets_says_once_how_to_get_bars(kernel):
    cell = kernel.run(BUILD_WITHOUT_IPYWIDGETS)
    assert errors(cell) == []
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs)
    said = stderr(cell)
    assert said.count(NOTEBOOK_HINT) == 1, said
    assert "ipywidgets\" for Jupyter support" not in said and "Traceback" not in said, said
    assert "'leakless[notebook]'" in NOTEBOOK_HINT
    assert built(cell) == "built 1 seeds"
