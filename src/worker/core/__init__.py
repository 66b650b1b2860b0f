"""Pure data logic: datasets, partitions, extract, validate, transform, load.

Imports no broker, CLI, rich or cloud SDK (checked by import-linter in ``make lint``).
"""
