"""Codecs as FastStream defines them (``faststream._internal.parser.CodecProto`` and
``BatchCodecProto``), recording which of their methods the broker called."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

CONTENT_TYPE = "application/x-tagged"


class PlainCodec:
    """Encodes each body as ``{"v": body}``; no batch methods."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def encode(self, msg: Any, serializer: Any = None) -> tuple[bytes, str | None]:
        self.calls.append("encode")
        return json.dumps({"v": msg}).encode(), CONTENT_TYPE

    async def decode(self, msg: Any) -> Any:
        self.calls.append("decode")
        return json.loads(msg.body)["v"]


class BatchCodec(PlainCodec):
    """Also encodes and decodes whole batches; a batch-encoded body says so."""

    async def encode_batch(
        self, msgs: Sequence[Any], serializer: Any = None
    ) -> list[tuple[bytes, str | None]]:
        self.calls.append("encode_batch")
        return [(json.dumps({"v": m, "batch": True}).encode(), CONTENT_TYPE) for m in msgs]

    async def decode_batch(self, msg: Any) -> list[Any]:
        self.calls.append("decode_batch")
        return [json.loads(body)["v"] for body in msg.body]
