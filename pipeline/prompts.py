"""Prompt templates are files; a template's content hash is its version.

Templates live in the checkout's top-level `prompts/` folder. An installed
package carries the same folder as `pipeline.prompt_files` (see pyproject.toml).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2

from pipeline.env import PROJECT_ROOT


def prompts_dir() -> Path:
    checkout = PROJECT_ROOT / "prompts"
    if checkout.is_dir():
        return checkout
    return Path(__file__).parent / "prompt_files"  # where a wheel puts them (setup.py)


def prompt_path(name: str) -> Path:
    path = prompts_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"prompt template not found: {name} (looked in {prompts_dir()})")
    return path


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def prompt_hash(name: str) -> str:
    return text_hash(prompt_path(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def _template(name: str, mtime_ns: int) -> tuple[jinja2.Template, str]:
    source = prompt_path(name).read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)
    return env.from_string(source), text_hash(source)


def load_template(name: str) -> tuple[jinja2.Template, str]:
    """The compiled template and its hash; an edited file is picked up on next load."""
    return _template(name, prompt_path(name).stat().st_mtime_ns)
