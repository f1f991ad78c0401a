"""`leakless evaluate`'s checks before any pair is sent: the models file and the API keys it names,
the Prefect home, the servers (each model served, the judge usable and labelling the judge check's
canned answers, the image runs' servers reading images), and the evaluation files the run leaves beside
its own. Each refusal is a ValueError (or `fail`); the rest are `note:` lines on stderr."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipeline.cli.errors import fail
from pipeline.messages import first_few

if TYPE_CHECKING:
    from pipeline.evaluate.judge_check import BeforeRun
    from pipeline.evaluate.models import EvaluationConfig


def checked_before_sending(folder: Path, models: Path, text_only: bool, only: list[str] | None,
                           trust_judge: bool, out_dir: Path) -> tuple[EvaluationConfig, BeforeRun]:
    """The checks before any pair is sent, their lines said on stderr; the models file's config and
    the judge check's outcome (`check_before_run`), which the flow records on every row."""
    from pipeline.cli.preflight import check_prefect_home
    from pipeline.evaluate.judge_check import check_before_run
    from pipeline.evaluate.models import load_models
    from pipeline.evaluate.runner import planned_runs

    config = load_models(models)
    plan = planned_runs(config, only, text_only)
    keys = {config.model(name).api_key_env for name, _ in plan} | {config.judge.api_key_env}
    missing = sorted(key for key in keys if not os.environ.get(key))
    if missing:
        raise fail(f"environment variable {', '.join(missing)} is not set (the models' API keys)")
    check_prefect_home()
    with _llm_warnings_as_notes():
        check_served(config, list(dict.fromkeys(name for name, _ in plan)))
        notes = earlier_evaluations(config, plan, Path(out_dir), folder.name)
        judge_check = check_before_run(config, plan, folder, Path(out_dir), trust_judge)
        # said before the image probe, which may refuse the run
        _echo([*judge_check.lines, *(f"note: {note}" for note in notes)])
        _echo([f"note: {note}" for note in check_image_mode(config, plan, folder, Path(out_dir))])
    return config, judge_check


def _echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)


class _NoteHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"note: {record.getMessage()}", err=True)


@contextmanager
def _llm_warnings_as_notes() -> Iterator[None]:
    """Around the checks before the flow: the LLM client's warnings (a server that refuses the
    `json_schema` response format, met by the judge check) are `note:` lines, as the checks' own are,
    not bare lines with no prefix. Inside the flow Prefect's log lines say them."""
    logger = logging.getLogger("pipeline.llm")
    handler, propagate = _NoteHandler(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def check_served(config, names: list[str]) -> None:
    """As `leakless build` does (pipeline/cli/preflight.py): a ValueError when an endpoint lists the
    models it serves (GET /models) and a model, or the judge, is not among them. llama.cpp's server
    answers any name, so a typo would otherwise be evaluated, and ranked, as the model it names.
    The judge's endpoint must also be usable (up, taking the key, an OpenAI-compatible API): every
    answer would otherwise be fetched, then fail to be judged. A model's may not be: its failed
    requests are recorded, and the other models evaluated."""
    from pipeline.cli.preflight import SHOWN_MODELS, listed_models, served_models

    judge = config.judge
    listings = {(judge.base_url, judge.api_key_env): listed_models("judge", judge)}
    for who, endpoint in [*((f"model {name!r}", config.model(name)) for name in names), ("the judge", judge)]:
        key = (endpoint.base_url, endpoint.api_key_env)
        if key not in listings:
            listings[key] = served_models(endpoint)
        listed = listings[key]
        if listed and endpoint.model not in listed:
            shown = first_few(sorted(listed), SHOWN_MODELS)
            raise ValueError(f"{endpoint.base_url} serves {shown}, not {endpoint.model!r}, which {who} of the "
                             f"models file asks for")


def check_image_mode(config, plan: list[tuple[str, str]], release_dir: Path, out_dir: Path) -> list[str]:
    """Probes each model with pairs left to send with the image (`check_reads_images`): a ValueError
    for one whose server drops image messages, notes for those it could not check. A finished run is
    not probed, so it still reruns without a request."""
    from pipeline.cli.preflight import check_reads_images
    from pipeline.evaluate.runner import CANNOT_SEE, IMAGE, has_pairs_to_send

    probed = [name for name, mode in plan
              if mode == IMAGE and has_pairs_to_send(release_dir, config, name, mode, out_dir)]
    notes = [check_reads_images(f"model {name!r}", config.model(name), CANNOT_SEE) for name in probed]
    return [note for note in notes if note]


def earlier_evaluations(config, plan: list[tuple[str, str]], out_dir: Path, release_name: str) -> list[str]:
    """Checks the files this run leaves as they are, which the leaderboard ranks beside its own: a
    ValueError when another judge labelled them, or two files hold one model's rows; notes naming models the
    models file no longer lists, and those with only a text-only file, which the leaderboard leaves out."""
    from pipeline.evaluate.judges import describe_judges, judges_of
    from pipeline.evaluate.leaderboard import evaluation_files, one_file_per_model
    from pipeline.evaluate.runner import TEXT_ONLY, evaluation_path

    folder = out_dir / release_name
    one_file_per_model(evaluation_files(folder), folder)
    rewritten = {evaluation_path(out_dir, release_name, name, mode) for name, mode in plan}
    kept = [path for path in evaluation_files(folder) if path not in rewritten]
    others = other_judges(judges_of(kept), config.judge)
    if others:
        controls = any(path.parent.name == TEXT_ONLY for paths in others.values() for path in paths)
        how = " (with --text-only for their text-only files)" if controls else ""
        raise ValueError(f"{folder} holds evaluations labelled by another judge than this run's "
                         f"{config.judge.model!r} at {config.judge.base_url}: "
                         f"{describe_judges(others, folder, beside=config.judge.model)}; "
                         f"the leaderboard ranks one judge's labels only: re-evaluate those models with this "
                         f"judge{how}, or move their files away")
    listed = {entry.name for entry in config.models}
    stale = sorted(path.stem for path in folder.glob("*.parquet") if path.stem not in listed)
    notes = [f"the leaderboard also ranks {', '.join(stale)}: evaluations in {folder} of models the models "
             f"file does not list (move their files away to leave them out)"] if stale else []
    alone = sorted(path.stem for path in (folder / TEXT_ONLY).glob("*.parquet")
                   if not (folder / path.name).exists() and folder / path.name not in rewritten)
    if alone:
        notes.append(f"the leaderboard leaves out {', '.join(alone)}: only a text-only evaluation in {folder} "
                     f"(it ranks image runs; `leakless evaluate --model NAME` runs one)")
    return notes


def other_judges(judges: dict, judge) -> dict:
    """The judges (with their files) whose labels this run's judge's cannot be ranked with: another
    model id, or, under the same id, the scripted server's labels (`leakless fake-llm`) while the
    judge's endpoint is now another server, or the other way round. Its server is asked (GET /models)
    only when a file holds labels of the same model id."""
    from pipeline.evaluate.runner import judge_server_is_scripted

    same_id = [found for found in judges if found.model_id == judge.model and found.served]
    scripted = judge_server_is_scripted(judge) if same_id else None  # None: unknown, so no reason to refuse
    return {found: paths for found, paths in judges.items()
            if found.model_id != judge.model or found in same_id and scripted is not None
            and found.scripted != scripted}
