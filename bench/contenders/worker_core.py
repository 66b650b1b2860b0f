"""The worker's use case without the CLI: ``process_partition`` as the service runs it.

The service and backfill workers import the worker once per process, so this is what one
partition costs them; ``worker run`` adds the CLI's start-up (imports) on top.
Arguments: DATASET DAY LANDING OUTPUT.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.runtime import build_ports
from worker.settings import Settings


def main(dataset: str, day: date, landing: str, output: str) -> None:
    settings = Settings(
        landing_uri=landing, output_uri=output, datasets="bench.datasets", log_format="json"
    )
    result = process_partition(
        PartitionTask(dataset=dataset, partition=day, trigger="cli"), build_ports(settings)
    )
    print(
        json.dumps(
            {
                "rows_in": result.rows_in,
                "rows_out": result.rows_out,
                "rows_quarantined": result.rows_quarantined,
                "manifest_uri": result.manifest_uri,
                "status": result.status,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], date.fromisoformat(sys.argv[2]), sys.argv[3], sys.argv[4])
