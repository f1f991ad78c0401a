"""Checks of the prompt files a build reads, made before any work: a role's template that does not
compile or render a sample input, a table that is no TOML, or seed query cores too few for
run.queries_per_seed would otherwise stop the build midway, after drafts had run; an offline table's
misspelt placeholder would do that too, or ship as text in accepted pairs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pipeline.config import BuildConfig, ConfigError

if TYPE_CHECKING:
    from pipeline.rundir import RunDir


def check_prompt_files(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """Raises ConfigError (or FileNotFoundError) naming the first prompt file the build reads that
    would stop it midway: a role's template that does not compile or render a sample input, a table
    that is no TOML or that its backend would fill wrongly (`check_offline_table`), or seed query
    cores too few for run.queries_per_seed (`check_seed_cores`: a note for a run made before that
    check)."""
    from pipeline.run_records import build_prompt_files

    for name in build_prompt_files(settings):
        if name.endswith(".j2"):
            check_role_template(name.removesuffix(".j2"))
        else:
            check_offline_table(name)
    return check_seed_cores(settings, resuming) if settings.backends.seed_writer == "templates" else []


def check_role_template(role_name: str) -> None:
    import jinja2

    from pipeline.llm.messages import RolePrompt
    from pipeline.llm.roles import get_role
    from pipeline.prompts import prompt_path, template_line

    role, template = get_role(role_name), None
    try:
        prompt = RolePrompt(role, schema_in_prompt=False)
        template = prompt.template
        for sample in sample_inputs(role.input_type):
            prompt.messages(sample)
    except (jinja2.TemplateError, AttributeError) as error:
        line = template_line(error, template) if isinstance(error, jinja2.TemplateError) else None
        where = f"{prompt_path(role.template)}{f':{line}' if line else ''}"
        problem = " ".join(str(error).split()) or type(error).__name__
        raise ConfigError(f"{where}: {problem} (rendering a sample {role_name} input; "
                          "a template sets `system` and `user`: docs/llm.md)") from None


def sample_inputs(input_type: type) -> list:
    """An input with every field filled and one with only the required ones, so both sides of a
    template's `{% if %}` render. Made without validation: image_png stays empty, it is not rendered."""
    fields = {name: field for name, field in input_type.model_fields.items() if name != "image_png"}
    filled = {name: _sample(name, field) for name, field in fields.items()}
    required = {name: value for name, value in filled.items() if fields[name].is_required()}
    return [input_type.model_construct(**values, image_png=None) for values in (filled, required)]


def _sample(name: str, field) -> object:
    default = None if field.is_required() else field.get_default(call_default_factory=True)
    if field.annotation is int:
        return default or 3
    return (f"sample {name}",) if isinstance(default, (tuple, list)) else f"sample {name}"


def check_offline_table(name: str) -> None:
    """Each text of an offline table rendered with sample values, as its backend fills it: the seed
    writer's str.replace leaves a misspelt placeholder in the query, the rules rewriter's str.format
    stops the build on it."""
    from pipeline.backends.template_seeds import SEED_TEMPLATES
    from pipeline.prompts import read_prompt_table

    table, _ = read_prompt_table(name)
    problems = seed_table_problems(table) if name == SEED_TEMPLATES else reference_table_problems(table)
    text, problem = next(problems, (None, None))
    if problem:
        raise ConfigError(f"{located(name, text)}: {problem}")


_UNFILLED = re.compile(r"\{[^{}]*\}")
SEED_PLACEHOLDERS = "a frame takes {core}, a core {element}, a safety reason may take {element}"
REFERENCE_PLACEHOLDERS = "a `held` reference takes {holder} and {their}, a `cued` one {cue} and {their}, the others none"


def seed_table_problems(table: dict) -> Iterator[tuple[str, str]]:
    """(text, problem) for each text of seed_queries.toml that the template seed writer would fill
    wrongly, or ("", problem) for a missing table or one of the wrong type."""
    from pipeline.backends.template_seeds import fill, query

    if not isinstance(table.get("frames"), list):
        yield "", "no `frames` list (the question frames every query is made from)"
        return
    if misshapen := seed_shape_problem(table):
        yield "", misshapen
        return
    element = "sample element"
    rendered = [(frame, query(frame, "sample core", element), "{core}") for frame in table["frames"]]
    for sub_category in (value for value in table.values() if isinstance(value, dict)):
        for key, texts in sub_category.items():
            reasons = key == "safety_reasons"
            rendered += [(text, fill(text, element) if reasons else query("{core}", text, element),
                          None if reasons else "{element}") for text in texts]
    for text, filled, must_carry in rendered:
        if unfilled := _UNFILLED.search(filled):
            yield text, f"unknown placeholder {unfilled.group()} ({SEED_PLACEHOLDERS})"
        elif must_carry and must_carry not in text:
            yield text, f"{text!r} has no {must_carry} ({SEED_PLACEHOLDERS})"


