"""Structured logs, traces and metrics."""
