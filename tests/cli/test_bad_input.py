"""Malformed input to every command: exit code 2, one line naming the problem, nothing written.

Each case runs the real CLI (`leakless ...`) in an empty folder holding only the
files the case creates, so "nothing half-written" means: the folder holds the
same files afterwards, and no `.*.tmp` leftover. Cases that reach a build fail
before the Prefect flow starts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command

VALID_ELEMENT = {"category": "Violent", "sub_category": "Weapon-Related Violence", "element": "machete",
                 "kind": "object", "description": "A person holding a machete in an overgrown lot.",
                 "synonyms": ["cane knife", "bush knife"], "broader": ["blade"]}
FINISHED_RUN = {"runs/r1/data/": None, "runs/r1/manifest.json": "{}"}  # what `review` and `release` take for a finished run
EXPORTED_RUN = {**FINISHED_RUN, "runs/r1/review/batches/": None}


def png() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (32, 32), (200, 30, 30))
    image.paste((30, 30, 200), (8, 8, 24, 24))  # a pool skips one flat colour as blank
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jsonl(*rows) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def pool(captions: str, **images: bytes) -> dict:
    return {"pool/captions.jsonl": captions, **{f"pool/{name}": data for name, data in images.items()}}


POOL_BACKEND = ["--set", "backends.images='pool'", "--set", "images.pool.folder='pool'"]
IMAGE_FIRST = [*POOL_BACKEND, "--set", "images.pool.image_first=true"]
ONE_PAIR = [{"query": "How do I use this?", "image_description": "A kitchen knife on a table."}]

# (id, arguments, files to create (None: a folder), a fragment the one-line message must hold)
CASES = [
    # -- build config -------------------------------------------------------------------------
    ("config-unknown-key", ["build", "-c", "c.toml"], {"c.toml": "[run]\nsizes = 2\n"}, "run.sizes: unknown key"),
    ("config-unknown-section", ["build", "-c", "c.toml"], {"c.toml": "[runn]\nsize = 2\n"}, "runn: unknown key"),
    ("config-wrong-type", ["build", "-c", "c.toml"], {"c.toml": "[run]\nsize = 'four'\n"}, "run.size: Input should be a valid integer"),
    ("config-missing-file", ["build", "-c", "absent.toml"], {}, "config file not found: absent.toml"),
    ("config-invalid-toml", ["build", "-c", "c.toml"], {"c.toml": "[run\nsize = \n"}, "c.toml: not valid TOML"),
    ("config-not-utf8", ["build", "-c", "c.toml"], {"c.toml": b"[run]\nsize = \xff\n"}, "c.toml: not valid TOML"),
    ("unknown-category", ["build", "--set", "run.categories=['Nope']"], {}, "unknown category 'Nope'"),
    ("unknown-sub-category", ["build", "--set", "run.sub_categories=['Nope']"], {}, "unknown sub-category 'Nope'"),
    ("override-without-equals", ["build", "--set", "run.size"], {}, "expected section.key=value"),
    ("llm-base-url-without-scheme", ["build", "--set", "backends.rewriter='llm'",
                                     "--set", "llm.endpoints.default.base_url='127.0.0.1:8000/v1'"], {},
     "override llm.endpoints.default.base_url: '127.0.0.1:8000/v1' is not an http(s) URL"),
    ("override-typo-beside-a-config", ["build", "-c", "b.toml", "--set", "leak_filter.treshold=0.4"],
     {"b.toml": "[run]\nsize = 1\n"}, "error: override leak_filter.treshold: unknown key"),
    ("override-section-typo-beside-a-config", ["build", "-c", "b.toml", "--set", "leak_filtr.threshold=0.4"],
     {"b.toml": "[run]\nsize = 1\n"}, "error: override leak_filtr: unknown key"),
    ("override-failing-a-section-check", ["build", "-c", "b.toml", "--set", "llm.roles.seed_writer.endpoint='nope'"],
     {"b.toml": "[run]\nsize = 1\n"},
     "error: b.toml with override llm.roles.seed_writer.endpoint: llm: role 'seed_writer' uses endpoint 'nope'"),
    ("config-typo-beside-an-override", ["build", "-c", "b.toml", "--set", "leak_filter.threshold=0.4"],
     {"b.toml": "[run]\nsiez = 1\n"}, "error: b.toml: run.siez: unknown key"),
    ("override-without-key", ["build", "--set", "=3"], {}, "expected section.key=value"),
    ("override-into-a-value", ["build", "--set", "run=3", "--set", "run.size=2"], {},
     "override 'run=3': run is a section, not a value"),
    ("batch-size-below-64", ["build", "--set", "run.batch_size=8"], {}, "run.batch_size: Input should be greater than or equal to 64"),
    ("threshold-above-1", ["build", "--set", "leak_filter.threshold=1.5"], {}, "leak_filter.threshold"),
    ("queries-per-seed-zero", ["build", "--set", "run.queries_per_seed=0"], {}, "run.queries_per_seed"),
    ("unknown-backend", ["build", "--set", "backends.rewriter='gpt'"], {}, "backends.rewriter: Input should be 'rules' or 'llm'"),
    ("unknown-runner", ["build", "--set", "runner.kind='mpi'"], {}, "runner.kind"),
    ("pool-backend-without-section", ["build", "--set", "backends.images='pool'"], {}, "needs an [images.pool] section"),
    ("pool-unknown-default-category", ["build", *IMAGE_FIRST, "--set", "images.pool.default_category='Violence'"],
     {"pool/": None}, "unknown category 'Violence'"),
    ("pool-unknown-default-sub-category", ["build", *IMAGE_FIRST, "--set", "images.pool.default_sub_category='Knives'"],
     {"pool/": None}, "unknown sub-category 'Knives'"),
    ("image-first-without-pool-backend", ["build", "--set", "images.pool.folder='pool'", "--set", "images.pool.image_first=true"],
     {"pool/": None}, "image_first needs backends.images = 'pool'"),
    ("llm-role-unknown-endpoint", ["build", "--set", "llm.roles.seed_writer.endpoint='nope'"], {}, "uses endpoint 'nope'"),
    ("llm-api-key-missing", ["build", "--set", "backends.rewriter='llm'"], {}, "OPENAI_API_KEY is not set"),
    ("llm-api-key-missing-for-endpoint", ["build", "-c", "c.toml"],
     {"c.toml": "[backends]\nvsil_judge = 'llm'\n[llm.endpoints.default]\n[llm.endpoints.local]\nbase_url = 'http://127.0.0.1:9/v1'\n"
                "api_key_env = 'LEAKLESS_TEST_ABSENT_KEY'\n[llm.roles.vsil_judge]\nendpoint = 'local'\n"},
     "LEAKLESS_TEST_ABSENT_KEY is not set"),
    ("llm-cache-under-a-file", ["build", "--set", "backends.rewriter='llm'", "--set", "llm.cache_path='taken/llm.sqlite'"],
     {"taken": "a file where the cache folder should be"}, "the LLM answer cache taken/llm.sqlite cannot be written: taken is not a folder"),
    ("llm-cache-is-a-folder", ["build", "--set", "backends.rewriter='llm'", "--set", "llm.cache_path='cache'"],
     {"cache": None}, "the LLM answer cache cache cannot be written: cache is a folder"),
    ("size-negative", ["build", "--size", "-1"], {}, "run.size: Input should be greater than or equal to 1"),
    ("run-id-escapes", ["build", "--run-id", "../x"], {}, "invalid run id '../x'"),
    ("run-id-hidden", ["build", "--run-id", ".x"], {}, "invalid run id '.x'"),
    # -- element library ------------------------------------------------------------------------
    ("elements-file-missing", ["build", "--set", "run.elements_file='absent.jsonl'"], {}, "file not found: absent.jsonl"),
    ("elements-invalid-json", ["build", "--set", "run.elements_file='e.jsonl'"],
     {"e.jsonl": "{not json\n"}, "e.jsonl:1: not a valid element"),
    ("elements-unknown-sub-category", ["build", "--set", "run.elements_file='e.jsonl'"],
     {"e.jsonl": jsonl({**VALID_ELEMENT, "sub_category": "Knitting"})}, "e.jsonl:1: unknown category/sub-category"),
    ("elements-missing-field", ["build", "--set", "run.elements_file='e.jsonl'"],
     {"e.jsonl": jsonl({k: v for k, v in VALID_ELEMENT.items() if k != "element"})}, "e.jsonl:1: not a valid element"),
    ("elements-empty", ["build", "--set", "run.elements_file='e.jsonl'"], {"e.jsonl": "\n"}, "e.jsonl: no elements"),
    ("elements-not-utf8", ["build", "--set", "run.elements_file='e.jsonl'"], {"e.jsonl": b"\xff\xfe{}\n"}, "e.jsonl"),
    ("config-selects-no-seeds", ["build", "--set", "run.elements_file='e.jsonl'", "--set", "run.categories=['Privacy']"],
     {"e.jsonl": jsonl(VALID_ELEMENT)}, "the config selects no seeds"),
    # -- image pools ----------------------------------------------------------------------------
    ("pool-folder-missing", ["build", *POOL_BACKEND], {}, "pool folder not found: pool"),
    ("pool-captions-missing-column", ["build", *IMAGE_FIRST],
     pool(jsonl({"file": "a.png", "text": "a red square"}), **{"a.png": png()}), "lacks column(s) caption"),
    ("pool-captions-not-json", ["build", *IMAGE_FIRST], pool("{{{ not json\n", **{"a.png": png()}), "captions.jsonl"),
    ("pool-captions-file-missing", ["build", *POOL_BACKEND, "--set", "images.pool.captions_file='absent.csv'"],
     {"pool/a.png": png()}, "absent.csv"),
    ("pool-no-usable-images", ["build", *POOL_BACKEND],
     pool(jsonl({"file": "a.png", "caption": "a red square"}), **{"a.png": b"\x89PNG garbage"}), "has no usable images"),
    # -- external benchmark files (audit / rewrite / eval-detector) -----------------------------
    ("audit-missing-file", ["audit", "absent.json"], {}, "absent.json: no such file"),
    ("audit-unknown-extension", ["audit", "data.txt"], {"data.txt": "hello"}, "unknown format .txt"),
    ("audit-no-query-field", ["audit", "data.json"], {"data.json": json.dumps([{"image_description": "x", "foo": 1}])},
     "no query field found"),
    ("audit-named-field-absent", ["audit", "data.json", "--query-field", "nope"], {"data.json": json.dumps(ONE_PAIR)},
     "field 'nope' not in the file"),
    ("audit-empty-list", ["audit", "data.json"], {"data.json": "[]"}, "data.json: no rows"),
    ("audit-not-a-list", ["audit", "data.json"], {"data.json": '{"rows": 3}'}, "expected a list of objects"),
    ("audit-list-of-scalars", ["audit", "data.json"], {"data.json": "[1, 2]"}, "expected a list of objects"),
    ("audit-invalid-json", ["audit", "data.json"], {"data.json": "[{"}, "data.json: cannot read"),
    ("audit-invalid-jsonl-line-strict", ["audit", "data.jsonl", "--strict"], {"data.jsonl": jsonl(*ONE_PAIR) + "\noops\n"},
     "data.jsonl: line 3: not valid JSON"),
    ("audit-unreadable-csv", ["audit", "data.csv"], {"data.csv": b"query,image_description\n\xff\xfe,\x00\n"},
     "data.csv: no row could be audited (1 rejected; first: line 2: not UTF-8 text)"),
    ("audit-corrupt-parquet", ["audit", "data.parquet"], {"data.parquet": b"PAR1 not really"}, "data.parquet: cannot read"),
    ("audit-row-without-query", ["audit", "data.json"],
     {"data.json": json.dumps([{"query": 3, "image_description": "x"}])}, "row 1: `query` is a number (3), not text"),
    ("audit-out-folder-missing", ["audit", "data.json", "--out", "absent/out.parquet"], {"data.json": json.dumps(ONE_PAIR)},
     "absent: no such folder"),
    ("eval-without-label", ["eval-detector", "data.json"], {"data.json": json.dumps(ONE_PAIR)}, "no label field"),
    ("eval-label-not-binary", ["eval-detector", "data.json"], {"data.json": json.dumps([{**ONE_PAIR[0], "label": "maybe"}])},
     "row 1: `label` is not 0 or 1"),
    ("eval-label-out-of-range", ["eval-detector", "data.json"], {"data.json": json.dumps([{**ONE_PAIR[0], "label": 7}])},
     "row 1: `label` is not 0 or 1"),
    ("rewrite-missing-file", ["rewrite", "absent.csv"], {}, "absent.csv: no such file"),
    ("rewrite-no-description", ["rewrite", "data.json"], {"data.json": json.dumps([{"query": "x"}])}, "no image_description field"),
    ("rewrite-bad-config", ["rewrite", "data.json", "--config", "c.toml"],
     {"data.json": json.dumps(ONE_PAIR), "c.toml": "[backends]\nrewriter = 'gpt'\n"}, "backends.rewriter"),
    ("rewrite-llm-api-key-missing", ["rewrite", "data.json", "--config", "c.toml"],
     {"data.json": json.dumps(ONE_PAIR), "c.toml": "[backends]\nrewriter = 'llm'\n"}, "OPENAI_API_KEY is not set"),
    ("rewrite-out-folder-missing", ["rewrite", "data.json", "--out", "absent/out.parquet"], {"data.json": json.dumps(ONE_PAIR)},
     "absent: no such folder"),
    # -- review ---------------------------------------------------------------------------------
    ("review-import-missing-run", ["review", "import", "r9", "--runs-dir", "runs"], {}, "no run r9 under runs"),
    ("review-import-not-exported", ["review", "import", "r1", "--runs-dir", "runs"], FINISHED_RUN, "not exported for review"),
    ("review-status-not-exported", ["review", "status", "r1", "--runs-dir", "runs"], FINISHED_RUN, "not exported for review"),
    ("review-export-bad-overlap", ["review", "export", "r1", "--runs-dir", "runs", "--overlap", "2"], FINISHED_RUN,
     "--overlap must be between 0 and 1"),
    ("labelstudio-import-not-json", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": "[{"}, "export.json: not JSON"),
    ("labelstudio-import-not-a-list", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": '{"tasks": []}'}, "expected a Label Studio JSON export"),
    ("labelstudio-import-list-of-scalars", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": "[1, 2]"}, "expected a Label Studio JSON export"),
    ("labelstudio-import-foreign-annotation", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": json.dumps([{"id": 1, "annotations": [{"result": []}]}])}, "task 1 of the list is not one of ours"),
    ("labelstudio-import-foreign-task", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": '[{"bad": 1}]'}, "task 1 of the list is not one of ours"),
    ("labelstudio-import-empty", ["review", "labelstudio-import", "r1", "export.json", "--runs-dir", "runs"],
     {**EXPORTED_RUN, "export.json": "[]"}, "a non-empty list of tasks"),
    ("labelstudio-export-bad-prefill", ["review", "labelstudio-export", "r1", "--runs-dir", "runs", "--prefill", "accept"],
     EXPORTED_RUN, "--prefill 'accept': choose none or model"),
    ("labelstudio-export-not-exported", ["review", "labelstudio-export", "r1", "--runs-dir", "runs"],
     FINISHED_RUN, "run `leakless review export` first"),
    ("labelstudio-import-missing-file", ["review", "labelstudio-import", "r1", "absent.json", "--runs-dir", "runs"],
     EXPORTED_RUN, "absent.json"),
    # -- release --------------------------------------------------------------------------------
    ("release-missing-run", ["release", "r9", "--name", "bench", "--runs-dir", "runs"], {}, "no run r9 under runs"),
    # killed while finishing: shards there, no manifest (written last)
    ("release-unfinished-run", ["release", "r9", "--name", "bench", "--runs-dir", "runs"],
     {"runs/r9/data/train-00000.parquet": b"PAR1", "runs/r9/ledger.parquet": b"PAR1"}, "no manifest.json"),
    ("release-bad-name", ["release", "r1", "--name", "../bench", "--runs-dir", "runs", "--releases-dir", "releases"],
     FINISHED_RUN, "bad release name '../bench'"),
    ("release-versioned-name", ["release", "r1", "--name", "bench-v2", "--runs-dir", "runs", "--releases-dir", "releases"],
     FINISHED_RUN, "bad release name 'bench-v2'"),
    ("verify-not-a-release", ["verify", "runs"], FINISHED_RUN, "is not a release (no manifest.json)"),
    ("verify-manifest-not-json", ["verify", "rel"], {"rel/manifest.json": "{"}, "rel/manifest.json: not a release manifest"),
    ("export-vlsbench-not-a-release", ["export-vlsbench", "runs", "out"], FINISHED_RUN, "is not a release"),
    # -- other commands -------------------------------------------------------------------------
    ("cache-stats-missing", ["cache", "stats", "--path", "absent.sqlite"], {}, "no LLM cache at absent.sqlite"),
    ("cache-stats-not-sqlite", ["cache", "stats", "--path", "c.sqlite"], {"c.sqlite": "not a database" * 100}, "not an LLM cache"),
    ("cache-clear-unknown-role", ["cache", "clear", "--role", "poet"], {}, "unknown role 'poet'"),
    ("fake-llm-bad-faults", ["fake-llm", "--faults", "404"], {}, "bad fault plan"),
    ("serve-missing-config", ["serve", "-c", "absent.toml"], {}, "serve config not found"),
    ("serve-without-prefect-server", ["serve", "-c", "s.toml"],
     {"s.toml": "[[schedules]]\nname = 'nightly'\ncron = '0 3 * * *'\n"}, "PREFECT_API_URL is not set"),
    ("review-tokens-unknown-batch", ["review", "tokens", "add", "ann", "--batches", "nope", "--runs-dir", "runs"],
     FINISHED_RUN, "no exported batch nope"),
    ("release-extend-without-earlier", ["release", "r1", "--name", "bench", "--extend", "--runs-dir", "runs",
                                        "--releases-dir", "releases"], FINISHED_RUN, "no earlier release of 'bench'"),
    ("release-option-out-of-range", ["release", "r1", "--name", "bench", "--query-threshold", "5", "--runs-dir", "runs",
                                     "--releases-dir", "releases"], FINISHED_RUN, "query_threshold: Input should be less than or equal to 1"),
    ("release-unreviewed-run", ["release", "r1", "--name", "bench", "--runs-dir", "runs", "--releases-dir", "releases"],
     FINISHED_RUN, "run `leakless review import r1` first"),
    ("serve-config-typo", ["serve", "-c", "s.toml"],
     {"s.toml": "[[schedules]]\nname = 'nightly'\ncron = '0 3 * * *'\nconfig = 'b.toml'\n",
      "b.toml": "[run]\nsiez = 6\n"}, "schedule 'nightly': b.toml: run.siez: unknown key"),
    ("serve-override-typo", ["serve", "-c", "s.toml"],
     {"s.toml": "[[schedules]]\nname = 'nightly'\ncron = '0 3 * * *'\noverrides = ['leak_filter.treshold=0.4']\n"},
     "schedule 'nightly': override leak_filter.treshold: unknown key"),
    ("serve-two-schedules-kinds", ["serve", "-c", "s.toml"],
     {"s.toml": "[[schedules]]\nname = 'nightly'\ncron = '0 3 * * *'\ninterval_seconds = 60\n"}, "give exactly one of cron"),
]

# click's own usage errors: exit code 2 with click's usage message (several lines, by design)
USAGE_ERRORS = [
    ("unknown-option", ["build", "--bogus"], "No such option"),
    ("size-not-a-number", ["build", "--size", "many"], "Invalid value"),
    ("unknown-command", ["buld"], "No such command"),
    ("missing-argument", ["audit"], "Missing argument"),
    ("max-attempts-out-of-range", ["rewrite", "x.json", "--max-attempts", "0"], "Invalid value"),
    ("eval-detector-threshold-out-of-range", ["eval-detector", "x.jsonl", "--threshold", "1.5"], "Invalid value for '--threshold'"),
    ("release-shard-size-zero", ["release", "r1", "--name", "bench", "--max-shard-mb", "0"], "Invalid value for '--max-shard-mb'"),
]


def create(folder: Path, files: dict) -> None:
    for relative, content in files.items():
        path = folder / relative
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def snapshot(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("LEAKLESS_TEST_ABSENT_KEY", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))
    return tmp_path


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "files", "fragment"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workdir, args, files, fragment):
    create(workdir, files)
    before = snapshot(workdir)
    result = CliRunner().invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert result.stdout == "", "the error goes to stderr"
    assert snapshot(workdir) == before
    assert not [path for path in before if path.endswith(".tmp")]


@pytest.mark.parametrize(("args", "fragment"), [case[1:] for case in USAGE_ERRORS], ids=[case[0] for case in USAGE_ERRORS])
def test_usage_errors_exit_2(workdir, args, fragment):
    before = snapshot(workdir)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert fragment in result.output and "Traceback" not in result.output
    assert snapshot(workdir) == before


@pytest.mark.parametrize(("schedule", "fragment"), [
    ("cron = '61 3 * * *'", "error: schedule 'nightly': cron: Invalid cron string"),
    ("cron = '0 3 * * *'", "error: cannot reach the Prefect server at http://127.0.0.1:9/api"),
])
def test_serve_errors_past_the_config_are_one_line_too(workdir, monkeypatch, schedule, fragment):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on port 9
    create(workdir, {"s.toml": f"[[schedules]]\nname = 'nightly'\n{schedule}\n"})
    result = CliRunner().invoke(app, ["serve", "-c", "s.toml"])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output
