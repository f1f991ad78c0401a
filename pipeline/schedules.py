"""What `leakless serve` deploys: a flow, its schedule, and the config it runs with."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from pipeline.config import read_toml, validated
from pipeline.settings import PathText, StrictSettings, with_its_base


class ScheduleEntry(StrictSettings):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    flow: Literal["build", "extend"] = "build"
    cron: str | None = None
    interval_seconds: int | None = Field(None, ge=5)
    config: PathText | None = Field(None, description="the build config this deployment runs with")
    overrides: list[str] = Field(default_factory=list)
    targets: PathText | None = Field(None, description="the targets file an extend deployment runs with")

    @field_validator("cron")
    @classmethod
    def _cron_that_fires(cls, cron: str | None) -> str | None:
        """Prefect reads a 6th field as seconds (`0 3 * * * *` fires 60 times from 03:00:00), where
        Quartz users mean seconds first; and a valid date pattern may never come (`0 3 31 2 *`)."""
        if cron is None or cron.startswith("@"):  # @daily, @hourly...
            return cron
        if len(cron.split()) != 5:
            raise ValueError(f"cron {cron!r} has {len(cron.split())} fields; give 5 (minute hour day month "
                             "weekday): Prefect would read a 6th as seconds")
        if never_fires(cron):
            raise ValueError(f"cron {cron!r} never fires")
        return cron

    @model_validator(mode="after")
    def _one_schedule(self) -> ScheduleEntry:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError(f"schedule {self.name!r}: give exactly one of cron or interval_seconds")
        if self.config is not None and not self.config.is_file():
            raise ValueError(f"schedule {self.name!r}: config file not found: {with_its_base(self.config)}")
        if (self.flow == "extend") != (self.targets is not None):
            raise ValueError(f"schedule {self.name!r}: flow 'extend' needs targets, and only it takes them")
        if self.targets is not None and not self.targets.is_file():
            raise ValueError(f"schedule {self.name!r}: targets file not found: {with_its_base(self.targets)}")
        return self


def never_fires(cron: str) -> bool:
    """No next firing by Prefect's scheduler's own reckoning. A string Prefect refuses is left to
    `pipeline.cli.serve.deployment`, which reports it in Prefect's words."""
    import asyncio

    from prefect.server.schemas.schedules import CronSchedule

    try:
        schedule = CronSchedule(cron=cron)
    except ValidationError:
        return False
    try:
        asyncio.run(schedule.get_dates(n=1))
    except ValueError:  # croniter's "failed to find next date"
        return True
    return False


class ServeConfig(StrictSettings):
    schedules: list[ScheduleEntry] = Field(min_length=1)

    @field_validator("schedules")
    @classmethod
    def _unique_names(cls, schedules: list[ScheduleEntry]) -> list[ScheduleEntry]:
        # Prefect keeps one deployment per (flow, name): a second entry would replace the first
        # without a word. Errors and the start-up line name schedules alone, so a name is unique.
        seen = set()
        for entry in schedules:
            if entry.name in seen:
                raise ValueError(f"schedule {entry.name!r} appears twice; give each schedule its own name")
            seen.add(entry.name)
        return schedules


def load_serve_config(path: Path) -> ServeConfig:
    return validated(ServeConfig, read_toml(path, "serve config"), path)
