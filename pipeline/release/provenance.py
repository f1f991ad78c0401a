"""What made each run a release takes rows from, carried into the release's manifest (`runs[].build`), so
that the release folder alone says how to make its rows again: the run's build config, the prompt files its
backends read with their sha256, the elements its seeds were made from, the package versions and the
leakless commit it was built with.

Nothing of the builder's machine is carried: an absolute path in the config is cut to its last part (as the
card names a local model), and a server address to its scheme and host where the host is a well-known public
API (`PUBLIC_API_HOSTS`), to `local` where it is an IP address or a name with no domain, and to `remote` for
any other name (a lab's or university's server is not published). So the same runs released from any folders,
on the same leakless commit and packages (the release manifest records both), give the same bytes.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path, PurePath
from urllib.parse import urlsplit

# key -> the run's file; "elements" because a run planned from a grown element store (or an edited library)
# cannot be planned again from the config alone
BUILD_RECORDS = {"config": "config.json", "prompt_files": "prompts.json", "elements": "elements.json"}
FROM_MANIFEST = ("packages", "code")  # the run manifest's build-time keys; and "earlier_code" where it has one
# Public OpenAI-compatible APIs: naming one tells a rebuilder which service made the run, and names no one's machine.
PUBLIC_API_HOSTS = frozenset({"api.openai.com", "openrouter.ai", "api.together.xyz", "api.groq.com",
                              "api.mistral.ai", "api.deepseek.com", "generativelanguage.googleapis.com"})


def run_build(run_dir: Path) -> dict:
    """The run's build record; a key the run did not record (made before it was written) is null."""
    run_dir = Path(run_dir)
    build = {key: read_json(run_dir / file) for key, file in BUILD_RECORDS.items()}
    build["config"], build["elements"] = shareable(build["config"]), shareable(build["elements"])
    manifest = read_json(run_dir / "manifest.json") or {}
    resumed = {"earlier_code": manifest["earlier_code"]} if manifest.get("earlier_code") else {}
    return build | {key: manifest.get(key) for key in FROM_MANIFEST} | resumed


def _commit_name(code: dict | None) -> str:
    if not (code or {}).get("commit"):
        return "a version that recorded no commit"
    if not code.get("uncommitted_changes"):
        return f"`{code['commit'][:12]}`"
    digest = f" (digest `{code['changes_digest']}`)" if code.get("changes_digest") else ""
    return f"`{code['commit'][:12]}` with uncommitted changes{digest}"


def read_json(path: Path):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:  # its own message names no file
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def run_builds(run_dirs: list[Path], earlier_runs: list[dict]) -> dict[str, dict]:
    """Run id -> build record: the carried runs' as the earlier version recorded them, the given runs'
    read from their folders."""
    carried = {entry["run_id"]: entry.get("build") for entry in earlier_runs if isinstance(entry, dict)}
    return carried | {Path(run_dir).name: run_build(run_dir) for run_dir in run_dirs}


def shareable(value):
    """`value` (parsed JSON) with local paths and server addresses reduced (see the module's note)."""
    if isinstance(value, dict):
        return {key: shareable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shareable(item) for item in value]
    if not isinstance(value, str):
        return value
    address = urlsplit(value)
    if address.scheme and address.netloc:
        return f"{address.scheme}://{public_host(address.hostname or '')}"
    if os.path.isabs(value) or value.startswith("~"):
        return f".../{PurePath(value).name}"
    return value


def public_host(host: str) -> str:
    if host in PUBLIC_API_HOSTS:
        return host
    try:
        ipaddress.ip_address(host)
        return "local"
    except ValueError:
        return "remote" if "." in host else "local"


def rebuild_recipes(manifest: dict) -> list[str]:
    """One line per run of the release: the build command and where its config, prompt files and code
    version are in the manifest, or that the run recorded none."""
    lines = []
    for number, entry in enumerate(manifest.get("runs") or []):
        build, run_id = entry.get("build") or {}, entry.get("run_id")
        where = f"runs[{number}].build"
        if not isinstance(build.get("config"), dict):
            lines.append(f"run {run_id}: its build config was not recorded (a run or release made before it was)")
            continue
        size = (build["config"].get("run") or {}).get("size")
        size_flag = f"--size {size} " if size is not None else ""  # none recorded: the default, as for the run
        elements = (f", the elements `{where}.elements.elements` lists (written one a line to a file, they are a "
                    "`run.elements_file` for a library or store that has changed since)"
                    if isinstance(build.get("elements"), dict) else "")
        lines.append(f"run {run_id}: `leakless build {size_flag}--run-id {run_id}` with every other setting as in "
                     f"`{where}.config`, the prompt files whose sha256 `{where}.prompt_files` lists{elements}, "
                     f"and {_code_text(build)}")
    return lines


def _code_text(build: dict) -> str:
    code = build.get("code") or {}
    if not code.get("commit"):
        return ("the leakless commit, which it did not record (built before leakless recorded it, or not from a git "
                "checkout)")
    earlier = build.get("earlier_code")
    resumed = (f" (the run was resumed across commits: some of its batches were made by "
               f"{', '.join(_commit_name(old) for old in earlier)}, and may differ from what this commit makes)"
               if earlier else "")
    return f"leakless commit {_commit_name(code)}{resumed}"
