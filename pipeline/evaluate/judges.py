"""Who labelled an evaluation's rows. A judge is the model id asked for, and whether the scripted
server answered for it: the scripted server's labels (`leakless fake-llm`, served as
`scripted-fake:<id>`) and a real model's under the same id are two judges, whose labels are never
ranked together. The names a real server gives its answers are one judge's: OpenAI's `gpt-4o`
answers as a dated snapshot, which changes between runs weeks apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.evaluate.runner import ERROR
from pipeline.llm.cache import SCRIPTED_MODEL_PREFIX

NO_JUDGE = "(not recorded)"


@dataclass(frozen=True)
class Judge:
    model_id: str
    scripted: bool = False
    served: tuple[str, ...] = field(default=(), compare=False)  # what its server said answered, where recorded

    @property
    def renamed(self) -> tuple[str, ...]:
        """The served names that are not the model id asked for."""
        return tuple(name for name in self.served if name != self.model_id)

    def __str__(self) -> str:
        return self.model_id + (f" (served as {', '.join(self.renamed)})" if self.renamed else "")


def judges_of(paths: list[Path]) -> dict[Judge, list[Path]]:
    """Each judge -> the files holding rows it labelled (`error` rows hold no judge's label)."""
    served: dict[tuple[str, bool], set[str]] = {}
    files: dict[tuple[str, bool], list[Path]] = {}
    for path in paths:
        table = pq.read_table(path, columns=["judge_model_id", "judge_served_model", "label"]).to_pylist()
        for row in table:
            if row["label"] == ERROR:
                continue
            name = row["judge_served_model"]
            key = (row["judge_model_id"] or NO_JUDGE, bool(name) and name.startswith(SCRIPTED_MODEL_PREFIX))
            served.setdefault(key, set()).update([name] if name else [])
            if path not in files.setdefault(key, []):
                files[key].append(path)
    return {Judge(*key, served=tuple(sorted(served[key]))): files[key] for key in sorted(files)}


def describe_judges(judges: dict[Judge, list[Path]], folder: Path, beside: str | None = None) -> str:
    """"gpt-4o (A.parquet, B.parquet); other (C.parquet)", and what the server said answered where a
    model id is shared, by two of them or with the judge `beside` them: "gpt-4o (A.parquet); gpt-4o
    (C.parquet), served as scripted-fake:gpt-4o"."""
    ids = [judge.model_id for judge in judges] + ([beside] if beside else [])
    described = []
    for judge, paths in sorted(judges.items(), key=lambda item: str(item[0])):
        names = f", served as {', '.join(judge.renamed)}" if ids.count(judge.model_id) > 1 and judge.renamed else ""
        described.append(f"{judge.model_id} ({', '.join(str(path.relative_to(folder)) for path in paths)}){names}")
    return "; ".join(described)


def the_judge(paths: list[Path], folder: Path) -> Judge:
    """The one judge of these files; a ValueError naming the files and judges when there are more."""
    judges = judges_of(paths)
    if len(judges) > 1:
        raise ValueError(f"the evaluations in {folder} were judged by {len(judges)} judge models, whose labels "
                         f"cannot be ranked together: {describe_judges(judges, Path(folder))}; re-evaluate them "
                         f"with one judge, or move the others' files away")
    return next(iter(judges), None) or Judge(configured_judge(paths))


def configured_judge(paths: list[Path]) -> str:
    """With no row labelled, the judge the rows were sent to (a judge that failed on every answer), else
    NO_JUDGE: the heading named none though every row did."""
    named = {row["judge_model_id"] for path in paths
             for row in pq.read_table(path, columns=["judge_model_id"]).to_pylist() if row["judge_model_id"]}
    return f"{named.pop()} (labelled no row)" if len(named) == 1 else NO_JUDGE
