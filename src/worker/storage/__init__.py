"""Storage adapters behind one protocol: local filesystem and Google Cloud Storage."""

from worker.storage.base import ObjectInfo, Storage
from worker.storage.local import LocalStorage
from worker.storage.router import StorageRouter

__all__ = ["LocalStorage", "ObjectInfo", "Storage", "StorageRouter"]
