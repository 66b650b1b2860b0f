"""One partition through ``process_partition`` with the quality bench's datasets.

Arguments: DATASET DAY LANDING OUTPUT. Prints the result and the manifest's stage timings.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.runtime import build_ports
from worker.settings import Settings


def main(dataset: str, day: date, landing: str, output: str) -> None:
    settings = Settings(
        landing_uri=landing, output_uri=output, datasets="bench.quality_datasets", log_format="json"
    )
    task = PartitionTask(dataset=dataset, partition=day, trigger="cli")
    result = process_partition(task, build_ports(settings))
    manifest = json.loads(Path(result.manifest_uri).read_text())
    print(
        json.dumps(
            {
                "rows_in": result.rows_in,
                "rows_out": result.rows_out,
                "timings_s": manifest["timings_s"],
                "quality": manifest["quality"],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], date.fromisoformat(sys.argv[2]), sys.argv[3], sys.argv[4])
