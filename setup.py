"""Only what pyproject.toml cannot say: the top-level prompts/ folder ships as pipeline.prompt_files."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

prompt_packages = {"pipeline.prompt_files": "prompts"}
for folder in sorted(Path("prompts").rglob("*")):
    if folder.is_dir() and "__pycache__" not in folder.parts:
        prompt_packages["pipeline.prompt_files." + ".".join(folder.relative_to("prompts").parts)] = str(folder)

setup(
    packages=find_namespace_packages(include=["pipeline", "pipeline.*", "flows", "flows.*"], exclude=["*__pycache__*"]) + list(prompt_packages),
    package_dir=prompt_packages,
)
