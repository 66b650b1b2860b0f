"""The datasets shipped with the worker, registered before any user module.

This package follows the same hook as a user's dataset module: a ``DATASETS`` sequence.
"""

from worker.datasets.trips import TRIPS

DATASETS = (TRIPS,)
