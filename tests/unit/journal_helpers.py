"""Builders for journal tests: events of a plausible session, and a fake wall clock for the writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tongchuan_tui.journal.writer import JournalWriter
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    MarkAdded,
    RequestFailed,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
)

FAKE_SECRET_KEY = "FAKEsecretKEY0123456789abcdefXYZ"
FAKE_SECRET_ID = "AKIDfakeSECRETid0123456789abcdef"
FAKE_TOKEN = "FAKEsessionTOKENzzzz9876543210"


class WallClock:
    """A settable wall clock (seconds since the epoch) for the journal writer."""

    def __init__(self, now: float = 1_764_060_113.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def started(
    settings: dict[str, Any] | None = None, *, source: str = "zh", target: str = "en"
) -> SessionStarted:
    """A SessionStarted for a file input against the emulator."""
    return SessionStarted(
        started_at_utc=1_764_060_113.25,
        input="talk.wav",
        source=source,
        target=target,
        mode="sync",
        chunk_ms=200,
        endpoint_host="127.0.0.1:8080",
        emulated=True,
        settings=settings if settings is not None else {"chunk_ms": 200, "layout": "auto"},
    )


def sentence(
    n: int,
    ver: int = 3,
    *,
    final: bool = True,
    source: str | None = None,
    target: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> Sentence:
    """Sentence number `n` of service session 0, 3 s apart on the timeline."""
    start = n * 3000 if start_ms is None else start_ms
    return Sentence(
        key=f"0:{n}",
        service_session=0,
        se_id=str(n),
        se_ver=ver,
        source_text=source if source is not None else f"第{n}句话，这是原文。",
        target_text=target if target is not None else f"This is sentence number {n}.",
        start_ms=start,
        end_ms=start + 2500 if end_ms is None else end_ms,
        final=final,
    )


def chunk(seq: int) -> ChunkSent:
    """The packet `seq` of a 200 ms packet stream."""
    return ChunkSent(
        seq=seq,
        session_uuid="uuid-0",
        audio_start_ms=seq * 200,
        duration_ms=200,
        size_bytes=6400,
        sent_at_ms=seq * 200 + 5,
        round_trip_ms=42.5,
        request_id=f"req-{seq}",
        retries=0,
        is_end=False,
    )


def session_events(sentences: int = 3, *, end: bool = True) -> list[tuple[float, Event]]:
    """(seconds after start, event) of a session: packets, revisions growing to final, a mark, stats, end."""
    timeline: list[tuple[float, Event]] = []
    seq = 0
    for n in range(sentences):
        base = n * 3.0
        for k in range(3):
            timeline.append((base + k * 0.2, chunk(seq)))
            seq += 1
        timeline.append((base + 0.7, SentenceRevised(sentence(n, 1, final=False, target="This is"))))
        timeline.append((base + 1.4, SentenceRevised(sentence(n, 2, final=False))))
        timeline.append((base + 2.1, SentenceRevised(sentence(n, 3, final=True))))
        timeline.append(
            (base + 2.2, StatsUpdated(StatsSnapshot(requests_ok=seq, rtt_recent_ms=(40.0, 42.5))))
        )
    timeline.append((sentences * 3.0 - 1.0, MarkAdded(at_ms=sentences * 3000 - 1000, label="applause")))
    timeline.append(
        (sentences * 3.0 - 0.5, RequestFailed("TongChuanSync", seq, "InternalError", "boom", final=False))
    )
    if end:
        timeline.append((sentences * 3.0, SessionEnded("input-ended", sentences * 3000, 0)))
    return timeline


def write_session(
    path: Path,
    timeline: Sequence[tuple[float, Event]],
    *,
    settings: dict[str, Any] | None = None,
    clock: WallClock | None = None,
    close: bool = True,
) -> JournalWriter:
    """Journal `timeline` to `path` with a fake clock; returns the writer (closed unless close=False)."""
    clock = clock or WallClock()
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(started(settings))
    start = clock.now
    for t, event in timeline:
        clock.now = start + t
        writer(event)
    if close:
        writer.close()
    return writer
