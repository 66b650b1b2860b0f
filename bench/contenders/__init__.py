"""Contenders: one script per tool, each run in its own process so its peak RSS is its own.

Every contender takes ``INPUT OUTPUT`` arguments, does the trips work (parse with types,
apply the trips contract's row checks, derive the trips transform's columns, write Parquet
with the codec in :mod:`bench.common`) and prints one JSON object with ``rows_out``.
"""
