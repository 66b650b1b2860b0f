"""Which arriving objects belong to a dataset, and which partition date each one feeds.

A rule is written relative to the landing root, either as a glob with date placeholders
(``trips/{date}.csv``, ``events/{year}/{month}/{day}/*.jsonl.gz``) or as a regular expression
with named groups (``date``, or ``year``/``month``/``day``). ``*`` matches within one path
segment, ``**`` across segments, ``?`` one character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from worker.errors import ConfigurationError

# [0-9], not \d: in Python's re, \d matches every Unicode digit (full-width, Arabic-Indic...),
# and int() and strptime() would read them as dates.
_DATE_FORMAT_PIECES = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}"}
_PLACEHOLDERS = {
    "{year}": "(?P<year>[0-9]{4})",
    "{month}": "(?P<month>[0-9]{2})",
    "{day}": "(?P<day>[0-9]{2})",
}
_DATE_GROUPS = ("date", "year", "month", "day")
_GLOB_SPECIALS = re.compile(r"\*\*|\*|\?|\{date\}|\{year\}|\{month\}|\{day\}")


def _has_non_ascii_digit(text: str) -> bool:
    return any(ch.isdigit() and not ch.isascii() for ch in text)


def _date_format_regex(date_format: str) -> str:
    pieces = re.split(r"(%.)", date_format)
    out = []
    for piece in pieces:
        if piece.startswith("%"):
            if piece not in _DATE_FORMAT_PIECES:
                raise ConfigurationError(
                    f"date_format may only use %Y, %m and %d, got {piece!r}", where=date_format
                )
            out.append(_DATE_FORMAT_PIECES[piece])
        else:
            out.append(re.escape(piece))
    return "".join(out)


def _glob_to_regex(glob: str, date_format: str) -> str:
    out = []
    position = 0
    for token in _GLOB_SPECIALS.finditer(glob):
        out.append(re.escape(glob[position : token.start()]))
        text = token.group()
        if text == "**":
            out.append(".*")
        elif text == "*":
            out.append("[^/]*")
        elif text == "?":
            out.append("[^/]")
        elif text == "{date}":
            out.append(f"(?P<date>{_date_format_regex(date_format)})")
        else:
            out.append(_PLACEHOLDERS[text])
        position = token.end()
    out.append(re.escape(glob[position:]))
    return "".join(out)


@dataclass(frozen=True)
class MatchRule:
    """How objects under the landing root are routed to a dataset and a partition date."""

    glob: str | None = None
    regex: str | None = None
    bucket: str | None = None
    """When set, only objects in this GCS bucket match (the landing root's bucket otherwise)."""
    date_format: str = "%Y-%m-%d"
    """How the text captured by ``{date}`` / ``(?P<date>...)`` reads."""
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.glob is None) == (self.regex is None):
            raise ConfigurationError("a match rule needs exactly one of glob= or regex=")
        source = self.glob if self.glob is not None else str(self.regex)
        if source.startswith("/"):
            raise ConfigurationError("a match rule is relative to the landing root", where=source)
        pattern = _glob_to_regex(source, self.date_format) if self.glob is not None else source
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ConfigurationError(f"invalid match regex: {exc}", where=source) from None
        groups = set(compiled.groupindex)
        if "date" not in groups and not {"year", "month", "day"} <= groups:
            raise ConfigurationError(
                "a match rule must capture the partition date: {date} or {year}/{month}/{day} "
                "in a glob, named groups date or year, month and day in a regex",
                where=source,
            )
        object.__setattr__(self, "_compiled", compiled)

    @property
    def static_prefix(self) -> str:
        """The literal directory part before the first wildcard: where listing can start."""
        if self.glob is None:
            return ""
        literal = _GLOB_SPECIALS.split(self.glob, maxsplit=1)[0]
        return literal.rpartition("/")[0]

    def partition_date(self, relative_name: str, bucket: str = "") -> date | None:
        """The partition date for an object (name relative to the landing root), or None
        when the rule does not match it."""
        if self.bucket is not None and bucket and bucket != self.bucket:
            return None
        found = self._compiled.fullmatch(relative_name)
        if found is None:
            return None
        groups = found.groupdict()
        if any(_has_non_ascii_digit(groups.get(name) or "") for name in _DATE_GROUPS):
            # A user's regex may say \d; a date is still written in ASCII digits only.
            return None
        try:
            if groups.get("date") is not None:
                return datetime.strptime(groups["date"], self.date_format).date()
            return date(int(groups["year"]), int(groups["month"]), int(groups["day"]))
        except ValueError:
            return None

    def describe(self) -> dict[str, Any]:
        return {
            "glob": self.glob,
            "regex": self.regex,
            "bucket": self.bucket,
            "date_format": self.date_format,
        }
