"""The emulated interpretation engine: per-session packet rules, pacing, and the sentences it reports.

Thread-safe: the server mutates it on its event loop while tests may read snapshots from another thread.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tongchuan_tui.emulator import codes
from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.cues import Cue, CueScript, render_cue
from tongchuan_tui.emulator.segmenter import Segmenter, SegmenterConfig
from tongchuan_tui.emulator.sentences import Draft, Sentence, SentenceBook
from tongchuan_tui.emulator.state import PacketInfo, SessionSnapshot, Violation
from tongchuan_tui.emulator.tts import speech_audio
from tongchuan_tui.emulator.validate import TtsParams, Upload
from tongchuan_tui.emulator.wire import BYTES_PER_MS, MAX_PACKET_MS, MIN_PACKET_MS, ms_to_bytes

log = logging.getLogger(__name__)

#: More than this between two packets of a session makes the engine fail the session.
GAP_LIMIT_S = 6.0
#: A packet whose audio starts more than this ahead of the wall time since the session's first packet is
#: "faster than real time" (one maximum-size packet of slack, for the first request's connection set-up).
PACING_TOLERANCE_MS = float(MAX_PACKET_MS)
MIN_PACKET_BYTES = ms_to_bytes(MIN_PACKET_MS)
MAX_PACKET_BYTES = ms_to_bytes(MAX_PACKET_MS)


class CueTimeline:
    """The cue timeline of one SecretId: it continues across that credential's SessionUuids."""

    def __init__(self, script: CueScript, *, loop: bool) -> None:
        self.script = script
        self.loop = loop
        self.position_ms = 0


class _CueResults:
    """A session's sentences from the cue script, placed as its audio advances the shared timeline."""

    def __init__(self, timeline: CueTimeline) -> None:
        self._timeline = timeline
        self._placed: list[tuple[Cue, int, int]] = []
        self._position_ms = 0

    def feed(self, pcm: bytes, ms: int) -> None:
        start = self._timeline.position_ms
        end = start + ms
        for occ in self._timeline.script.occurrences(start, end, loop=self._timeline.loop):
            rel = self._position_ms + occ.start_ms - start
            self._placed.append((occ.cue, rel, rel + occ.end_ms - occ.start_ms))
        self._timeline.position_ms = end
        self._position_ms += ms

    def finish(self) -> None:
        """Nothing to flush: drafts() closes growing sentences when asked."""

    def drafts(self, source: str, target: str, *, translate_time: int, closed: bool) -> list[Draft]:
        return [
            render_cue(cue, a, b, self._position_ms, translate_time=translate_time, closed=closed)
            for cue, a, b in self._placed
        ]


class _SpeechResults:
    """A session's sentences from energy segmentation: placeholders for each stretch of speech."""

    def __init__(self, config: SegmenterConfig | None) -> None:
        self._segmenter = Segmenter(config)

    def feed(self, pcm: bytes, ms: int) -> None:
        self._segmenter.feed(pcm)

    def finish(self) -> None:
        self._segmenter.finish()

    def drafts(self, source: str, target: str, *, translate_time: int, closed: bool) -> list[Draft]:
        return self._segmenter.drafts(source, target, translate_time=translate_time)


@dataclass(slots=True)
class _Packet:
    seq: int
    size: int
    received_at: float
    is_end: bool
    digest: bytes
    dropped: bool
    oversize: bool
    retried: int = 0


@dataclass(slots=True)
class _Session:
    secret_id: str
    session_uuid: str
    source: str
    target: str
    translate_time: int
    results: _CueResults | _SpeechResults
    tts: TtsParams | None = None
    packets: list[_Packet] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None
    sent_bytes: int = 0
    used_bytes: int = 0
    dropped_short: int = 0
    oversize: int = 0
    pacing: list[Violation] = field(default_factory=list)
    gaps: list[Violation] = field(default_factory=list)
    ended: bool = False
    failed: str | None = None
    book: SentenceBook = field(default_factory=SentenceBook)
    listed_revision: int = 0


