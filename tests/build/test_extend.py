"""Extend: the deficit against a release and pending runs, which seeds fill it, and the real
flow building only those, then nothing once the targets are met."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import run_lock
from pipeline.cli.app import app
from pipeline.config import ConfigError, load_config
from pipeline.extend import extension_run_id, load_targets, plan_extension, plan_from_files, seed_id
from pipeline.extend_inventory import take_inventory
from pipeline.rundir import RunDir
from pipeline.taxonomy import load_elements

WEAPONS = "Weapon-Related Violence"
CYBER = "Cybercrime"
LIBRARY = {sub: [e for e in load_elements() if e.sub_category == sub] for sub in (WEAPONS, CYBER)}


def pair(pair_id: str, element_index: int, sub: str = WEAPONS) -> dict:
    element = LIBRARY[sub][element_index]
    return {"id": pair_id, "seed_id": seed_id(element), "category": element.category, "sub_category": sub}


def write_shard(folder: Path, rows: list[dict], **extra) -> None:
    (folder / "data").mkdir(parents=True)
    pd.DataFrame([{**row, **extra} for row in rows]).to_parquet(folder / "data" / "train-00000-of-00001.parquet")
    (folder / "manifest.json").write_text(json.dumps({"rows": len(rows)}))


def fake_release(releases: Path, name: str, version: int, rows: list[dict], considered: list[str] = ()) -> None:
    folder = releases / f"{name}-v{version}"
    write_shard(folder, rows, review_state="accepted")
    item_ids = [row["id"] for row in rows] + list(considered)
    pd.DataFrame({"item_id": item_ids, "verdict": "keep"}).to_parquet(folder / "decisions.parquet")


def fake_run(runs: Path, run_id: str, rows: list[dict], accepted_pairs: int,
             review: dict[str, str] | None = None) -> None:
    folder = runs / run_id
    write_shard(folder, rows, run_id=run_id)
    seeds = sorted({row["seed_id"] for row in rows})
    per_seed = [accepted_pairs // len(seeds)] * len(seeds)
    pd.DataFrame({"seed_id": seeds, "state": "accepted", "accepted_pairs": per_seed}).to_parquet(
        folder / "ledger.parquet")
    if review is not None:
        (folder / "review").mkdir()
        pd.DataFrame({"id": list(review), "review_state": list(review.values())}).to_parquet(
            folder / "review" / "decisions.parquet")


def write_targets(path: Path, runs: Path, releases: Path, targets: dict[str, int], **extra) -> Path:
    lines = ["[extend]", 'name = "bench"', f"runs_dir = '{runs}'", f"releases_dir = '{releases}'"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    lines += ["[extend.targets]"] + [f'"{sub}" = {count}' for sub, count in targets.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def world(tmp_path):
    """v1 and v2 of `bench`; a reviewed run partly released, an unreviewed run, a killed run."""
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    fake_release(releases, "bench", 1, [pair("w0", 0), pair("w1", 0)])
    # v2 carries v1 and adds a0; it considered a5 and dropped it (dedup), so a5 is settled
    fake_release(releases, "bench", 2, [pair("w0", 0), pair("w1", 0), pair("a0", 1), pair("a1", 1)],
                 considered=["a5"])
    fake_release(releases, "other", 1, [pair("o0", 4)])  # another name: its seed is used, its pairs don't count
    fake_run(runs, "reviewed", [pair("a0", 1), pair("a1", 1), pair("a2", 2), pair("a3", 2), pair("a4", 2),
                                pair("a5", 2)], accepted_pairs=6,
             review={"a0": "accepted", "a1": "accepted", "a2": "accepted", "a3": "rejected", "a4": "unreviewed"})
    fake_run(runs, "fresh", [pair("b0", 3), pair("b1", 3), pair("c0", 0, CYBER)], accepted_pairs=2)
    (runs / "killed" / "data").mkdir(parents=True)  # no manifest: not finished, nothing pending
    pd.DataFrame([pair("k0", 19)]).to_parquet(runs / "killed" / "data" / "train-00000-of-00001.parquet")
    return tmp_path, runs, releases


def test_deficit_counts_latest_release_and_pending_pairs(world):
    tmp_path, runs, releases = world
    inventory = take_inventory(runs, releases, "bench")
    assert inventory.released == {WEAPONS: 4}  # the latest version only, not v1 + v2
    # pending: a2 (accepted), a4 (unreviewed), b0, b1 (no review); not a3 (rejected), a5 (considered by v2),
    # a0/a1 (released), k0 (killed run)
    assert inventory.pending == {WEAPONS: 4, CYBER: 1}
    assert inventory.used_seeds == {seed_id(LIBRARY[WEAPONS][i]) for i in (0, 1, 2, 3, 4)} | {
        seed_id(LIBRARY[CYBER][0])}
    targets = load_targets(write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 10, CYBER: 3}))
    plan = plan_extension(targets, load_config(), inventory)
    assert plan.pairs_per_seed == 2.0  # the ledgers' yield: 8 accepted pairs from 4 seeds
    rows = {row.sub_category: row for row in plan.rows}
    assert list(rows) == [WEAPONS, CYBER]
    weapons = rows[WEAPONS]
    assert (weapons.target, weapons.released, weapons.pending, weapons.missing) == (10, 4, 4, 2)
    assert (rows[CYBER].released, rows[CYBER].pending, rows[CYBER].missing) == (0, 1, 2)


def test_a_pair_pending_in_two_runs_counts_once(world):
    """A nightly `leakless build` gets a new run id but builds the same seeds, so the same pair ids."""
    _, runs, releases = world
    fake_run(runs, "fresh-again", [pair("b0", 3), pair("b1", 3), pair("c0", 0, CYBER)], accepted_pairs=2)
    assert take_inventory(runs, releases, "bench").pending == {WEAPONS: 4, CYBER: 1}


def test_elements_skip_every_used_seed_in_library_order(world):
    tmp_path, runs, releases = world
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 12, CYBER: 3, "default": 0})
    _, _, plan = plan_from_files(path)
    rows = {row.sub_category: row for row in plan.rows}
    assert len(rows) == 19 and sum(row.missing for row in plan.rows) == 6
    # weapons 0-3 are in runs' ledgers or the release, 4 in the `other` release: the first unused are 5, 6
    assert [e.element for e in rows[WEAPONS].elements] == [e.element for e in LIBRARY[WEAPONS][5:7]]
    assert [e.element for e in rows[CYBER].elements] == [LIBRARY[CYBER][1].element]
    assert rows[WEAPONS].unused == 15 and not rows[WEAPONS].note


def test_an_exhausted_library_is_a_note_not_an_error(world):
    tmp_path, runs, releases = world
    library = tmp_path / "small.jsonl"
    library.write_text("".join(e.model_dump_json() + "\n" for e in LIBRARY[WEAPONS][4:6]))
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 20},
                         overrides=[f"run.elements_file='{library}'"])
    _, _, plan = plan_from_files(path)
    (row,) = plan.rows
    assert row.missing == 12 and row.seeds_wanted == 6 and row.unused == 1
    assert [e.element for e in row.elements] == [LIBRARY[WEAPONS][5].element]
    assert row.note == ("library exhausted: 1 of 6 seeds available; growing more needs an element writer "
                        "(backends.element_writer = 'llm')")


def test_dry_run_prints_the_table_and_builds_nothing(world):
    tmp_path, runs, releases = world
    path = write_targets(tmp_path / "t.toml", runs, releases, {CYBER: 3})
    before = sorted(runs.iterdir())
    result = CliRunner().invoke(app, ["extend", "--targets", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if CYBER in line]
    assert line.replace("│", " ").split()[1:7] == ["3", "0", "1", "2", "1", "19"]
    assert sorted(runs.iterdir()) == before


def test_a_run_killed_after_its_ledger_counts_nothing_and_is_planned_again(tmp_path):
    """The ledger is written before the shards and the manifest: a run killed in between held used seeds
    but no pending pairs, so the next extend chose other seeds into a new run and never resumed it."""
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 4})
    _, config, before = plan_from_files(path)
    fake_run(runs, extension_run_id(before, config), [pair("p0", 0), pair("p1", 0), pair("p2", 1)],
             accepted_pairs=3)
    (runs / extension_run_id(before, config) / "manifest.json").unlink()  # killed before its manifest

    inventory = take_inventory(runs, releases, "bench")
    assert (inventory.used_seeds, inventory.seeds_built, inventory.pairs_built) == (set(), 0, 0)
    assert not inventory.pending
    _, _, after = plan_from_files(path)
    assert after.elements == before.elements and extension_run_id(after, config) == extension_run_id(before, config)


@pytest.mark.parametrize("body, message", [
    ('name = "bench"\n[targets]\ndefault = true\n', "targets.default: Input should be a valid integer"),
    ('name = "bench"\n[targets]\ndefault = "3"\n', "targets.default: Input should be a valid integer"),
    ('extend = "x"\n', "extend: should be a table"),
    ('name = "bench"\nruns_dir = "a-file"\n[targets]\ndefault = 1\n', "runs_dir: a-file is not a folder"),
    ('name = "bench"\nreleases_dir = "a-file/releases"\n[targets]\ndefault = 1\n',
     "releases_dir: a-file is not a folder"),
    ('name = "bench"\n[targets]\n"Cyber Crime" = 3\n', "targets: unknown sub-category 'Cyber Crime'"),
    ('name = "bench"\nsize = 3\n[targets]\ndefault = 3\n', "size: unknown key"),
    ('name = "bench"\n[targets]\ndefault = -1\n', "targets: 'default': a target is a count of pairs, >= 0"),
    ('name = "bench-v2"\n[targets]\ndefault = 1\n', "bad release name 'bench-v2'"),
    ('[targets]\ndefault = 1\n', "name: Field required"),
    ('name = "bench\n', "not valid TOML"),
])
def test_bad_targets_file_is_one_line_and_exit_2(tmp_path, monkeypatch, body, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "targets.toml"
    path.write_text(body)
    result = CliRunner().invoke(app, ["extend", "--targets", str(path), "--dry-run"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    with pytest.raises(ConfigError):
        load_targets(path)


def test_missing_targets_file_and_image_first_config_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["extend", "--targets", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "targets file not found" in result.stderr
    path = write_targets(tmp_path / "t.toml", tmp_path / "runs", tmp_path / "rel", {CYBER: 1},
                         overrides=["backends.images='pool'", f"images.pool.folder='{tmp_path}'",
                                    "images.pool.image_first=true"])
    result = CliRunner().invoke(app, ["extend", "--targets", str(path)])
    assert result.exit_code == 2 and "element-first" in result.stderr


def build_runs() -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return client.count_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["leakless-build"])))


@pytest.mark.slow
def test_extend_builds_the_missing_seeds_then_nothing(prefect_harness, tmp_path):
    from flows.extend import extend_flow

    runs, releases = tmp_path / "runs", tmp_path / "releases"
    fake_release(releases, "bench", 1, [pair("w0", 19)])  # the last library element is already released
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 5}, overrides=["run.batch_size=64"])
    builds = build_runs()

    first = extend_flow(str(path))
    assert first["missing"] == 4 and first["planned_seeds"] == 2  # ceil(4 / 3 queries per seed)
    run_dir = Path(first["run_dir"])
    assert [p.name for p in runs.iterdir()] == [first["run_id"]]
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert list(ledger["seed_id"]) == [seed_id(e) for e in LIBRARY[WEAPONS][:2]]
    shards = pd.read_parquet(run_dir / "data")
    assert first["pairs_added"] == len(shards) == ledger["accepted_pairs"].sum()
    assert set(shards["sub_category"]) == {WEAPONS}
    assert first["pairs_added"] >= 4, "the offline build of the first two weapons gives 4 pairs"
    assert build_runs() == builds + 1

    # killed after its ledger, before its manifest: the next extend resumes the same run
    (run_dir / "manifest.json").unlink()
    resumed = extend_flow(str(path))
    assert (resumed["run_id"], resumed["pairs_added"]) == (first["run_id"], first["pairs_added"])
    assert [p.name for p in runs.iterdir()] == [first["run_id"]]
    assert build_runs() == builds + 2

    second = extend_flow(str(path))
    assert second == {"name": "bench", "missing": 0, "planned_seeds": 0, "elements_grown": 0, "run_id": None,
                      "pairs_added": 0}
    assert [p.name for p in runs.iterdir()] == [first["run_id"]]
    assert build_runs() == builds + 2

    # a higher target picks up after the seeds just built
    (tmp_path / "t.toml").write_text(path.read_text().replace("= 5", f"= {first['pairs_added'] + 2}"))
    _, _, plan = plan_from_files(path)
    assert [e.element for e in plan.elements] == [LIBRARY[WEAPONS][2].element]


def test_a_served_extend_of_a_run_another_process_builds_fails_in_one_line(prefect_harness, tmp_path):
    """A served extend (no CLI around it) built a run that a `leakless extend` of the same targets was
    building: two processes writing one run folder."""
    from flows.extend import extend_flow

    runs, releases = tmp_path / "runs", tmp_path / "releases"
    fake_release(releases, "bench", 1, [pair("w0", 19)])
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 5}, overrides=["run.batch_size=64"])
    _, config, plan = plan_from_files(path)
    run = RunDir(runs, extension_run_id(plan, config, runs))
    with run_lock.held(run):  # the `leakless extend` still going
        state = extend_flow(str(path), return_state=True)
    assert state.is_failed()
    assert state.message.startswith(f"run {run.run_id} is being built by another process (pid ")
    assert [p.name for p in run.path.iterdir()] == [".lock"]


def test_leakless_extend_of_a_run_another_process_builds_is_refused_before_the_server_starts(tmp_path,
                                                                                             monkeypatch):
    import pipeline.prefect_server

    runs, releases = tmp_path / "runs", tmp_path / "releases"
    fake_release(releases, "bench", 1, [pair("w0", 19)])
    path = write_targets(tmp_path / "t.toml", runs, releases, {WEAPONS: 5})
    _, config, plan = plan_from_files(path)
    run = RunDir(runs, extension_run_id(plan, config, runs))
    monkeypatch.setattr(pipeline.prefect_server, "prefect_api", lambda: pytest.fail("the server started"))
    with run_lock.held(run):
        result = CliRunner().invoke(app, ["extend", "--targets", str(path), "--no-progress"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: run {run.run_id} is being built by another process (pid {os.getpid()}): "
                      "wait for it to end"]


def test_a_targets_name_with_no_release_beside_others_is_a_note(world):
    """A typo in a nightly targets file ("benhc") planned a second benchmark, every released pair pending."""
    tmp_path, runs, releases = world
    right = write_targets(tmp_path / "right.toml", runs, releases, {WEAPONS: 9})
    typo = tmp_path / "typo.toml"
    typo.write_text(right.read_text().replace('name = "bench"', 'name = "benhc"'))
    result = CliRunner().invoke(app, ["extend", "--targets", str(typo), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (f"note: no release of benhc in {releases} yet (it holds bench, other): every finished run's pairs "
            "count as pending for benhc; check the targets' name") in " ".join(result.stderr.split())
    assert "no release of" not in CliRunner().invoke(app, ["extend", "--targets", str(right), "--dry-run"]).stderr
