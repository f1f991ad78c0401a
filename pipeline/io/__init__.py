"""Readers for benchmark files that the pipeline did not build."""

from pipeline.io.external import BenchmarkRow, read_benchmark, read_records

__all__ = ["BenchmarkRow", "read_benchmark", "read_records"]
