"""Benchmarks of the example bot, run from the repository root: python -m benchmarks.<name>."""
