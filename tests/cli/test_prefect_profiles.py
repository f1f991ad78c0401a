"""A Prefect profile naming a server (`prefect config set PREFECT_API_URL=...` in ~/.prefect) is the
API a command reports to, though Prefect's home moves under artifacts/; and Prefect's log lines
are quieted only for the temporary server, so a real server's Logs tab shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

TEAM_API = "http://127.0.0.1:4311/api"
TEAM_PROFILE = f'active = "team"\n[profiles.team]\nPREFECT_API_URL = "{TEAM_API}"\n'
SETTINGS = """
import json
import pipeline
from pipeline.prefect_server import configured_api_url
ours = configured_api_url()
from prefect.settings import get_current_settings
settings = get_current_settings()
print(json.dumps({"ours": ours, "prefect": settings.api.url, "level": settings.logging.level,
                  "home": str(settings.home)}))
"""


def settings_in_fresh_home(tmp_path: Path, profiles: str | None) -> dict:
    """What a command started in an empty folder resolves, with `profiles` as ~/.prefect/profiles.toml
    and no Prefect variable exported."""
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".prefect").mkdir(parents=True)
    work.mkdir()
    if profiles is not None:
        (home / ".prefect" / "profiles.toml").write_text(profiles)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PREFECT_") and key != "LEAKLESS_ARTIFACTS"}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SETTINGS], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "work": str(work)}


def test_the_home_profiles_server_is_the_api_prefect_reports_to(tmp_path):
    resolved = settings_in_fresh_home(tmp_path, TEAM_PROFILE)
    assert resolved["ours"] == TEAM_API  # no temporary server is started
    assert resolved["prefect"] == TEAM_API  # and Prefect's client reports there
    assert resolved["home"] == str(Path(resolved["work"]) / "artifacts" / "prefect")


def test_prefect_logs_are_quieted_only_for_the_temporary_server(tmp_path):
    team = settings_in_fresh_home(tmp_path / "team", TEAM_PROFILE)
    assert team["level"] == "INFO"  # Prefect's own default: the server's Logs tab gets the runs' lines
    temporary = settings_in_fresh_home(tmp_path / "temporary", None)
    assert temporary["prefect"] is None and temporary["level"] == "WARNING"
