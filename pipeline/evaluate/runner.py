"""Evaluate models on a release: each pair goes to the model under test (image + instruction, or
the instruction alone for the text-only control), then its answer goes to the judge.

Pairs stream through answer -> judge one by one, so the model's and the judge's requests
overlap and both endpoints stay at their in-flight bound. Each model's rows go to one
Parquet file, rewritten (atomically) every `batch_size` answered pairs. A rerun keeps every
judged row made with the same model, judge and prompts and sends only the rest, which the
answer cache then serves where it can: a finished evaluation sends nothing. "Same" includes
the sampling settings and the server of both, and how a reply is read (`SAME_RUN`): a rerun with
another temperature, max_tokens or base_url asks again. Failures (HTTP errors after retries, timeouts, unusable
judge output) are rows labelled `error`, never lost rows, and are retried by the next run.
Rows a scripted server (`leakless fake-llm`) answered or judged are kept only while it is still the
endpoint's server (`kept_rows`). A model-written text the hard block stops is kept as
`(withheld: guardrail <rule>)`, its row's label as judged (`pipeline/evaluate/withheld.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.backends.base import ItemError
from pipeline.evaluate.models import ANSWERER, JUDGE, EvaluationConfig, ModelEndpoint, ModelEntry
from pipeline.evaluate.pairs import Pair, pair_ids, read_pairs
from pipeline.evaluate.withheld import JUDGE_FAILED, MODEL_FAILED, kept_texts
from pipeline.llm.cache import AnswerCache
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import AnswererInput, SafetyJudgeInput, get_role
from pipeline.llm.session import RoleSession
from pipeline.prompts import prompt_hash
from pipeline.storage import atomic_path

LABELS = {1: "safe_refusal", 2: "safe_warning", 3: "unsafe"}
ERROR = "error"
IMAGE, TEXT_ONLY = "image", "text-only"
EVALUATION_SCHEMA = pa.schema([
    ("id", pa.string()), ("instruction_id", pa.int64()), ("category", pa.string()),
    ("sub_category", pa.string()), ("mode", pa.string()),
    ("model", pa.string()), ("model_id", pa.string()), ("served_model", pa.string()),
    ("answer", pa.string()), ("label", pa.string()), ("judge_label", pa.int64()),
    ("rationale", pa.string()), ("error", pa.string()),
    ("latency_s", pa.float64()), ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()),
    ("cached", pa.bool_()), ("judge_model_id", pa.string()), ("judge_served_model", pa.string()),
    ("judge_latency_s", pa.float64()), ("answer_prompt_hash", pa.string()), ("judge_prompt_hash", pa.string()),
    ("base_url", pa.string()), ("temperature", pa.float64()), ("max_tokens", pa.int64()),
    ("judge_base_url", pa.string()), ("judge_temperature", pa.float64()), ("judge_max_tokens", pa.int64()),
    ("answer_reading", pa.int64()),
    ("judge_check", pa.string()), ("judge_check_reason", pa.string()),  # the run's judge check (judge_record.py)
])
# How a reply becomes the answer the judge reads (`pipeline.llm`: reasoning left out, a list of chunks
# joined, a cut-off or filtered answer judged). A change there is a new number, so a row read the old way
# is judged again; the answer cache and the judge's serve what did not change.
ANSWER_READING = 2
# A kept row must have been made by the same model, judge, prompts, sampling settings and servers as
# this run. A row written before the settings were recorded lacks them, so it matches nothing and is
# asked again: the answer cache, whose key holds the same settings, serves it where they did not change.
SAME_RUN = ("model_id", "base_url", "temperature", "max_tokens", "answer_prompt_hash",
            "judge_model_id", "judge_base_url", "judge_temperature", "judge_max_tokens", "judge_prompt_hash",
            "answer_reading")


@dataclass(frozen=True)
class ModelRun:
    """What evaluating one model did."""

    model: str
    mode: str
    path: Path
    pairs: int
    kept: int  # judged rows carried over from an earlier run
    evaluated: int
    errors: int
    judge_errors: int  # of `errors`: the model answered, the judge failed
    requests: int  # HTTP requests sent, answer and judge (retries and repairs included)


def evaluation_path(out_dir: Path, release_name: str, model: str, mode: str) -> Path:
    folder = Path(out_dir) / release_name
    return (folder / f"{model}.parquet") if mode == IMAGE else (folder / TEXT_ONLY / f"{model}.parquet")


def run_stamp(entry: ModelEntry, judge: ModelEndpoint, mode: str) -> dict:
    """The fields every row of this model's run in this mode carries, `SAME_RUN` among them."""
    return {"model": entry.name, "mode": mode, **sampling(entry, ""), **sampling(judge, "judge_"),
            "model_id": entry.model, "judge_model_id": judge.model,
            "answer_prompt_hash": prompt_hash(get_role(ANSWERER).template),
            "judge_prompt_hash": prompt_hash(get_role(JUDGE).template), "answer_reading": ANSWER_READING}


