"""What the emulator saw, as immutable snapshots for tests and the GET /__emulator__/state route."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from tongchuan_tui.emulator.sentences import Sentence
from tongchuan_tui.emulator.variants import WireVariant
from tongchuan_tui.emulator.wire import mask

#: How many recent requests the request log keeps.
REQUEST_LOG_SIZE = 2000


@dataclass(frozen=True, slots=True)
class PacketInfo:
    """One accepted upload; `retried` counts identical re-sends of it, `dropped` means shorter than 200 ms."""

    seq: int
    size: int
    received_at: float
    is_end: bool
    retried: int
    dropped: bool
    oversize: bool
    digest: str = ""
    """SHA-256 (hex) of its audio."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken pacing rule at packet `seq`: `amount_ms` ahead of real time, or since the previous packet."""

    seq: int
    at: float
    amount_ms: float


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """One SessionUuid's packets, rule violations and sentences (oldest first)."""

    session_uuid: str
    secret_id: str
    source: str
    target: str
    translate_time: int
    packets: tuple[PacketInfo, ...]
    dropped_short: int
    oversize: int
    pacing_violations: tuple[Violation, ...]
    gap_violations: tuple[Violation, ...]
    ended: bool
    failed: str | None
    audio_ms: int
    sentences: tuple[Sentence, ...]
    audio_sha256: str = ""
    """SHA-256 (hex) of all its accepted packets' audio, in Seq order."""

    @property
    def seqs(self) -> list[int]:
        """The Seq of every accepted packet, in arrival order."""
        return [p.seq for p in self.packets]

    @property
    def sizes(self) -> list[int]:
        """The byte size of every accepted packet, in arrival order."""
        return [p.size for p in self.packets]

    @property
    def final_texts(self) -> list[tuple[str, str]]:
        """(SourceText, TargetText) of the final sentences, oldest first."""
        return [(s.source_text, s.target_text) for s in self.sentences if s.is_end]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the state route's form)."""
        out = asdict(self)
        out["sentences"] = [s.to_json() for s in self.sentences]
        out["seqs"] = self.seqs
        # The SecretId is an identifier, not a secret, but the state route has no need to show it whole.
        out["secret_id"] = mask(self.secret_id)
        return out


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request and how it was answered: `code` is "" for success, an error code, or "HTTP502"/"reset"."""

    at: float
    action: str
    session_uuid: str | None
    seq: int | None
    code: str
    fault: str | None = None
    number: int = 0
    """Its place among every request the emulator has logged (0 first): the log keeps only the newest, so
    a long run that marks a point in it keeps this number, not an index into `EmulatorState.requests`."""


@dataclass(frozen=True, slots=True)
class EmulatorState:
    """Everything the emulator has seen, at one moment."""

    sessions: tuple[SessionSnapshot, ...]
    requests: tuple[RequestRecord, ...]
    variant: WireVariant = field(default_factory=WireVariant)
    requests_total: int = 0
    """How many requests were logged in all (older ones have fallen off `requests`)."""

    def session(self, session_uuid: str) -> SessionSnapshot:
        """The (latest) session with this SessionUuid; KeyError listing the known ones otherwise."""
        for snap in reversed(self.sessions):
            if snap.session_uuid == session_uuid:
                return snap
        known = ", ".join(s.session_uuid for s in self.sessions) or "none"
        raise KeyError(f"no session {session_uuid!r} (sessions: {known})")

    @property
    def session_uuids(self) -> list[str]:
        """SessionUuids in the order their sessions started."""
        return [s.session_uuid for s in self.sessions]

    def peak_rate(self, action: str, window_s: float = 1.0) -> int:
        """The most requests of `action` (answered or refused) seen in any `window_s` (in the request log)."""
        times = sorted(r.at for r in self.requests if r.action == action)
        peak, first = 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - window_s:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def codes(self, action: str | None = None) -> list[str]:
        """The error codes answered so far (faults included), optionally for one action."""
        return [r.code for r in self.requests if r.code and (action is None or r.action == action)]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the state route's form)."""
        return {
            "sessions": [s.to_json() for s in self.sessions],
            "requests": [asdict(r) for r in self.requests],
            "requests_total": self.requests_total,
            "variant": self.variant.to_json(),
        }


class RequestLog:
    """A bounded, thread-safe log of recent requests."""

    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self._total = 0

    def add(self, record: RequestRecord) -> None:
        """Append one record, numbered in order (the oldest falls off when full)."""
        with self._lock:
            self._records.append(dataclasses.replace(record, number=self._total))
            self._total += 1

    def snapshot(self) -> tuple[tuple[RequestRecord, ...], int]:
        """The records, oldest first, and how many were added in all."""
        with self._lock:
            return tuple(self._records), self._total
