"""The journal's on-disk format: its version, the header and closing records, and the secret filter.

A journal is JSONL: a `JournalHeader` line, then one line per event (`event_to_json` plus `"t"`, wall-clock
seconds since the session started, for replay timing), then a `JournalClosed` line when the session ended
cleanly. Readers skip lines they cannot parse, so a crash costs at most the line being written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FORMAT_VERSION = 2
"""The journal format this version writes and the newest it reads.

Version 2: a sentence's `se_id` is a string (the service's opaque SeId) and it carries `raw_start`,
`raw_end` and `unit_ms` (the service's StartTime/EndTime as sent, and the unit they were placed with).
Version 1 wrote `se_id` as a number; readers turn it into its decimal text.
"""

HEADER_TYPE = "JournalHeader"
CLOSED_TYPE = "JournalClosed"

_SECRET_WORDS = ("secret", "key", "token", "password", "credential")


def is_secret_name(name: str) -> bool:
    """Whether a settings key may name a secret (such keys are never journaled)."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def strip_secrets(value: Any) -> Any:
    """A copy of a JSON-like value without any mapping key that may name a secret, at any depth."""
    if isinstance(value, dict):
        return {str(k): strip_secrets(v) for k, v in value.items() if not is_secret_name(str(k))}
    if isinstance(value, list | tuple):
        return [strip_secrets(v) for v in value]
    return value


def utc_iso(epoch_s: float) -> str:
    """An epoch time as an ISO 8601 UTC string with a `Z` suffix, to the second."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc_iso(text: str) -> datetime:
    """The aware UTC datetime of a `utc_iso` string; raises ValueError if it is not one."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class JournalHeader:
    """The first line of a journal: what the session interpreted, how, and with which settings."""

    format: int
    app_version: str
    started_at_utc: str
    """ISO 8601 UTC, e.g. 2026-11-25T08:41:53Z."""
    started_at: float
    """The same moment as epoch seconds (sub-second precision)."""
    input: str
    source: str
    target: str
    mode: str
    chunk_ms: int
    endpoint_host: str
    emulated: bool
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The header line's JSON object (secrets already stripped from `settings`)."""
        return {
            "type": HEADER_TYPE,
            "format": self.format,
            "app_version": self.app_version,
            "started_at_utc": self.started_at_utc,
            "started_at": self.started_at,
            "input": self.input,
            "source": self.source,
            "target": self.target,
            "mode": self.mode,
            "chunk_ms": self.chunk_ms,
            "endpoint_host": self.endpoint_host,
            "emulated": self.emulated,
            "settings": strip_secrets(self.settings),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalHeader:
        """Rebuild a header line; raises ValueError/TypeError/KeyError if it is malformed."""
        fmt = data["format"]
        if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
            raise ValueError("format is not a positive integer")
        started_at_utc = data["started_at_utc"]
        if not isinstance(started_at_utc, str):
            raise TypeError("started_at_utc is not a string")
        parsed = parse_utc_iso(started_at_utc).timestamp()
        for name in ("input", "source", "target"):
            if not isinstance(data.get(name), str):
                raise TypeError(f"{name} is not a string")
        started_at = data.get("started_at")
        if not isinstance(started_at, int | float) or isinstance(started_at, bool) or abs(started_at) > 1e11:
            started_at = parsed
        settings = data.get("settings", {})
        chunk_ms = data.get("chunk_ms", 0)
        return cls(
            format=fmt,
            app_version=str(data.get("app_version", "")),
            started_at_utc=started_at_utc,
            started_at=float(started_at),
            input=str(data.get("input", "")),
            source=str(data.get("source", "")),
            target=str(data.get("target", "")),
            mode=str(data.get("mode", "")),
            chunk_ms=chunk_ms if isinstance(chunk_ms, int) and not isinstance(chunk_ms, bool) else 0,
            endpoint_host=str(data.get("endpoint_host", "")),
            emulated=bool(data.get("emulated", False)),
            settings=strip_secrets(settings) if isinstance(settings, dict) else {},
        )
