"""Checks of the prompt files a build reads, made before any work: a role's template that does not
compile or render a sample input, a table that is no TOML, or seed query cores too few for
run.queries_per_seed would otherwise stop the build midway, after drafts had run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.config import BuildConfig, ConfigError

if TYPE_CHECKING:
    from pipeline.rundir import RunDir


def check_prompt_files(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """Raises ConfigError (or FileNotFoundError) naming the first prompt file the build reads that
    would stop it midway: a role's template that does not compile or render a sample input, a table
    that is no TOML, or seed query cores too few for run.queries_per_seed (`check_seed_cores`: a
    note for a run made before that check)."""
    from pipeline.prompts import read_prompt_table
    from pipeline.run_records import build_prompt_files

    for name in build_prompt_files(settings):
        if name.endswith(".j2"):
            check_role_template(name.removesuffix(".j2"))
        else:
            read_prompt_table(name)
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


def check_seed_cores(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """The template seed writer fails each seed whose sub-category has no safety reasons, or fewer
    distinct cores for its element's kind than run.queries_per_seed. A run made with such a setting
    before leakless checked it (`resuming`, made with this config) is finished as it was made, with
    a note: its other batches were built with it, and the user asked for that run."""
    from pipeline.backends.offline_text import SEED_TEMPLATES, TemplateSeedWriter
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
