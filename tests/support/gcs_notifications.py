"""The attributes of a Cloud Storage ``OBJECT_FINALIZE`` notification (``payloadFormat=NONE``),
as Cloud Storage and fake-gcs-server send them: one builder for every test that publishes one."""

from __future__ import annotations


def finalized(bucket: str, name: str, generation: int = 1) -> dict[str, str]:
    return {
        "eventType": "OBJECT_FINALIZE",
        "bucketId": bucket,
        "objectId": name,
        "objectGeneration": str(generation),
        "payloadFormat": "NONE",
        "eventTime": "2024-02-10T00:00:00Z",
        "notificationConfig": f"projects/_/buckets/{bucket}/notificationConfigs/1",
    }
