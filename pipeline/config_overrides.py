"""`--set section.key=value`: one CLI override written into a settings file's data before it is validated.

The rules follow the settings model the data is for (which keys are sections, which words a field takes
as choices), so this module takes the model and imports none: it sits low in the layers, beside
`pipeline.config_files`, while `pipeline.config` binds it to `BuildConfig`.
"""

from __future__ import annotations

import json
import tomllib
from types import UnionType
from typing import Literal, Union, get_args, get_origin

from pydantic import BaseModel

from pipeline.config_files import ConfigError, model_of

# Bare words that unset a key, as JSON's null does: a Python user writes None, and a store folder or
# an answer cache named "None" is never what was meant. Quoted ('"None"') they stay text.
NULL_WORDS = frozenset({"None", "none", "Null", "NULL", "null"})


def apply_override(model: type[BaseModel], data: dict, assignment: str,
                   created: dict[str, str] | None = None) -> None:
    """Sets the key `assignment` (section.key=value) names in `data`, read as `model`'s; records in
    `created` each section it makes (section -> the key set), so that section's errors are blamed on this --set."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {assignment!r}: expected section.key=value")
    *sections, leaf = key.strip().split(".")
    node = data
    for depth, section in enumerate(sections, 1):
        if section not in node and created is not None:
            created.setdefault(".".join(sections[:depth]), key.strip())
        node = node.setdefault(section, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {assignment!r}: {section} is not a section")
    value = _parse_value(model, raw.strip(), key.strip())
    if _names_section(model, key.strip()) and not isinstance(value, dict) \
            and not (value is None and _allows_none(_annotation_of(model, key.strip()))):
        # blamed here, not on a later `--set run.size=...` that would find no section left
        raise ConfigError(f"override {assignment!r}: {key.strip()} is a section, not a value")
    if isinstance(value, dict) and isinstance(node.get(leaf), dict):
        _merge(node[leaf], value)
    else:
        node[leaf] = value


def _parse_value(model: type[BaseModel], raw: str, key: str = ""):
    """CLI override values are TOML/JSON literals when they parse, strings otherwise; a bare
    NULL_WORDS word is None unless `key` takes that word as one of its choices (backends' "none")."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            if raw in NULL_WORDS and raw not in _choices(_annotation_of(model, key)):
                return None
            return raw


def _annotation_of(model: type[BaseModel] | None, key: str):
    """The type of the field `key` (section.key) names in `model`, None where it names none."""
    *sections, leaf = key.split(".")
    for name in sections:
        field = model.model_fields.get(name) if model else None
        model = model_of(field.annotation) if field else None
    field = model.model_fields.get(leaf) if model else None
    return field.annotation if field else None


def _choices(annotation) -> tuple:
    """The literal values a field's type allows (`Literal["none", "llm"]`), also inside a union."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        return tuple(value for kind in get_args(annotation) for value in _choices(kind))
    return ()


def _allows_none(annotation) -> bool:
    """Whether a field's type is optional (`PoolConfig | None`): such a section is unset by null, as a
    config file that leaves it out does, since TOML itself has no way to say null."""
    return get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation)


def _merge(section: dict, table: dict) -> None:
    """`--set 'run={size=1}'` sets the keys it names, as `--set run.size=1` does: replacing the
    section dropped the file's other keys (and earlier --set ones) without a word."""
    for key, value in table.items():
        if isinstance(value, dict) and isinstance(section.get(key), dict):
            _merge(section[key], value)
        else:
            section[key] = value


def _names_section(model: type[BaseModel] | None, key: str) -> bool:
    """Whether `key` (section.key) names a section of `model`, not a value."""
    for name in key.split("."):
        field = model.model_fields.get(name) if model else None
        if field is None:
            return False
        model = model_of(field.annotation)
    return model is not None

