"""A new release version holding a subset of an earlier one (`leakless select`), each kept row
unchanged (same ids, values and image bytes) plus why it was kept (`selection_reason`).

Written into a temporary folder and renamed into place, like every release.

Each kept row is read by the hard block again, as `release --extend` reads its carried rows (the rules
are tightened after audits, so a row an older version shipped may be blocked now): a blocked row is
dropped with a `guardrail.<rule>` decision, counted in the manifest's `dropped`, and the card says the
selection's figures are over the pairs as chosen.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.llm.cache import SCRIPTED_MODEL_PREFIX
from pipeline.markdown_text import code_cell
from pipeline.records import Decision
from pipeline.release.card import render_card
from pipeline.release.schema import LATER_COLUMNS, META_SCHEMA, SELECTED_SCHEMA
from pipeline.release.integrity import check_release_unchanged
from pipeline.release.make import GUARDRAIL_STAGE, guardrail_pass
from pipeline.release.provenance import run_builds
from pipeline.release.versions import check_free, next_version, release_folder, release_lock, release_staging
from pipeline.release.writer import INDEX_FILE, ShardWriter, release_manifest, run_entries, seal
from pipeline.staging import filled_then_renamed
from pipeline.storage import atomic_write_text
from pipeline.writers.shard_reader import shard_paths
from pipeline.writers.tables import decisions_frame, write_frame


def write_subset_release(source: Path, reasons: dict[str, str], *, selection: dict, decisions=None,
                         max_shard_bytes: int = 500_000_000) -> Path:
    """`<name>-v<N+1>/` beside `source` with the rows whose id is in `reasons`; returns it.
    `selection` goes into the manifest (its `pairs` counting what shipped: `shipped_pairs`); `decisions`
    (a frame) into decisions.parquet."""
    source = Path(source)
    manifest = check_release_unchanged(source)  # a changed source would be sealed anew in the next version
    name, releases_dir = manifest["name"], source.parent
    with release_lock(releases_dir, name):  # as `release`: a second writer of the name is refused at once
        version = next_version(releases_dir, name)
        keep = pa.array(sorted(reasons), pa.string())
        target = check_free(release_folder(releases_dir, name, version))
        with filled_then_renamed(release_staging(releases_dir, name, version), target, check_free) as staging:
            writer = ShardWriter(staging / "data", max_shard_bytes, schema=SELECTED_SCHEMA)
            rows, blocks = [], []
            for shard in shard_paths(source):
                table = pq.read_table(shard)
                table = table.filter(pc.is_in(table["id"], value_set=keep))
                for later in LATER_COLUMNS:  # a release made before the column: not recorded, so null
                    if later not in table.column_names:
                        table = table.append_column(later, pa.nulls(table.num_rows, pa.string()))
                table, blocked = without_blocked(table)
                blocks += blocked
                if "selection_reason" in table.column_names:  # selecting from a selected release: the new reason
                    table = table.drop_columns(["selection_reason"])
                table = table.append_column("selection_reason", pa.array(
                    [reasons[pair_id] for pair_id in table["id"].to_pylist()], pa.string()))
                writer.write(table.select(SELECTED_SCHEMA.names).cast(SELECTED_SCHEMA))
                rows += table.select(META_SCHEMA.names).to_pylist()
            if blocks and not rows:
                raise ValueError(f"every selected pair of {source.name} is blocked by the guardrail "
                                 f"({drop_rules(blocks)}); nothing was released")
            shards = writer.finish()
            index = pq.read_table(source / INDEX_FILE)
            shipped = pa.array(sorted(row["id"] for row in rows), pa.string())
            pq.write_table(index.filter(pc.is_in(index["id"], value_set=shipped)), staging / INDEX_FILE,
                           compression="zstd")
            if decisions is not None or blocks:
                write_frame(with_blocks(decisions, blocks), staging / "decisions.parquet")
            carried = {key: manifest[key] for key in ("preview", "license", "runs", "final_filter", "options", "review")
                       if key in manifest}
            # every row is carried: its runs from the rows, what made them from the source
            carried["runs"] = run_entries(rows, [], version, run_builds([], manifest.get("runs") or []))
            new_manifest = release_manifest(
                rows, shards, name=name, version=version, **carried, extends=manifest["version"],
                carried_rows=len(rows),
                earlier_releases=[*manifest.get("earlier_releases", []), source.name],
                dropped={"not_selected": manifest["rows"] - len(rows) - len(blocks), "guardrail": len(blocks),
                         "final_filter": 0, "image_duplicate": 0, "query_duplicate": 0, "same_id": 0},
                selection=shipped_pairs(selection, len(rows), len(blocks)))
            new_manifest["schema"] = {field.name: str(field.type) for field in SELECTED_SCHEMA}
            card = render_card(new_manifest, rows) + selection_note(selection) + blocked_note(blocks)
            atomic_write_text(staging / "README.md", card)
            seal(staging, new_manifest)
        return target


def shipped_pairs(selection: dict, shipped: int, blocked: int) -> dict:
    """`selection` with its `pairs.selected` counting the pairs that shipped and, when the hard block
    dropped some, `pairs.chosen` the pairs as chosen (those the selection's rates and tau are over).
    A selection the hard block left whole is unchanged."""
    if not blocked or "pairs" not in selection:
        return selection
    return {**selection, "pairs": {**selection["pairs"], "selected": shipped, "chosen": shipped + blocked}}


def without_blocked(table: pa.Table) -> tuple[pa.Table, list[Decision]]:
    """The rows of `table` the hard block lets through, and a drop decision for each other one."""
    _, blocks = guardrail_pass(table.select(META_SCHEMA.names).to_pylist())
    if not blocks:
        return table, []
    blocked = pa.array([block.item_id for block in blocks], pa.string())
    return table.filter(pc.invert(pc.is_in(table["id"], value_set=blocked))), blocks


def with_blocks(decisions: pd.DataFrame | None, blocks: list[Decision]) -> pd.DataFrame:
    """The selection's decisions, then the guardrail's drops (`run_id` empty, as the selection's own)."""
    frames = [frame for frame in (decisions, decisions_frame(blocks, run_id="") if blocks else None)
              if frame is not None]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def drop_rules(blocks: list[Decision]) -> str:
    """'guardrail.private_person:street_address 1': the drops by reason code."""
    return codes_text(Counter(block.code for block in blocks))


def codes_text(codes: Counter) -> str:
    return ", ".join(f"{code} {count}" for code, count in codes.most_common())


def guardrail_drops_note(selected: Path) -> str | None:
    """'2 chosen pair(s) dropped by the guardrail (guardrail.private_person:street_address 2)', from a
    selected version's decisions.parquet, or None when the hard block dropped none of its chosen pairs."""
    path = Path(selected) / "decisions.parquet"
    if not path.is_file():
        return None
    decisions = pq.read_table(path, columns=["stage", "code"]).to_pylist()
    codes = Counter(decision["code"] for decision in decisions if decision["stage"] == GUARDRAIL_STAGE)
    if not codes:
        return None
    return f"{codes.total()} chosen pair(s) dropped by the guardrail ({codes_text(codes)})"


def blocked_note(blocks: list[Decision]) -> str:
    """The card's word on chosen pairs the hard block dropped: the selection's rates and Kendall's tau
    were computed before, over the pairs as chosen."""
    if not blocks:
        return ""
    return (f"\n{len(blocks)} chosen pair(s) were dropped by the guardrail's hard block ({drop_rules(blocks)}), "
            "which reads every kept row again as `release --extend` reads its carried rows; the selection's "
            "safe rates and Kendall's tau are over the pairs as chosen, these included.\n")


def selection_note(selection: dict) -> str:
    """The card's account of the selection, from the manifest's `selection`: what it kept, over which
    pairs, which models it left out, and whose labels chose the pairs (the scripted judge's make it a
    dry run, as the leaderboard says)."""
    source = selection["source"]
    parts = [f"This version keeps the pairs of {source} that best separate {len(selection['models'])} evaluated "
             f"models ({', '.join(selection['models'])}), at most {selection['per_sub_category']} per "
             f"sub-category; `selection_reason` says why each pair was kept.",
             pairs_selected_from(source, selection.get("pairs")), models_left_out(selection.get("left_out") or {}),
             judge_sentence(selection.get("judge"), selection.get("judge_served_models") or [],
                            selection.get("judge_check")),
             f"Kendall's tau between the models' safe rates on the full and the selected set: "
             f"{selection['kendall_tau']:.3f}."]
    return "\n## Selection\n\n" + " ".join(part for part in parts if part) + "\n"


def pairs_selected_from(source: str, pairs: dict | None) -> str:
    if not pairs:
        return ""
    if pairs["full"] == pairs["release"]:
        return f"It was chosen among all {pairs['release']} pairs of {source}, every model having judged each."
    return (f"It was chosen among only the {pairs['full']} of the {pairs['release']} pairs of {source} that every "
            f"model judged (`--common-pairs`); the other {pairs['release'] - pairs['full']} were not scored, and "
            f"the full-set rates and Kendall's tau are over those {pairs['full']} too.")


def models_left_out(left_out: dict[str, str]) -> str:
    if not left_out:
        return ""
    return "Models left out, with no judged row: " + "; ".join(
        f"{model} ({why})" for model, why in sorted(left_out.items())) + "."


def judge_sentence(judge: str | None, served: list[str], check: dict | None = None) -> str:
    """Names the judge whose labels chose the pairs, as the leaderboard does: "gpt-4o (served as ...)",
    and what its judge check said (`check`: the manifest's `selection.judge_check`; a selection made
    before it was kept has none)."""
    if not judge:
        return ""
    renamed = [name for name in served if name != judge]
    named = judge + (f" (served as {', '.join(renamed)})" if renamed else "")
    if any(name.startswith(SCRIPTED_MODEL_PREFIX) for name in served):
        return (f"**The labels that chose these pairs are a dry run's**: the judge {named} is the scripted "
                f"server of `leakless fake-llm`, not a model, so this selection says nothing about the models.")
    return f"The models' answers were labelled by the judge {named}." + check_sentence(check)


def check_sentence(check: dict | None) -> str:
    """The judge check's outcome on the card; the judge's own words as a code span, so none writes the card."""
    outcome, reason = (check or {}).get("outcome"), code_cell((check or {}).get("reason") or "")
    if outcome == "failed":
        return (f" **That judge failed the judge check**: it labelled answers whose labels are not in doubt "
                f"(`prompts/judge_check.toml`) wrongly ({reason}), and was used anyway with `--trust-judge`, by "
                f"`leakless evaluate` and by `leakless select`: the labels that chose these pairs, and this "
                f"selection, may mean nothing.")
    return {"passed": " It passed the judge check: it labelled a plain refusal and a plain harmful compliance "
                      "(`prompts/judge_check.toml`) rightly.",
            "incomplete": f" The judge check was not completed: the judge did not label every canned answer of "
                          f"`prompts/judge_check.toml` ({reason}), and mislabelled none it labelled.",
            "not_recorded": " Whether it passed the judge check was not recorded (evaluations made before "
                            "leakless kept its outcome)."}.get(outcome, "")
