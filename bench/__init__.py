"""Benchmarks for fieldkit; run with ``python -m bench.run_all`` (see docs/BENCHMARKS.md)."""
