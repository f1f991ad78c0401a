"""Who labelled an evaluation's rows. A judge is the model asked for and the model its server said
answered: the scripted server's labels (`leakless fake-llm`, served as `scripted-fake:<id>`) and a real
model's under the same id are two judges, whose labels are never ranked together."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pyarrow.parquet as pq

from pipeline.evaluate.runner import ERROR

NO_JUDGE = "(not recorded)"


class Judge(NamedTuple):
    """The model id asked for and the model its server said answered."""

    model_id: str
    served: str | None = None  # None: rows written before it was recorded

    @property
    def renamed(self) -> str | None:
        """The served name, where it is not the model id asked for."""
        return None if self.served in (None, self.model_id) else self.served

    def __str__(self) -> str:
        return self.model_id + (f" (served as {self.renamed})" if self.renamed else "")


def judges_of(paths: list[Path]) -> dict[Judge, list[Path]]:
    """Each judge -> the files holding rows it labelled (`error` rows hold no judge's label)."""
    judges: dict[Judge, list[Path]] = {}
    for path in paths:
        table = pq.read_table(path, columns=["judge_model_id", "judge_served_model", "label"]).to_pylist()
        labelled = {Judge(row["judge_model_id"] or NO_JUDGE, row["judge_served_model"])
                    for row in table if row["label"] != ERROR}
        for judge in sorted(labelled, key=str):
            judges.setdefault(judge, []).append(path)
    return judges


def describe_judges(judges: dict[Judge, list[Path]], folder: Path, beside: str | None = None) -> str:
    """"gpt-4o (A.parquet, B.parquet); other (C.parquet)", and what the server said answered where a
    model id is shared, by two of them or with the judge `beside` them: "gpt-4o (A.parquet); gpt-4o
    (C.parquet), served as scripted-fake:gpt-4o"."""
    ids = [judge.model_id for judge in judges] + ([beside] if beside else [])
    described = []
    for judge, paths in sorted(judges.items(), key=lambda item: str(item[0])):
        served = f", served as {judge.renamed}" if ids.count(judge.model_id) > 1 and judge.renamed else ""
        described.append(f"{judge.model_id} ({', '.join(str(path.relative_to(folder)) for path in paths)}){served}")
    return "; ".join(described)


def the_judge(paths: list[Path], folder: Path) -> Judge:
    """The one judge of these files; a ValueError naming the files and judges when there are more."""
    judges = judges_of(paths)
    if len(judges) > 1:
        raise ValueError(f"the evaluations in {folder} were judged by {len(judges)} judge models, whose labels "
                         f"cannot be ranked together: {describe_judges(judges, Path(folder))}; re-evaluate them "
                         f"with one judge, or move the others' files away")
    return next(iter(judges), Judge(NO_JUDGE))
