"""JSON parsing for bodies that come from outside: bounded in size and nesting depth.

Python's ``json`` recurses once per nesting level, so a body of a few kilobytes of ``[``
could exhaust the stack; the depth is measured on the raw text before parsing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from worker.errors import DecodeError, SchemaError

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_JSON_DEPTH = 32

# A string literal (skipped: brackets inside it do not nest) or one bracket. The string
# branch always matches, possessively, up to its closing quote or the end of the text, so
# every character is scanned once even for unterminated strings and stray backslashes.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.?)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def check_body_size(body: bytes, *, max_bytes: int, where: str) -> None:
    if len(body) > max_bytes:
        raise DecodeError(
            f"message body of {len(body)} bytes exceeds {max_bytes} bytes", where=where
        )


def _check_depth(text: str, *, max_depth: int, where: str) -> None:
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise DecodeError(f"JSON nested deeper than {max_depth} levels", where=where)
        elif bracket in ("]", "}"):
            depth -= 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes | str, *, where: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse strict JSON (no NaN/Infinity), refusing invalid UTF-8 and deep nesting."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        raise DecodeError(
            f"body is not UTF-8: {error.reason} at byte {error.start}", where=where
        ) from error
    _check_depth(text, max_depth=max_depth, where=where)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError is a ValueError, and so is _refuse_constant's
        raise DecodeError(f"body is not valid JSON: {error}", where=where) from error


def parse_json_object(body: bytes | str, *, where: str) -> dict[str, Any]:
    """Parse a body that must be one JSON object."""
    parsed = parse_json(body, where=where)
    if not isinstance(parsed, dict):
        raise SchemaError(f"expected a JSON object, got {type(parsed).__name__}", where=where)
    return parsed
