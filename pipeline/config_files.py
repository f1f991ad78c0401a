"""Settings files: a TOML file read, then validated into a model, its first problem on one line.

The build config (`pipeline.config`), the serve config, the models file and the targets file are read
this way, so each refuses a bad file with one `ConfigError` line naming the file (or the `--set`
override to blame) and the key, never a pydantic report or a traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from pipeline.settings import with_its_base


class ConfigError(ValueError):
    """A bad config; its message is one line meant for the user."""


def one_line(error: ValidationError, where_empty: str = "config") -> str:
    """A pydantic error's first problem on one line: where, and what."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or where_empty
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def read_toml(path: Path, what: str = "config file") -> dict:
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} is a folder: {path}")
    if not path.is_file():
        raise ConfigError(f"{what} not found: {with_its_base(path)}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # Notepad's byte-order mark, unseen in an editor
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def validated(model: type[BaseModel], data: dict, path: Path | None = None, overridden: frozenset[str] = frozenset(),
              created: dict[str, str] | None = None):
    """`model` from `data`, or a ConfigError with the first problem on one line, blamed on the file
    or, for a key that an override (`--set`) set or in a section one made (`created`: section -> the
    key it set), on that override."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        unknown = first["type"] == "extra_forbidden"  # a typo in a section name: loc is the section
        inside = sorted(key for key in overridden if key.startswith(where + "."))  # a section's own check
        if any(where == key or where.startswith(key + ".") for key in overridden) or (unknown and inside):
            prefix = "override "
        elif inside:  # the file and the overrides together: name both
            prefix = f"{path or 'the defaults'} with override {', '.join(inside)}: "
        elif maker := _section_maker(where, created or {}):  # a key the file lacks, in a section --set made
            prefix = f"override {maker}: "
        else:
            prefix = f"{path}: " if path else ""
        raise ConfigError(prefix + one_line(error)) from None


def _section_maker(where: str, created: dict[str, str]) -> str | None:
    """The override that made the innermost section holding `where`, None when the file has it."""
    holding = [section for section in created if where == section or where.startswith(section + ".")]
    return created[max(holding, key=len)] if holding else None
