"""Versioned releases: final filtration, dedup, HF-compatible Parquet shards, a dataset card,
`verify` and the VLSBench export. See docs/release.md."""
