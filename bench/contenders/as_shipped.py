"""Run a module as the shipped image would: without the dev and bench packages.

The Docker image installs no dev or bench dependency group, so pandas and hypothesis are
absent there; in this venv Pandera imports both when present (seconds of start-up that the
image never pays). This launcher makes them unimportable, exactly as in the image, and then
runs ``python -m <module> <args>``: ``python -m bench.contenders.as_shipped worker run ...``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from types import ModuleType

ABSENT_IN_IMAGE = frozenset({"pandas", "hypothesis"})


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in ABSENT_IN_IMAGE:
            # The very error an absent package raises; Pandera checks for this message.
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, _Absent())
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
