"""Build the one ``google.cloud.storage.Client`` a GcsStorage uses.

With an emulator (``emulator_host`` or ``STORAGE_EMULATOR_HOST``, as Google's client reads
it) the client gets anonymous credentials and the given project (``local-project`` when
none); otherwise Application Default Credentials, as Google's client finds them.
"""

from __future__ import annotations

import os
from typing import Any

from google.auth.credentials import AnonymousCredentials

# google-cloud-storage ships no py.typed marker; its objects are typed Any at this boundary.
from google.cloud import storage  # type: ignore[import-untyped]

EMULATOR_DEFAULT_PROJECT = "local-project"


def make_client(project: str | None, emulator_host: str | None) -> Any:
    """A Cloud Storage client for ``project``, pointed at the emulator when one is set."""
    host = emulator_host or os.environ.get("STORAGE_EMULATOR_HOST")
    if not host:
        client = storage.Client(project=project) if project else storage.Client()
    else:
        endpoint = host if "://" in host else f"http://{host}"
        # google-auth declares no annotations on AnonymousCredentials.__init__.
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        client = storage.Client(
            project=project or EMULATOR_DEFAULT_PROJECT,
            credentials=anonymous,
            client_options={"api_endpoint": endpoint},
        )
    # Since 3.17 the client fetches each bucket's metadata on a background thread, with
    # its own retries, to label traces. That is traffic and retrying outside our control;
    # the client skips it when this cache is falsy.
    client._bucket_metadata_cache = None
    return client