class Engine:
    """The state of every session, keyed by (SecretId, SessionUuid), and the rules the service applies."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        cues: CueScript | None = None,
        loop_cues: bool = False,
        segmenter: SegmenterConfig | None = None,
        gap_limit_s: float = GAP_LIMIT_S,
        pacing_tolerance_ms: float = PACING_TOLERANCE_MS,
        duplicate_seq: str = "idempotent",
    ) -> None:
        self._clock = clock
        self._cues = cues
        self._loop_cues = loop_cues
        self._segmenter = segmenter
        self._gap_limit_s = gap_limit_s
        self._tolerance_ms = pacing_tolerance_ms
        self.duplicate_seq = duplicate_seq
        """How a re-sent, already accepted Seq is answered: "idempotent" or "refuse" (settable)."""
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._timelines: dict[str, CueTimeline] = {}

    def upload(self, secret_id: str, upload: Upload, listing: str = "newest") -> list[Sentence]:
        """Take one packet (Sync/Recognize), or raise ApiFailure; returns the sentences to list in the
        answer: `listing` "newest" (5, newest first), "changed" (since the previous such answer), "all" or
        "empty"."""
        with self._lock:
            now = self._clock()
            session = self._session_for(secret_id, upload)
            digest = hashlib.sha256(upload.data).digest()
            if upload.seq < len(session.packets):
                self._retry(session, upload, digest, now)
                return _listed(session, listing)
            if session.ended:
                raise ApiFailure(
                    codes.FAILED_OPERATION, "The session has ended: a packet with IsEnd=1 was received."
                )
            if session.failed:
                raise ApiFailure(
                    codes.FAILED_OPERATION, f"The engine failed for this session: {session.failed}."
                )
            if upload.seq > len(session.packets):
                raise ApiFailure(
                    codes.INVALID_PARAMETER_VALUE,
                    f"The value of parameter `Seq` is invalid: expected {len(session.packets)}, "
                    f"got {upload.seq}.",
                )
            self._check_timing(session, upload.seq, now)
            self._accept(session, upload, digest, now)
            return _listed(session, listing)

    def display(self, secret_id: str, session_uuid: str) -> list[Sentence]:
        """The newest sentences of a session (at most 5, newest first); empty for a session not seen yet."""
        with self._lock:
            session = self._sessions.get((secret_id, session_uuid))
            return session.book.newest() if session is not None else []

    def snapshot(self) -> tuple[SessionSnapshot, ...]:
        """Every session as it stands, in the order they started."""
        with self._lock:
            return tuple(_snapshot(s) for s in self._sessions.values())

    def _session_for(self, secret_id: str, upload: Upload) -> _Session:
        key = (secret_id, upload.session_uuid)
        session = self._sessions.get(key)
        if session is None:
            if upload.seq != 0:
                raise ApiFailure(
                    codes.INVALID_PARAMETER_VALUE,
                    f"The value of parameter `Seq` is invalid: a new session starts at 0, got {upload.seq}.",
                )
            session = _Session(
                secret_id=secret_id,
                session_uuid=upload.session_uuid,
                source=upload.source,
                target=upload.target,
                translate_time=upload.translate_time,
                results=self._results_for(secret_id),
                tts=upload.tts,
            )
            self._sessions[key] = session
            log.info("session %s started (%s→%s)", upload.session_uuid, upload.source, upload.target)
            script = self._cues
            if script is not None and script.source_language not in (None, upload.source):
                log.warning(
                    "session %s is %s→%s but the cue script is written for %s→%s",
                    upload.session_uuid,
                    upload.source,
                    upload.target,
                    script.source_language,
                    script.target_language,
                )
        elif (session.source, session.target, session.translate_time) != (
            upload.source,
            upload.target,
            upload.translate_time,
        ):
            raise ApiFailure(
                codes.INVALID_PARAMETER_VALUE,
                "Source, Target and TranslateTime must not change within a session.",
            )
        return session

    def _results_for(self, secret_id: str) -> _CueResults | _SpeechResults:
        if self._cues is None:
            return _SpeechResults(self._segmenter)
        timeline = self._timelines.get(secret_id)
        if timeline is None:
            timeline = self._timelines[secret_id] = CueTimeline(self._cues, loop=self._loop_cues)
        return _CueResults(timeline)

    def _retry(self, session: _Session, upload: Upload, digest: bytes, now: float) -> None:
        packet = session.packets[upload.seq]
        if (packet.digest, packet.is_end) != (digest, upload.is_end):
            raise ApiFailure(
                codes.INVALID_PARAMETER_VALUE,
                f"The value of parameter `Seq` is invalid: packet {upload.seq} was already received with "
                "different data.",
            )
        packet.retried += 1
        session.last_at = now
        if self.duplicate_seq == "refuse":
            log.info("session %s: Seq %d re-sent; refused as a duplicate", session.session_uuid, upload.seq)
            raise ApiFailure(
                codes.DUPLICATED_SESSION_AND_SEQ,
                f"The SessionUuid and Seq {upload.seq} were already received.",
            )
        log.info("session %s: Seq %d retried (idempotent)", session.session_uuid, upload.seq)

    def _check_timing(self, session: _Session, seq: int, now: float) -> None:
        if session.last_at is not None and now - session.last_at > self._gap_limit_s:
            gap_ms = (now - session.last_at) * 1000
            session.gaps.append(Violation(seq, now, gap_ms))
            session.failed = f"{gap_ms / 1000:.1f} s without audio (more than {self._gap_limit_s:g} s)"
            log.warning(
                "session %s: %s before Seq %d; session failed", session.session_uuid, session.failed, seq
            )
            raise ApiFailure(codes.FAILED_OPERATION, f"The engine failed for this session: {session.failed}.")
        if session.first_at is not None:
            ahead_ms = session.sent_bytes / BYTES_PER_MS - (now - session.first_at) * 1000
            if ahead_ms > self._tolerance_ms:
                session.pacing.append(Violation(seq, now, ahead_ms))
                session.failed = f"audio sent faster than real time ({ahead_ms:.0f} ms ahead)"
                log.warning(
                    "session %s: Seq %d %s; session failed", session.session_uuid, seq, session.failed
                )
                raise ApiFailure(
                    codes.FAILED_OPERATION, f"The engine failed for this session: {session.failed}."
                )

    def _accept(self, session: _Session, upload: Upload, digest: bytes, now: float) -> None:
        size = len(upload.data)
        dropped = size < MIN_PACKET_BYTES
        oversize = size > MAX_PACKET_BYTES
        session.packets.append(_Packet(upload.seq, size, now, upload.is_end, digest, dropped, oversize))
        if session.first_at is None:
            session.first_at = now
        session.last_at = now
        session.sent_bytes += size
        if dropped:
            session.dropped_short += 1
            log.debug(
                "session %s: Seq %d dropped (%d bytes < 200 ms)", session.session_uuid, upload.seq, size
            )
        else:
            session.oversize += oversize
            before_ms = session.used_bytes // BYTES_PER_MS
            session.used_bytes += size
            session.results.feed(upload.data, session.used_bytes // BYTES_PER_MS - before_ms)
        if upload.is_end:
            session.ended = True
            session.results.finish()
            log.info("session %s ended at Seq %d", session.session_uuid, upload.seq)
        tts = session.tts
        session.book.update(
            session.results.drafts(
                session.source, session.target, translate_time=session.translate_time, closed=session.ended
            ),
            None
            if tts is None
            else lambda d: speech_audio(d.target_text, session.target, tts.codec, tts.sample_rate, tts.speed),
        )


def _listed(session: _Session, listing: str) -> list[Sentence]:
    book = session.book
    if listing == "changed":
        changed = book.changed_since(session.listed_revision)
        session.listed_revision = book.revision
        return changed
    if listing == "all":
        return list(book.all)
    if listing == "empty":
        return []
    return book.newest()


def _snapshot(s: _Session) -> SessionSnapshot:
    return SessionSnapshot(
        session_uuid=s.session_uuid,
        secret_id=s.secret_id,
        source=s.source,
        target=s.target,
        translate_time=s.translate_time,
        packets=tuple(
            PacketInfo(p.seq, p.size, p.received_at, p.is_end, p.retried, p.dropped, p.oversize)
            for p in s.packets
        ),
        dropped_short=s.dropped_short,
        oversize=s.oversize,
        pacing_violations=tuple(s.pacing),
        gap_violations=tuple(s.gaps),
        ended=s.ended,
        failed=s.failed,
        audio_ms=s.used_bytes // BYTES_PER_MS,
        sentences=s.book.all,
    )
