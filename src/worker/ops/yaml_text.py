"""Deterministic YAML text for JSON-like data, with no YAML library at runtime.

PyYAML is only a development dependency, yet ``worker docs gen`` must work from the
installed package, and the committed document must be byte-identical wherever it is
generated. Mappings and sequences are written in block style, in the order given;
strings are plain only when no YAML reader can take them for anything but a string,
otherwise double-quoted with everything outside printable ASCII escaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_PLAIN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]*( [A-Za-z0-9_.\-/]+)*")
# Words YAML 1.1 readers (PyYAML among them) turn into booleans or null.
_RESERVED_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
_INDENT = "  "
_MAX_SIMPLE_KEY = 1000
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def dump_yaml(document: Mapping[str, object]) -> str:
    """``document`` as YAML text ending in a newline."""
    lines: list[str] = []
    _mapping(document, 0, lines)
    return "\n".join(lines) + "\n"


def _string(text: str, pattern: re.Pattern[str]) -> str:
    if pattern.fullmatch(text) and text.lower() not in _RESERVED_WORDS:
        return text
    return '"' + "".join(_escaped(char) for char in text) + '"'


def _escaped(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return char
    # YAML's \u takes one code point (JSON's would need a surrogate pair above U+FFFF).
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} has no YAML form a JSON reader accepts")
    mantissa, _, exponent = repr(value).partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    # PyYAML reads 1.0e5 as a string: its float pattern needs a sign on the exponent.
    if exponent and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if exponent else mantissa


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value, _PLAIN_TEXT)
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, Sequence) and not value:
        return "[]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML: {value!r}")


def _is_block(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple) and bool(value)


def _mapping(mapping: Mapping[str, object], depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise TypeError(f"YAML keys here must be strings, got {key!r}")
        label = _string(key, _PLAIN_KEY)
        if len(label) > _MAX_SIMPLE_KEY:
            # YAML limits implicit keys to 1024 characters; longer ones need "? key".
            lines.append(f"{pad}? {label}")
            label = ""
        if _is_block(value):
            lines.append(f"{pad}{label}:")
            _block(value, depth + 1, lines)
        else:
            lines.append(f"{pad}{label}: {_scalar(value)}")


def _sequence(items: Sequence[object], depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    for item in items:
        if not _is_block(item):
            lines.append(f"{pad}- {_scalar(item)}")
            continue
        nested: list[str] = []
        _block(item, depth + 1, nested)
        # The first line of the nested block moves up beside the dash.
        nested[0] = f"{pad}- {nested[0].lstrip()}"
        lines.extend(nested)


def _block(value: object, depth: int, lines: list[str]) -> None:
    if isinstance(value, Mapping):
        _mapping(value, depth, lines)
    elif isinstance(value, list | tuple):
        _sequence(value, depth, lines)
