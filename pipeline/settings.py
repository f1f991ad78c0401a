"""The base of every config section: values are taken as written.

A value of another type is an error, never converted: `true` would be a threshold of 1.0 (and
turn the leak filter off), a step count of 1 or a token limit of 1, and "0.9" a number. An integer
still fills a float field; `inf` and `nan` (both TOML) fill none (`backoff_s = inf` waited forever
before a retry); unknown keys are refused. Paths come as text, in TOML and JSON
alike, so they alone are converted (`PathText`), a `~` at their start to the home folder as a shell
would (neither TOML nor a systemd unit does it). A shell's `$VARIABLE` in one is refused, not expanded:
the README promises `~` alone, and a config that meant another folder under each user's or unit's
environment would build, record and resume runs in a folder its file does not name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from pipeline.env import expand_home


class StrictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class FrozenSettings(StrictSettings):
    """Settings that cannot change once made: the LLM client's, one client shared by every stage
    that asks it (`pipeline.factory`), so an edit afterwards would change it under all of them."""
    model_config = ConfigDict(frozen=True)


# `$HOME`, `${HOME}`: a shell's variable, which TOML never expands
ENV_VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*)")


def _written_out(value):
    """Refuses a path that means something else than it says: "" is read as Path("."), the working directory
    (an answer cache left blank went there); "$HOME/runs" made a folder named `$HOME` there."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("empty: name a path, or leave the key out for its default")
    if isinstance(value, str) and (variable := ENV_VARIABLE.search(value)):
        raise ValueError(f"{value!r}: environment variables (${variable[1]}) are not expanded in a path, only "
                         f"a ~ at its start: write the path out")
    return value


PathText = Annotated[Path, BeforeValidator(_written_out), Field(strict=False), AfterValidator(expand_home)]


def with_its_base(path: Path) -> str:
    """`path` for a message: a relative one with the folder it was read against, which a config run
    from another folder does not show."""
    return str(path) if path.is_absolute() else f"{path} (relative to the working directory {Path.cwd()})"
