"""Helpers shared by test suites: fault-injecting proxies and the like."""
