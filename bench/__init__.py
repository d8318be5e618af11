"""Reproducible benchmarks, each printed side by side with its reference tool."""
