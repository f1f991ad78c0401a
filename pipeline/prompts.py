"""Prompt templates are files; a template's content hash is its version.

Templates live in the checkout's top-level `prompts/` folder. An installed
package carries the same folder as `pipeline.prompt_files` (see pyproject.toml).
"""

from __future__ import annotations

import tomllib
import traceback
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.utils import internal_code

from pipeline.env import IN_CHECKOUT, PROJECT_ROOT
from pipeline.hashing import sha256_text


def prompts_dir() -> Path:
    if IN_CHECKOUT:
        return PROJECT_ROOT / "prompts"
    return Path(__file__).parent / "prompt_files"  # where a wheel puts them (setup.py)


def prompt_path(name: str) -> Path:
    path = prompts_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"prompt template not found: {name} (looked in {prompts_dir()})")
    return path


def text_hash(text: str) -> str:
    return sha256_text(text)[:12]


def prompt_hash(name: str) -> str:
    return text_hash(prompt_path(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def _template(path: Path, mtime_ns: int) -> tuple[jinja2.Template, str]:
    source = path.read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)
    return env.from_string(source), text_hash(source)


def load_template(name: str) -> tuple[jinja2.Template, str]:
    """The compiled template and its hash; an edited file is picked up on next load."""
    path = prompt_path(name)
    return _template(path, path.stat().st_mtime_ns)


def template_line(error: jinja2.TemplateError, template: jinja2.Template) -> int | None:
    """The template's line an error was met at: a syntax error, or a filter unknown when the template
    compiles, carries it. An error of `make_module` leaves the compiled code's lines in the traceback:
    mapped back from the template's innermost frame that is not jinja's own (a filter first looked up
    at render time, inside an `{% if %}`, fails in a stub at the top of the compiled code: line 1)."""
    if getattr(error, "lineno", None):
        return error.lineno
    lines = [line for frame, line in traceback.walk_tb(error.__traceback__)
             if frame.f_code.co_filename == "<template>" and frame.f_code not in internal_code]
    return template.get_corresponding_lineno(lines[-1]) if lines else None


def read_prompt_table(name: str) -> tuple[dict, str]:
    """A TOML file of prompt texts and its hash; a ValueError naming the file (and where in it) when
    it is no TOML."""
    path = prompt_path(name)
    source = path.read_text(encoding="utf-8")
    try:  # a byte-order mark (Notepad's) is no TOML; the hash stays the file's
        return tomllib.loads(source.removeprefix("\ufeff")), text_hash(source)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from None
