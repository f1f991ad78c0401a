"""Readers for benchmark files that the pipeline did not build."""

from pipeline.io.external import BenchmarkReader, BenchmarkRow, Reject, read_benchmark

__all__ = ["BenchmarkReader", "BenchmarkRow", "Reject", "read_benchmark"]
