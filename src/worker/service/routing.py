"""Route an arrived object to the dataset and partition it feeds."""

from __future__ import annotations

from datetime import date

from worker.core.datasets import DatasetRegistry
from worker.errors import ForbiddenPathError, UnroutableError
from worker.events import FileArrived
from worker.storage.uris import is_within


def route(event: FileArrived, registry: DatasetRegistry, landing_uri: str) -> tuple[str, date]:
    """The dataset name and partition date of the object ``event`` announces.

    Raises ForbiddenPathError for an object outside the landing root (it is never read)
    and UnroutableError when no dataset's match rule claims it.
    """
    if not is_within(event.uri, landing_uri):
        raise ForbiddenPathError(
            f"object is outside the landing root {landing_uri}", where=event.uri
        )
    matched = registry.match(event.uri, landing_uri)
    if matched is None:
        known = ", ".join(registry.names()) or "none"
        raise UnroutableError(
            f"no dataset's match rule claims this object (datasets: {known})", where=event.uri
        )
    dataset, day = matched
    if event.dataset is not None and event.dataset != dataset.name:
        raise UnroutableError(
            f"the event names dataset {event.dataset!r} but the object belongs to {dataset.name!r}",
            where=event.uri,
        )
    return dataset.name, day
