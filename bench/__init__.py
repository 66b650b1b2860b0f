"""Benchmarks of the worker against the tools users would pick instead.

Run everything with ``make bench`` (``python -m bench.run --help`` for sizes and flags).
Nothing here is collected by pytest: timings belong to benchmarks, never to tests.
"""
