"""``POST /pubsub/push``: the endpoint a push subscription delivers to (``WORKER_DELIVERY=push``).

Each request carries one message in Pub/Sub's push envelope. It is handed to the
subscriber that owns the envelope's subscription and processed exactly as a pulled
message (same decoders, the same settle middleware deciding its fate, same handlers);
the status code then tells Pub/Sub what became of it:

====  ==================================================================================
204   acked: processed, ignored, or dead-lettered by the worker (then acked)
400   the body is not a push envelope (logged; Pub/Sub retries, then its dead-letter
      policy takes it)
401   the ``token`` query parameter is missing or wrong
403   no ``WORKER_PUSH_AUTH_TOKEN`` is configured and ``WORKER_PUSH_ALLOW_NO_TOKEN`` is off
404   no subscriber of this service consumes the subscription
413   the body is larger than any valid push request
503   nacked (transient failure, or the worker is stopping): Pub/Sub retries with backoff
====  ==================================================================================

The token is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from faststream.asgi import AsgiResponse, post
from faststream.asgi.annotations import Request
from faststream.asgi.handlers import PostHandler
from faststream.asgi.request import AsgiRequest, ClientDisconnectError
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from pydantic import SecretStr

from faststream_gcp_pubsub.errors import (
    PushRequestError,
    TransientBrokerError,
    UnknownSubscriptionError,
)
from faststream_gcp_pubsub.push import MAX_PUSH_BODY_BYTES, parse_push_envelope
from faststream_gcp_pubsub.transport.push import PushTransport
from worker.observability.logging import get_logger

PUSH_PATH = "/pubsub/push"

log = get_logger("worker.service.push")


class _TooLarge(Exception):
    """The body outgrew the limit while it was read."""


def push_route(
    transport: PushTransport,
    *,
    token: SecretStr | None,
    allow_no_token: bool = False,
    max_body_bytes: int = MAX_PUSH_BODY_BYTES,
) -> tuple[str, PostHandler]:
    """The ``/pubsub/push`` route, handing pushed messages to ``transport``'s subscribers."""
    expected = token.get_secret_value().encode() if token is not None else None

    def refused(request: AsgiRequest) -> AsgiResponse | None:
        if expected is None:
            if allow_no_token:
                return None
            log.warning("push.refused", reason="no WORKER_PUSH_AUTH_TOKEN is configured")
            return _status(403, "push requests are disabled: no WORKER_PUSH_AUTH_TOKEN is set")
        presented = request.query_params.get("token", [])
        if len(presented) == 1 and hmac.compare_digest(presented[0].encode(), expected):
            return None
        log.warning("push.refused", reason="missing or wrong token")
        return _status(401, "missing or wrong token")

    @post(include_in_schema=False)
    async def pubsub_push(scope: Scope, request: Request) -> AsgiResponse:
        if scope["method"] != "POST":
            return AsgiResponse(b"", status_code=405, headers={"Allow": "POST"})
        denied = refused(request)
        if denied is not None:
            return denied
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            log.warning("push.too_large", limit_bytes=max_body_bytes)
            return _status(413, f"a push request holds at most {max_body_bytes} bytes")
        except ClientDisconnectError:
            return _status(400, "the client went away before sending the whole body")
        try:
            envelope = parse_push_envelope(body)
        except PushRequestError as error:
            log.warning("push.malformed", error=str(error))
            return _status(400, str(error))
        try:
            outcome = await transport.push(envelope)
        except UnknownSubscriptionError as error:
            log.warning("push.unknown_subscription", error=str(error))
            return _status(404, str(error))
        except TransientBrokerError as error:
            return _status(503, str(error))
        if outcome == "ack":
            return AsgiResponse(b"", status_code=204)
        return _status(503, f"message {envelope.message_id} nacked: Pub/Sub will retry it")

    return (PUSH_PATH, pubsub_push)


async def _read_body(request: AsgiRequest, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _status(code: int, detail: str) -> AsgiResponse:
    return JSONResponse({"detail": detail}, status_code=code)
