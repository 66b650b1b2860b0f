"""``python -m bench.contenders.run_code CODE``: execute CODE (used to time start-up)."""

import sys

if __name__ == "__main__":
    exec(compile(sys.argv[1], "<bench>", "exec"))  # noqa: S102  # our own fixed snippet
