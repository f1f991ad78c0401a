"""leakless: build leak-free multimodal safety benchmarks."""

from pipeline import env as _env  # noqa: F401  (sets environment defaults before Prefect loads)

__version__ = "0.1.0"
