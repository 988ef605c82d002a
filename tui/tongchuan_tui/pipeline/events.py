"""The typed event stream a session emits to its sinks (UI, journal, plain and JSONL output).

Events are small frozen dataclasses with past-tense names. Times called `*_ms` are milliseconds on the
session timeline: audio time since the session's input started, carried across service-session rollovers
and pauses (a pause stops the timeline; it does not leave a hole in it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence as the transcript holds it, placed on the session timeline."""

    key: str
    """Unique in the session: `{service_session_index}:{se_id}`."""
    service_session: int
    se_id: str
    """The service's SeId: opaque text, compared for equality only (never parsed, never ordered)."""
    se_ver: int
    source_text: str
    target_text: str
    start_ms: int
    end_ms: int
    final: bool
    raw_start: int | None = None
    """StartTime as the service sent it (its unit is undocumented); None in journals of format 1."""
    raw_end: int | None = None
    """EndTime as the service sent it."""
    unit_ms: int | None = None
    """How many ms one StartTime unit was taken to be when placing it (1, 10, 1000); 0: placed from when
    the client saw it, because the service's times did not fit the audio sent."""
    interrupted: bool = False
    """A rollover cut it and the re-sent audio could not complete it: final, but its text may be partial."""
    target: str = ""
    """The target language this belongs to ("" in single-target journals written before multi-target)."""


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """The health of the stream at one moment, for the stats pane and the journal."""

    requests_ok: int = 0
    requests_retried: int = 0
    requests_failed: int = 0
    requests_per_s: float = 0.0
    rtt_p50_ms: float | None = None
    rtt_p95_ms: float | None = None
    rtt_p99_ms: float | None = None
    rtt_recent_ms: tuple[float, ...] = ()
    in_flight: int = 0
    backlog_ms: int = 0
    dropped_ms: int = 0
    behind_live_ms: int = 0
    audio_sent_ms: int = 0
    service_sessions: int = 0
    rollovers: int = 0
    last_error_code: str | None = None
    last_error_message: str | None = None
    rate_headroom: dict[str, float] = field(default_factory=dict)
    """Per action, the fraction (0..1) of its rate limit still unused over the last second."""
    rtt_now_ms: float | None = None
    """The median round trip over the last 10 s (None when nothing was answered in them)."""
    lag_first_ms: int | None = None
    """Speaker to screen: how long after its first words the newest sentence's first text arrived."""
    lag_final_ms: int | None = None
    """Speaker to screen: how long after its last words the newest final sentence became final."""
    backlog_limit_ms: int = 0
    """Live input: the backlog at which audio is dropped; 0 for a file or stdin (read ahead, never lost)."""


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """A session began: what it interprets, how, and with which settings (no secrets)."""

    started_at_utc: float
    input: str
    source: str
    target: str
    mode: str
    chunk_ms: int
    endpoint_host: str
    emulated: bool
    settings: dict[str, Any] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    """Every target language, `target` first (empty when there is only `target`)."""

    @property
    def all_targets(self) -> tuple[str, ...]:
        """The target languages of the session, the first one (whose source text is shown) first."""
        return self.targets or (self.target,)


@dataclass(frozen=True, slots=True)
class ServiceSessionOpened:
    """A new SessionUuid began (at start, after a resume, after a rollover or an input switch)."""

    session_uuid: str
    index: int
    offset_ms: int
    reason: str
    lead_ms: int = 0
    """Live audio already spoken when it opened, counted in its 1:1 budget (its pacing origin is that
    much earlier than this event)."""
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class ServiceSessionClosed:
    """A SessionUuid ended (IsEnd sent, or abandoned after failed recovery)."""

    session_uuid: str
    index: int
    reason: str
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class ChunkSent:
    """A packet was accepted by the service."""

    seq: int
    session_uuid: str
    audio_start_ms: int
    duration_ms: int
    size_bytes: int
    sent_at_ms: int
    round_trip_ms: float
    request_id: str
    retries: int
    is_end: bool
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class RequestRetried:
    """A request failed transiently and will be retried after `delay_ms`."""

    action: str
    seq: int | None
    attempt: int
    code: str
    message: str
    delay_ms: int
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A request failed for good; `final` means the session cannot go on (auth, parameters)."""

    action: str
    seq: int | None
    code: str
    message: str
    final: bool
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class SentenceRevised:
    """A sentence appeared or changed; `sentence.final` says it will not change again."""

    sentence: Sentence


@dataclass(frozen=True, slots=True)
class SentenceVoiced:
    """A final sentence's synthesized speech arrived (taken once; its audio never reaches the journal)."""

    key: str
    """The sentence's `Sentence.key`."""
    index: int
    """The n-th voiced sentence of the session, from 0 (names its file when the voice is kept)."""
    at_ms: int
    """The timeline position when the audio arrived: it is not voiced before then."""
    start_ms: int
    end_ms: int
    text: str
    codec: str
    """The codec asked for (wav, mp3, pcm); the audio itself may say otherwise."""
    sample_rate: int
    size_bytes: int
    audio: bytes = field(default=b"", repr=False, compare=False)
    """The audio as the service sent it (base64 decoded); dropped from JSON (`event_to_json`)."""


