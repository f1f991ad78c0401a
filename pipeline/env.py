"""Environment defaults the project sets for itself, so users don't have to.

Imported first by the CLI and the flows: Prefect reads its settings at import,
so these must be in place before `import prefect`. A value the user already
exported always wins.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Installed from a wheel, PROJECT_ROOT is site-packages, where another distribution's top-level
# `prompts/` may sit: the checkout's prompt folder is read only from a checkout (the team sets of
# tests/data are looked up by their own names, and refused where none is found).
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()


def artifacts_dir() -> Path:
    """LEAKLESS_ARTIFACTS (a `~` at its start the home folder, as in PREFECT_HOME), else ./artifacts."""
    return expand_home(Path(os.environ.get("LEAKLESS_ARTIFACTS", Path.cwd() / "artifacts"))).resolve()


def expand_home(path: Path) -> Path:
    """`path` with a `~` or `~user` at its start made the home folder; a `~name` that is no user's (a typo
    of `~/name`) is a ValueError naming it, not Python's RuntimeError."""
    try:
        return path.expanduser()
    except RuntimeError:
        raise ValueError(f"{path}: {path.parts[0]} is no user's home folder (your own is ~/)") from None


DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # the weight-loading bar would interleave with ours
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def exempt_loopback_from_proxies() -> None:
    """With a proxy in the environment (a corporate network's HTTP_PROXY), loopback is asked directly: the
    temporary Prefect server is on 127.0.0.1, which no proxy reaches, and Prefect's client follows the
    proxy variables. NO_PROXY and no_proxy both get the union of what either held, so neither hides the other."""
    if not any(os.environ.get(name) for name in PROXY_VARIABLES):
        return
    hosts = [host.strip() for name in ("NO_PROXY", "no_proxy") for host in os.environ.get(name, "").split(",")]
    if "*" in hosts:  # no proxy for any host, which urllib reads only from a `*` that stands alone
        return
    merged = ",".join(dict.fromkeys([host for host in hosts if host] + list(LOOPBACK_HOSTS)))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = merged


def apply_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    exempt_loopback_from_proxies()
    if "PREFECT_HOME" not in os.environ:
        # Prefect's home (its database, its storage) moves under artifacts/; the profiles that
        # `prefect config set` wrote stay the ones Prefect reads, a team server's API URL included.
        os.environ.setdefault("PREFECT_PROFILES_PATH", str(profiles_path()))
        try:
            os.environ["PREFECT_HOME"] = str(artifacts_dir() / "prefect")
        except ValueError:  # a bad LEAKLESS_ARTIFACTS: said in one line by the command that reads it
            pass
    torch_cache_under_artifacts()
    if not user_api_url():
        # Quiets the temporary server's console noise only: a real server's Logs tab shows every run's lines.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def torch_cache_under_artifacts() -> None:
    """torch makes its compiler cache folder (`$TMPDIR/torchinductor_<user>`, empty for our models) when a
    model loads: the one thing a build wrote outside LEAKLESS_ARTIFACTS. Set, it moves there. Not
    without it: `./artifacts` would appear wherever `audit` runs, and torch fails to import where
    that folder cannot be made (a read-only working folder), as it would in one not writable here."""
    if "TORCHINDUCTOR_CACHE_DIR" in os.environ or "LEAKLESS_ARTIFACTS" not in os.environ:
        return
    try:
        folder = artifacts_dir() / "torchinductor"
    except ValueError:  # a bad LEAKLESS_ARTIFACTS: said in one line by the command that reads it
        return
    existing = next(above for above in (folder, *folder.parents) if above.exists())
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)


def user_api_url() -> str | None:
    """The Prefect server the user configured: PREFECT_API_URL, else the active profile's."""
    return os.environ.get("PREFECT_API_URL") or profile_api_url()


def profiles_path() -> Path:
    """The profiles file Prefect reads: PREFECT_PROFILES_PATH, else its home's (~/.prefect by default)."""
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    return Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()


def profile_api_url() -> str | None:
    """The active Prefect profile's API URL (`prefect config set PREFECT_API_URL=...`), read
    without importing Prefect."""
    import tomllib

    try:
        profiles = tomllib.loads(profiles_path().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    return profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")


def ensure_prefect_home() -> None:
    """Made when a flow is about to run, not at import: `audit` or `verify` in a folder of
    one's own should leave no artifacts/ behind."""
    try:
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # said before a build (`check_prefect_home`), or in the log of the server that cannot start


apply_defaults()