def reference_table_problems(table: dict) -> Iterator[tuple[str, str]]:
    """(text, problem) for each text of references.toml that the rules rewriter would fill wrongly
    (what it uses as written must hold no placeholder), or ("", problem) for a missing table or one of
    the wrong type."""
    from pipeline.backends.references import READ_TABLES, cued_reference, held_reference

    if missing := [name for name in READ_TABLES if name not in table]:
        yield "", f"no `{missing[0]}` table (the rules rewriter reads {', '.join(READ_TABLES)})"
        return
    if misshapen := reference_shape_problem(table):
        yield "", misshapen
        return
    as_written = {name: value for name, value in table.items() if name not in ("held", "cued")}
    for text in _texts(as_written):
        if unfilled := _UNFILLED.search(text):
            yield text, f"unknown placeholder {unfilled.group()} ({REFERENCE_PLACEHOLDERS})"
    filled = [(held_reference, "she", table["held"]), *((cued_reference, "table", cued) for cued in table["cued"])]
    for fill, sample, section in filled:
        for text in (*section.get("singular", []), *section.get("plural", [])):
            try:
                fill(text, sample, "her")
            except KeyError as error:
                yield text, f"unknown placeholder {{{error.args[0]}}} ({REFERENCE_PLACEHOLDERS})"
            except (IndexError, ValueError) as error:
                yield text, f"{text!r}: {error} ({REFERENCE_PLACEHOLDERS})"


# A value of the wrong TOML type would otherwise be a traceback here, or a string iterated by character.
def seed_shape_problem(table: dict) -> str | None:
    sub_categories = {name: value for name, value in table.items() if name != "frames"}
    if not _strings(table["frames"]):
        return "`frames` must be a list of strings"
    if not_a_table := next((name for name, value in sub_categories.items() if not isinstance(value, dict)), None):
        return f"`{not_a_table}` must be a table (a sub-category's lists of texts)"
    not_texts = (f"{name}.{key}" for name, value in sub_categories.items()
                 for key, texts in value.items() if not _strings(texts))
    return next((f"`{name}` must be a list of strings" for name in not_texts), None)


def reference_shape_problem(table: dict) -> str | None:
    if not isinstance(table["held"], dict):
        return "`held` must be a table ([held])"
    if not (isinstance(table["cued"], list) and all(isinstance(cued, dict) for cued in table["cued"])):
        return "`cued` must be an array of tables ([[cued]])"
    for name, section in (("held", table["held"]), *(("cued", cued) for cued in table["cued"])):
        for key in ("singular", "plural"):
            if not _strings(section.get(key, [])):
                return f"`{name}.{key}` must be a list of strings"
    return None


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _texts(value) -> Iterator[str]:
    """Every string of a TOML value, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (dict, list)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _texts(item)


def located(name: str, text: str | None) -> str:
    """The prompt file, and the line of its first entry (not a comment) that holds `text`."""
    from pipeline.prompts import prompt_path

    path = prompt_path(name)
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next((number for number, line in enumerate(lines, 1)
                 if text and text in line and not line.lstrip().startswith("#")), None)
    return f"{path}:{line}" if line else str(path)


def check_seed_cores(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """The template seed writer fails each seed whose sub-category has no safety reasons, or fewer
    distinct cores for its element's kind than run.queries_per_seed. A run made with such a setting
    before leakless checked it (`resuming`, made with this config) is finished as it was made, with
    a note: its other batches were built with it, and the user asked for that run."""
    from pipeline.backends.template_seeds import SEED_TEMPLATES, TemplateSeedWriter
    from pipeline.plan import choose_elements
    from pipeline.prompts import prompt_path

    wanted, where = settings.run.queries_per_seed, prompt_path(SEED_TEMPLATES)
    writer = TemplateSeedWriter(wanted)
    kinds = sorted({(item.element.sub_category, item.element.kind) for item in choose_elements(settings).chosen})
    for sub in dict.fromkeys(sub for sub, _ in kinds):
        if not writer.safety_reasons(sub):
            raise ConfigError(f"{where} has no safety_reasons for {sub!r} (a sub-category needs a table there: "
                              "docs/elements.md)")
    have, sub, kind = min(((len(writer.cores(sub, kind)), sub, kind) for sub, kind in kinds), default=(wanted, "", ""))
    if have >= wanted:
        return []
    short = f"run.queries_per_seed = {wanted}, but {where} has {have} distinct {kind!r} cores for {sub!r}"
    instead = (f"at most {have} with the chosen sub-categories" if have else
               "a sub-category needs them for each kind of its elements (docs/elements.md)")
    if resuming is not None and resuming.made_with(settings):
        return [f"run {resuming.run_id} was made before leakless refused this setting ({short}): it is finished as "
                f"it was made, and its seeds short of cores fail again; for their pairs, build under a new --run-id "
                f"with run.queries_per_seed {instead}"]
    raise ConfigError(f"{short}: {instead}{made_before_the_check(settings)}")


def made_before_the_check(settings: BuildConfig) -> str:
    """Names the unfinished runs made with this config, which leakless let through before it
    checked run.queries_per_seed, and how to finish one."""
    from pipeline.rundir import unfinished_runs

    ids = [run.run_id for run in unfinished_runs(settings)]
    if not ids:
        return ""
    more = f" (and {len(ids) - 1} more)" if len(ids) > 1 else ""
    return (f"; run {ids[0]}{more} was made with it before leakless checked this: "
            f"this command with `--run-id {ids[0]}` (the same --config and --set) finishes it as it was made")