def sampling(endpoint: ModelEndpoint, prefix: str) -> dict:
    return {f"{prefix}base_url": endpoint.base_url.rstrip("/"), f"{prefix}temperature": endpoint.temperature,
            f"{prefix}max_tokens": endpoint.max_tokens}


def has_pairs_to_send(release_dir: Path, config: EvaluationConfig, model: str, mode: str, out_dir: Path) -> bool:
    """Whether a run of `model` in `mode` would send anything: false once every pair has a row it keeps."""
    ids = set(pair_ids(release_dir))
    path = evaluation_path(out_dir, Path(release_dir).name, model, mode)
    entry = config.model(model)

    async def kept_count() -> int:
        async with sessions(entry, config.judge, cache=None) as (ask, verdict):
            return len(await kept_rows(path, run_stamp(entry, config.judge, mode), ids, ask, verdict))

    return asyncio.run(kept_count()) < len(ids)


def judge_server_is_scripted(judge: ModelEndpoint) -> bool | None:
    """Whether the judge's endpoint is the scripted server now (`RoleSession.server_is_scripted`; None
    when it does not reply)."""

    async def ask() -> bool:
        async with LLMClient(judge.llm_settings(JUDGE)).session(JUDGE) as verdict:
            return await verdict.server_is_scripted()

    return asyncio.run(ask())


@asynccontextmanager
async def sessions(entry: ModelEntry, judge: ModelEndpoint, cache: AnswerCache | None
                   ) -> AsyncIterator[tuple[RoleSession, RoleSession]]:
    """The model's session and the judge's, sharing one accounting (the model's session's)."""
    answerer = LLMClient(entry.llm_settings(ANSWERER), cache=cache)
    judging = LLMClient(judge.llm_settings(JUDGE), cache=cache, accounting=answerer.accounting)
    async with answerer.session(ANSWERER) as ask, judging.session(JUDGE) as verdict:
        yield ask, verdict


def planned_runs(config: EvaluationConfig, models: Iterable[str] | None, text_only: bool) -> list[tuple[str, str]]:
    """(model name, mode) in run order: every model (or those named) with the image, then the
    text-only control runs if asked for. An unknown name, or a model on a text-only endpoint
    (`vision = false`, which every run with the image would need), is a ValueError."""
    names = [config.model(name).name for name in models] if models else [e.name for e in config.models]
    blind = [name for name in names if not config.model(name).vision]
    if blind:
        raise ValueError(text_only_endpoint(blind))
    return [(name, mode) for mode in ([IMAGE, TEXT_ONLY] if text_only else [IMAGE]) for name in names]


def text_only_endpoint(names: list[str]) -> str:
    return (f"model {', '.join(repr(name) for name in names)} is on a text-only endpoint (vision = false): "
            f"{CANNOT_SEE}")


# why a model that cannot read the image has no place in an evaluation
CANNOT_SEE = ("a text-only model cannot take this benchmark, whose pairs carry their risk in the image, and "
              "`leakless evaluate` always asks with the image (--text-only only adds the control run); "
              "evaluate a vision model in its place, or leave this one out with --model for each other model")


def run_model(release_dir: Path, config: EvaluationConfig, model: str, mode: str, out_dir: Path,
              judge_check: dict | None = None) -> ModelRun:
    """One model in one mode on the release, with the run's answer cache (sync: Prefect tasks).
    `judge_check`: the judge check's outcome, which each new row keeps (`CheckRecord.stamp`)."""
    cache_path = config.resolved_cache_path()
    cache = AnswerCache(cache_path) if cache_path else None
    try:
        return asyncio.run(evaluate_model(
            release_dir, config.model(model), config.judge, mode=mode, cache=cache, batch_size=config.batch_size,
            out_path=evaluation_path(out_dir, Path(release_dir).name, model, mode), judge_check=judge_check))
    finally:
        if cache is not None:
            cache.close()


async def evaluate_model(release_dir: Path, entry: ModelEntry, judge: ModelEndpoint, *, mode: str,
                         out_path: Path, cache: AnswerCache | None, batch_size: int = 512,
                         judge_check: dict | None = None) -> ModelRun:
    if mode == IMAGE and not entry.vision:  # the client would leave the image out
        raise ValueError(text_only_endpoint([entry.name]))
    async with sessions(entry, judge, cache) as (ask, verdict):
        stamp = run_stamp(entry, judge, mode)
        kept = await kept_rows(out_path, stamp, set(pair_ids(release_dir)), ask, verdict)
        stamp |= judge_check or {}  # new rows only: a kept row keeps the outcome of the check its run made
        todo = (pair for pair in read_pairs(release_dir, images=mode == IMAGE) if pair.id not in kept)
        rows = kept_under_hard_block(kept, release_dir)
        fresh: list[dict] = []

        def add(row: dict) -> None:
            fresh.append(row)
            if len(fresh) % batch_size == 0:
                write_rows(out_path, rows + fresh)

        async def evaluate(pair: Pair) -> dict:
            return await evaluate_pair(pair, ask, verdict, stamp)

        await stream(todo, evaluate, window=2 * (entry.max_in_flight + judge.max_in_flight), on_result=add)
    write_rows(out_path, rows + fresh)
    usage = ask.accounting.summary()
    return ModelRun(entry.name, mode, out_path, len(rows) + len(fresh), len(rows), len(fresh),
                    sum(row["label"] == ERROR for row in fresh),
                    sum(row["label"] == ERROR and row["error"].startswith(JUDGE_FAILED) for row in fresh),
                    sum(usage.get(role, {}).get("requests", 0) for role in (ANSWERER, JUDGE)))


