"""Checks that what a command will write can be written (the LLM answer cache, the runs folder,
Prefect's home and its database), made before any work starts and creating nothing: a folder that
cannot be written would otherwise stop the build only once its models are loaded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.config import BuildConfig, ConfigError


def check_writable_file(path: Path, what: str) -> None:
    """Raises ValueError unless `path` can be opened for writing, its folders made as needed;
    creates nothing, so a run stopped by a later check leaves no trace."""
    existing = next(folder for folder in (path, *path.parents) if folder.exists())
    if existing != path and not existing.is_dir():
        problem = "not a folder"
    elif existing == path and path.is_dir():
        problem = "a folder"
    elif not os.access(existing, os.R_OK | os.W_OK if existing == path else os.W_OK | os.X_OK):
        problem = "not writable"
    else:
        return
    raise ValueError(f"{what} {path} cannot be written: {existing} is {problem}")


def folder_problem(path: Path) -> str | None:
    """Why `path` cannot be made as a folder or written in ("PATH cannot be written: FOLDER is not
    writable"), None when it can; leaves nothing behind."""
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    if not existing.is_dir():
        return f"{path} cannot be made: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{path} cannot be written: {existing} is not writable"
    refusal = refuses_folders(existing)
    return f"{path} cannot be made: {existing} takes no new folders ({refusal})" if refusal else None


def refuses_folders(folder: Path) -> str | None:
    """Why a folder cannot be made in `folder` though access() allows it (root in /proc, which answers
    mkdir with "No such file or directory"), None when one can: found by making one and removing it."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".leakless-probe-", dir=folder))
    except OSError as error:
        return error.strerror or str(error)
    return None


def check_runs_folder(settings: BuildConfig) -> None:
    """run.runs_dir is a folder, or can be made as one, that can be written."""
    problem = folder_problem(Path(settings.run.runs_dir))
    if problem:
        raise ConfigError(f"run.runs_dir {problem}")


def check_prefect_home() -> None:
    """Without a configured Prefect API the command starts a temporary server, whose database is
    in Prefect's home (by default artifacts/prefect under the working directory): one that cannot be
    written would stop the build only once the models are loaded."""
    from pipeline.env import artifacts_dir
    from pipeline.prefect_server import configured_api_url

    if configured_api_url():
        return
    if "PREFECT_HOME" not in os.environ:  # left unset only by a LEAKLESS_ARTIFACTS that could not be read
        artifacts_dir()  # which says why, in one line
    home = Path(os.environ["PREFECT_HOME"]).expanduser()
    problem = folder_problem(home) or database_problem(home)
    if problem:
        moved_by = ("PREFECT_HOME, or LEAKLESS_ARTIFACTS (the home is its prefect/ by default),"
                    if home == artifacts_dir() / "prefect" else "PREFECT_HOME")
        raise ValueError(f"Prefect's home {problem}; set {moved_by} to a folder that can be written")


def database_problem(home: Path) -> str | None:
    """Why Prefect's SQLite database in `home` cannot be written (another user's, in an artifacts folder
    a team shares), None when it can or is not made yet."""
    from pipeline.storage import permissions

    if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):  # the database is elsewhere
        return None
    for path in (home / name for name in PREFECT_DATABASE_FILES):
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"{home} holds a database this user cannot write ({permissions(path)}): it is one user's"
    return None


# Prefect's default database (PREFECT_API_DATABASE_CONNECTION_URL unset) and SQLite's files beside it.
PREFECT_DATABASE_FILES = ("prefect.db", "prefect.db-wal", "prefect.db-shm")
