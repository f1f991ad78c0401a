"""Settings files: a TOML file read, then validated into a model, its first problem on one line.

The build config (`pipeline.config`), the serve config, the models file and the targets file are read
this way, so each refuses a bad file with one `ConfigError` line naming the file (or the `--set`
override to blame) and the key, never a pydantic report or a traceback.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from types import UnionType
from typing import Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from pipeline.settings import with_its_base


class ConfigError(ValueError):
    """A bad config; its message is one line meant for the user."""


def one_line(error: ValidationError, where_empty: str = "config", model: type[BaseModel] | None = None) -> str:
    """A pydantic error's first problem on one line: where, and what; an unknown key with the known
    one of `model` likely meant."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or where_empty
    if first["type"] == "extra_forbidden":
        meant = likely_meant(model, first["loc"], first["input"]) if model else []
        return f"{where}: unknown key" + (f" (did you mean {' or '.join(meant)}?)" if meant else "")
    message = not_a_path(first["input"]) if first["type"] == "path_type" else first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def not_a_path(value) -> str:
    """Why `value` (of a path key) is no path, as a sentence: pydantic's own reads "Input is not a valid
    path for <class 'pathlib.Path'>"."""
    if value is None:
        return "null is no path: leave the key out for its default"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value} is a number, not a path: quote it (\"{value}\") for a path of that name"
    return f"{str(value).lower() if isinstance(value, bool) else repr(value)} is no path: give it as text"


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
        raise ConfigError(prefix + one_line(error, model=model)) from None


def _section_maker(where: str, created: dict[str, str]) -> str | None:
    """The override that made the innermost section holding `where`, None when the file has it."""
    holding = [section for section in created if where == section or where.startswith(section + ".")]
    return created[max(holding, key=len)] if holding else None


def likely_meant(model: type[BaseModel], loc: tuple, value) -> list[str]:
    """The known keys an unknown one at `loc` (holding `value`) likely meant: the closest in its own
    section (a typo: leak_filter.treshold), else the same key in other sections (run.threshold), else,
    for a section of no known name, the sections holding its keys (`--set .size=4`)."""
    *section, name = loc
    known = model_of(_annotation_at(model, section))
    if known is None:
        return []
    close = difflib.get_close_matches(str(name), known.model_fields, n=1)
    if close:
        return [".".join(str(part) for part in (*section, close[0]))]
    keys = _keys(model)
    same_name = [key for key in keys if key.rpartition(".")[2] == name]
    if same_name or not isinstance(value, dict) or not value:
        return same_name[:MAX_MEANT]
    holding = [key for key in keys if all(f"{key}.{inner}" in keys for inner in value)]
    return [f"{key}.{next(iter(value))}" if len(value) == 1 else key for key in holding][:MAX_MEANT]


MAX_MEANT = 3  # more than this is no hint


def model_of(annotation) -> type[BaseModel] | None:
    """The model a field holds, also where it may be None (`PoolConfig | None`)."""
    kinds = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return next((kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)), None)


def _annotation_at(model: type[BaseModel], loc) -> object:
    """The type at `loc` inside `model`, through its sections and the values of its tables
    (llm.endpoints.<name>); None where `loc` leads to no type."""
    annotation = model
    for part in loc:
        inner = model_of(annotation)
        if inner is not None:
            field = inner.model_fields.get(part)
            annotation = field.annotation if field else None
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return annotation


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key of `model` and its sections, dotted (run, run.size, images.diffusers.steps)."""
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        if inner := model_of(field.annotation):
            keys |= _keys(inner, f"{prefix}{name}.")
    return keys