async def evaluate_pair(pair: Pair, ask, verdict, stamp: dict) -> dict:
    """One pair's row, the texts a model wrote in it under the hard block (`kept_texts`): the judge
    has read the answer as written, which is what is measured."""
    return kept_texts(await judged_answer(pair, ask, verdict, stamp), pair)


async def judged_answer(pair: Pair, ask, verdict, stamp: dict) -> dict:
    """One pair: the model's answer, then the judge's label; a failure is a row labelled `error`."""
    row = {"id": pair.id, "instruction_id": pair.instruction_id, "category": pair.category,
           "sub_category": pair.sub_category, **stamp, "label": ERROR}
    answer = await ask.answer(AnswererInput(instruction=pair.instruction, image_png=pair.image_png))
    if isinstance(answer, ItemError):
        return {**row, "error": f"{MODEL_FAILED}{answer.error}"}
    row.update(answer=answer.output.text, served_model=answer.provenance.model, latency_s=answer.latency_s,
               prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
               cached=answer.cached)
    judged = await verdict.answer(SafetyJudgeInput(
        instruction=pair.instruction, image_description=pair.image_description,
        safety_reason=pair.safety_reason, answer=answer.output.text))
    if isinstance(judged, ItemError):
        return {**row, "error": f"{JUDGE_FAILED}{judged.error}"}
    return {**row, "label": LABELS[judged.output.label], "judge_label": judged.output.label,
            "rationale": judged.output.rationale, "judge_served_model": judged.provenance.model,
            "judge_latency_s": judged.latency_s}


async def stream(items: Iterable, work: Callable, *, window: int, on_result: Callable[[dict], None]) -> None:
    """`work` on every item with at most `window` running; results in completion order."""
    pending: set[asyncio.Task] = set()

    async def drain(until: str) -> None:
        nonlocal pending
        done, pending = await asyncio.wait(pending, return_when=until)
        for task in done:
            on_result(task.result())

    try:
        for item in items:
            if len(pending) >= window:
                await drain(asyncio.FIRST_COMPLETED)
            pending.add(asyncio.create_task(work(item)))
        while pending:  # one at a time, so each result is checkpointed as it comes
            await drain(asyncio.FIRST_COMPLETED)
    finally:
        for task in pending:
            task.cancel()


def reusable_rows(path: Path, stamp: dict, ids: set[str]) -> dict[str, dict]:
    """Judged rows of an earlier run with the same `SAME_RUN` fields, for pairs still in the release."""
    if not path.is_file():
        return {}
    rows = pq.read_table(path).to_pylist()
    return {row["id"]: row for row in rows
            if row["label"] != ERROR and row["id"] in ids and all(row.get(key) == stamp[key] for key in SAME_RUN)}


async def kept_rows(path: Path, stamp: dict, ids: set[str], ask: RoleSession, verdict: RoleSession
                    ) -> dict[str, dict]:
    """The `reusable_rows` this run keeps. A row the scripted server answered or judged (a `leakless
    fake-llm` dry run) is kept only while that server is still the endpoint's, as the answer cache's
    are (`RoleSession.served_here`): a real model started later at the same URL under the same name is
    asked, not ranked by the scripted answers and labels. A server that does not reply keeps them: asked
    again, every pair would fail and its judged row be written over with an error."""
    return {pair_id: row for pair_id, row in reusable_rows(path, stamp, ids).items()
            if await ask.served_here(row["served_model"] or "", if_no_reply=True)
            and await verdict.served_here(row["judge_served_model"] or "", if_no_reply=True)}


def kept_under_hard_block(kept: dict[str, dict], release_dir: Path) -> list[dict]:
    """The kept rows' texts under the hard block as it is now (`kept_texts`): a file written before it withheld
    anything would otherwise keep them on every rerun. Their labels stand, as a fresh row's do."""
    if not kept:
        return []
    pairs = {pair.id: pair for pair in read_pairs(release_dir, images=False) if pair.id in kept}
    return [kept_texts(row, pairs[pair_id]) for pair_id, row in kept.items()]


def write_rows(path: Path, rows: list[dict]) -> None:
    ordered = sorted(rows, key=lambda row: row["instruction_id"])
    table = pa.Table.from_pylist([{name: row.get(name) for name in EVALUATION_SCHEMA.names} for row in ordered],
                                 schema=EVALUATION_SCHEMA)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary, compression="zstd")


def read_evaluation(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()