@dataclass(frozen=True, slots=True)
class AudioDropped:
    """Live audio was dropped because the backlog exceeded its bound."""

    at_ms: int
    duration_ms: int
    reason: str
    target: str = ""
    """The target language it belongs to ("" in older journals)."""


@dataclass(frozen=True, slots=True)
class LevelMeasured:
    """The input level of the latest audio (high rate; sinks coalesce)."""

    dbfs: float
    peak_dbfs: float
    clipped: bool
    silent_for_ms: int


@dataclass(frozen=True, slots=True)
class StatsUpdated:
    """Periodic stats: of the whole session (`target` ""), or of one target's service sessions."""

    stats: StatsSnapshot
    target: str = ""


@dataclass(frozen=True, slots=True)
class MarkAdded:
    """The user marked a moment."""

    at_ms: int
    label: str


@dataclass(frozen=True, slots=True)
class Paused:
    """Interpretation paused (the service session was ended with IsEnd)."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class Resumed:
    """Interpretation resumed on a new service session; the timeline goes on from `at_ms`."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class InputChanged:
    """The audio input was switched while running."""

    at_ms: int
    input: str


@dataclass(frozen=True, slots=True)
class WarningRaised:
    """Something the user should know that does not stop the session (journal unwritable, overflow...)."""

    message: str
    code: str = "warning"


@dataclass(frozen=True, slots=True)
class TargetEnded:
    """One target of a multi-target session stopped early (rejected, unreachable) while the others go on."""

    target: str
    reason: str
    exit_code: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class HealthChanged:
    """The session's health state changed (pipeline/health.py: state, its reason, details, since when)."""

    state: str
    reason: str = ""
    detail: str = ""
    since_utc: float = 0.0


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session is over; `reason` is input-ended, stopped, interrupted or failed."""

    reason: str
    at_ms: int
    exit_code: int
    message: str = ""


Event = (
    SessionStarted
    | ServiceSessionOpened
    | ServiceSessionClosed
    | ChunkSent
    | RequestRetried
    | RequestFailed
    | SentenceRevised
    | SentenceVoiced
    | AudioDropped
    | LevelMeasured
    | StatsUpdated
    | MarkAdded
    | Paused
    | Resumed
    | InputChanged
    | WarningRaised
    | TargetEnded
    | HealthChanged
    | SessionEnded
)


def of_target(tagged: str, wanted: str, first: str) -> bool:
    """Whether something tagged `tagged` belongs to target `wanted` of a session whose first target is
    `first` (untagged things, from single-target journals, belong to the first)."""
    return tagged == wanted or (not tagged and wanted == first)


Sink: TypeAlias = Callable[[Event], None]
"""Anything that takes events. It may be called from a thread that is not its own (the session engine's):
it must not block, and hands any slow work (disk, a terminal, a socket) to its own thread or queue."""

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        SessionStarted,
        ServiceSessionOpened,
        ServiceSessionClosed,
        ChunkSent,
        RequestRetried,
        RequestFailed,
        SentenceRevised,
        SentenceVoiced,
        AudioDropped,
        LevelMeasured,
        StatsUpdated,
        MarkAdded,
        Paused,
        Resumed,
        InputChanged,
        WarningRaised,
        TargetEnded,
        HealthChanged,
        SessionEnded,
    )
}


def event_to_json(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of an event, tagged with its type name under `type`."""
    data = dataclasses.asdict(event)
    if isinstance(event, SentenceVoiced):
        del data["audio"]  # large, binary: kept beside the journal only when asked (--keep-voice)
    data["type"] = type(event).__name__
    return data


def event_from_json(data: dict[str, Any]) -> Event:
    """Rebuild an event from `event_to_json`'s form; raises KeyError/TypeError/ValueError if malformed."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("type")]
    if cls is SentenceRevised:
        return SentenceRevised(Sentence(**data["sentence"]))
    if cls is SessionStarted and "started_at" in data:
        # --jsonl's form: started_at_utc as ISO text, the epoch seconds under started_at (as in the journal).
        data["started_at_utc"] = data.pop("started_at")
    if cls is StatsUpdated:
        stats = dict(data["stats"])
        stats["rtt_recent_ms"] = tuple(stats.get("rtt_recent_ms", ()))
        return StatsUpdated(StatsSnapshot(**stats), target=str(data.get("target", "")))
    if cls is SessionStarted and "targets" in data:
        data["targets"] = tuple(data["targets"])
    event: Event = cls(**data)
    return event
