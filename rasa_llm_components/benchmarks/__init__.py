"""Benchmarks: answer quality of the grounded LLM responses and concurrency under load."""
