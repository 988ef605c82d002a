"""The soak: a long live session with at least 5 % of requests faulted across every fault kind, judged from
the emulator's side against a fault-free run of the same audio (issue 15).

Both runs go at once, each against its own emulator thread. The faulted emulator answers a re-sent Seq as a
duplicate (`InvalidParameter.DuplicatedSessionIdAndSeq`) and rotates its faults every `PERIOD_S`: a random
error rate (InternalError, ServiceUnavailable, RequestLimitExceeded in turn) under one at-Seq fault aimed a
few packets ahead of the newest Seq (refusals, HTTP 5xx, resets, lost answers, a 9-second stall and
FailedOperation — the last two force rollovers — and latency with jitter).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.audio import LiveSource, speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.emulator.faults import FaultConfig, Refusal
from tongchuan_tui.emulator.state import EmulatorState, RequestRecord, SessionSnapshot, Violation
from tongchuan_tui.emulator.variants import WireVariant
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    Sentence,
    SentenceRevised,
    ServiceSessionOpened,
    SessionEnded,
)
from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions

PERIOD_S = 5.0
BACKGROUND_RATE = 0.04
"""Random faults on any request, under the at-Seq ones (together above 5 % of requests)."""
AHEAD = 3
REAIM_S = 0.5
"""How often the rotation looks for a rollover that calls for re-aiming the period's fault."""
"""At-Seq faults hit the Seq this far ahead of the newest one the emulator has."""
START_TOLERANCE_MS = 400
"""Two runs' sentence starts that differ by less than this are the same sentence."""
_PLACEHOLDER_NUMBER = re.compile(r"^\[(\S+) \d+: ")
_PLACEHOLDER_LENGTH = re.compile(r"^\[(\S+): (\d+\.\d) (\S+)\]$")
LENGTH_TOLERANCE_S = 0.1
"""Placeholder lengths (tenths of a second) that differ by this much are the same sentence: the segmenter
frames audio by 20 ms from the start of each service session, so a stretch re-sent after a rollover falls
on another frame phase than the fault-free run's, and its rounded length can come out a tenth apart."""

Kind = Callable[[int], dict[str, Any]]

# (name, the emulator's label of the requests it faults, its fields of FaultConfig at a Seq). FaultConfig has
# one `error_code`, the background rate's, so at-Seq error codes go in as one-time refusals instead.
AT_SEQ_KINDS: list[tuple[str, str, Kind]] = [
    ("refusal ×3 (RequestLimitExceeded)", "RequestLimitExceeded", lambda s: {"refusals": (Refusal(s, 3),)}),
    ("9 s stall (rollover)", "stall", lambda s: {"stall_at_seq": (s,), "stall_ms": 9000.0}),
    ("answer lost (retry is a duplicate)", "lost-response", lambda s: {"lose_response_at_seq": (s, s + 3)}),
    (
        "FailedOperation (rollover)",
        "FailedOperation",
        lambda s: {"refusals": (Refusal(s, 1, "FailedOperation"),)},
    ),
    ("HTTP 503", "HTTP503", lambda s: {"http_5xx_at_seq": (s, s + 2)}),
    (
        "refusal ×2 (ServiceUnavailable)",
        "ServiceUnavailable",
        lambda s: {"refusals": (Refusal(s, 2, "ServiceUnavailable"),)},
    ),
    ("connection reset", "reset", lambda s: {"reset_at_seq": (s,)}),
    ("latency 150 ms ± 100", "latency", lambda s: {"latency_ms": 150.0, "jitter_ms": 100.0}),
]
RATE_CODES = ("InternalError", "ServiceUnavailable", "RequestLimitExceeded")
DELAYED = "latency"
"""The label of a request only delayed: listed, but not counted as faulted (it went through)."""


@dataclass(frozen=True)
class Turn:
    """One period of the rotation: its at-Seq fault, aimed at `seqs`, from the request numbered
    `first_request` on."""

    name: str
    label: str
    seqs: frozenset[int]
    code: str
    first_request: int
    session_uuid: str | None = None
    """The service session it is aimed at (None: every one)."""


def plan(turn: int, session_uuid: str | None, newest_seq: int) -> tuple[Turn, FaultConfig]:
    """The faults of one period: the next at-Seq kind, aimed just ahead of `newest_seq` of that session
    only, over the next background code at BACKGROUND_RATE."""
    name, label, kind = AT_SEQ_KINDS[turn % len(AT_SEQ_KINDS)]
    code = RATE_CODES[turn % len(RATE_CODES)]
    # Aimed at one session: else a rollover's next session, its Seq from 0 again, meets the same fault (a
    # stall there is another rollover, and so on), and the next kinds aim past where it is.
    at_seq = kind(newest_seq + AHEAD)
    config = FaultConfig(
        error_rate=BACKGROUND_RATE, error_code=code, seed=turn, session_uuid=session_uuid, **at_seq
    )
    seqs = {r.seq for r in config.refusals}
    for fault in ("stall_at_seq", "lose_response_at_seq", "http_5xx_at_seq", "reset_at_seq", "error_at_seq"):
        seqs.update(getattr(config, fault))
    return Turn(name, label, frozenset(seqs), code, 0, session_uuid), config


def fired(requests: Sequence[RequestRecord], turn: Turn) -> bool:
    """Whether the turn's at-Seq fault has hit a request since it was set (a stalled one may not be logged
    yet: it is, once it is answered)."""
    return any(
        r.fault == turn.label and (turn.label == DELAYED or r.seq in turn.seqs)
        for r in requests
        if r.number >= turn.first_request
    )


def attribute(requests: Sequence[RequestRecord], turns: Sequence[Turn]) -> dict[str, int]:
    """Faulted requests by the fault that hit them: a turn's at-Seq kind when the label and Seq are its (a
    stalled or retried request is logged in a later turn, so the last few turns are looked at), else the
    random rate's code."""
    counts: dict[str, int] = {}
    for record in requests:
        if not record.fault:
            continue
        current = [t for t in turns if t.first_request <= record.number][-3:]
        name = next(
            (
                t.name
                for t in reversed(current)
                if t.label == record.fault and (t.label == DELAYED or record.seq in t.seqs)
            ),
            f"random {record.fault}",
        )
        counts[name] = counts.get(name, 0) + 1
    return counts


@dataclass
class Recorded:
    """What one session did, from its events."""

    finals: dict[str, Sentence] = field(default_factory=dict)
    chunks: list[ChunkSent] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    rollovers: int = 0
    exit_code: int = -1
    message: str = ""

    def sink(self, event: Event) -> None:
        """Collect one event."""
        if isinstance(event, SentenceRevised) and event.sentence.final:
            self.finals[event.sentence.key] = event.sentence
        elif isinstance(event, ChunkSent):
            self.chunks.append(event)
        elif isinstance(event, ServiceSessionOpened):
            self.offsets[event.session_uuid] = event.offset_ms
            self.rollovers += event.reason == "rollover"
        elif isinstance(event, SessionEnded):
            self.exit_code, self.message = event.exit_code, event.message


@dataclass
class SoakResult:
    """The soak's figures, judged from the emulator's side where the emulator can see it."""

    seconds: float
    requests: int = 0
    faulted: int = 0
    """Requests that failed (refused, reset, lost, stalled); not those only delayed."""
    faulted_by_kind: dict[str, int] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    service_sessions: int = 0
    rollovers: int = 0
    pacing_violations: int = 0
    gap_violations: int = 0
    failed_sessions: int = 0
    stall_gaps: int = 0
    """Gaps the emulator saw at a request it had itself stalled (after the client gave the session up)."""
    gap_details: list[str] = field(default_factory=list)
    """For each gap violation: the session, Seq and gap, whether the client had moved on to a later
    session by then, and the session's requests in the seconds before it."""
    requests_logged: int = 0
    """Requests the emulator's log still held at the end (all of them unless it overflowed)."""
    seq_breaks: int = 0
    missing_ms: int = 0
    repeated_ms: int = 0
    """Audio heard twice outside a rollover's re-sent stretch."""
    resent_ms: int = 0
    interrupted: int = 0
    sentences: int = 0
    clean_sentences: int = 0
    same_transcript: bool = False
    transcript_diff: list[str] = field(default_factory=list)
    exit_code: int = -1
    clean_exit_code: int = -1

    @property
    def faulted_share(self) -> float:
        """Faulted requests over the requests logged (all of them, unless the log overflowed)."""
        logged = self.requests_logged or self.requests
        return self.faulted / logged if logged else 0.0


def _options() -> SessionOptions:
    # A backlog long enough that the stalls' lag never drops audio: every byte must reach the service.
    return SessionOptions(
        source="zh", target="en", mode="sync", chunk_ms=200, max_backlog_ms=300_000, end_timeout_s=8.0
    )


async def _interpret(emu: EmulatorThread, pcm: bytes, record: Recorded) -> None:
    handle = emu.handle
    creds = Credentials(handle.secret_id, handle.secret_key)
    async with TsiClient(creds, endpoint=handle.url, timeout_s=10.0) as client:
        source = LiveSource(pcm, description="bench:soak")
        session = InterpreterSession(_options(), client, source, sinks=[record.sink])
        await session.run()


async def _rotate_faults(emu: EmulatorThread, turns: list[Turn]) -> None:
    """Every PERIOD_S, the next at-Seq fault (aimed just ahead of the newest Seq) over a random error rate.
    A rollover within the period (the last period's stall or FailedOperation, the client giving a session
    up) re-aims a fault that has not fired yet at the new session: else the kind after a stall would always
    aim at the abandoned session, and never fire."""
    loop = asyncio.get_running_loop()
    for number in itertools.count():
        turn = _aim(emu, number, turns)
        deadline = loop.time() + PERIOD_S
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(REAIM_S, left))
            state = emu.call(lambda: emu.handle.state)
            newest = state.sessions[-1].session_uuid if state.sessions else None
            # Not a stall: a stalled request is logged only once answered, so the rollover it caused would
            # look like one before it fired, and a re-aimed stall would stall the next session too.
            if newest != turn.session_uuid and turn.label != "stall" and not fired(state.requests, turn):
                turn = _aim(emu, number, turns)


def _aim(emu: EmulatorThread, number: int, turns: list[Turn]) -> Turn:
    state = emu.call(lambda: emu.handle.state)
    current = state.sessions[-1] if state.sessions else None
    newest = current.packets[-1].seq if current and current.packets else 0
    turn, config = plan(number, current.session_uuid if current else None, newest)
    emu.call(functools.partial(emu.handle.set_faults, config))
    # The request's number, not an index into the log: the log keeps only the newest requests.
    turn = dataclasses.replace(turn, first_request=state.requests_total)
    turns.append(turn)
    return turn


def _normalised(finals: dict[str, Sentence]) -> list[tuple[int, str, str]]:
    """(start, source, target) in timeline order, the emulator's per-session placeholder number removed."""

    def text(value: str) -> str:
        return _PLACEHOLDER_NUMBER.sub(r"[\1: ", value)

    ordered = sorted(finals.values(), key=lambda s: s.start_ms)
    return [(s.start_ms, text(s.source_text), text(s.target_text)) for s in ordered if s.source_text]


def _same_text(a: str, b: str) -> bool:
    """Equal, or the same placeholder whose lengths differ by a frame phase (LENGTH_TOLERANCE_S)."""
    if a == b:
        return True
    ma, mb = _PLACEHOLDER_LENGTH.match(a), _PLACEHOLDER_LENGTH.match(b)
    if ma is None or mb is None or (ma[1], ma[3]) != (mb[1], mb[3]):
        return False
    return abs(float(ma[2]) - float(mb[2])) <= LENGTH_TOLERANCE_S + 1e-9


def _compare(clean: list[tuple[int, str, str]], faulted: list[tuple[int, str, str]]) -> list[str]:
    diff: list[str] = []
    for a, b in itertools.zip_longest(clean, faulted):
        if (
            a is None
            or b is None
            or abs(a[0] - b[0]) > START_TOLERANCE_MS
            or not (_same_text(a[1], b[1]) and _same_text(a[2], b[2]))
        ):
            diff.append(f"fault-free {a} vs faulted {b}")
    return diff


def _gap_detail(
    state: EmulatorState, ours: Sequence[SessionSnapshot], session: SessionSnapshot, violation: Violation
) -> str:
    """One gap violation told in full, to find whose it was."""
    index = ours.index(session)
    later = [s for s in ours[index + 1 :] if s.packets]
    moved_on = bool(later) and later[0].packets[0].received_at < violation.at
    before = [
        f"{r.at - violation.at:+.2f}s Seq {r.seq} {r.code or 'ok'}{f' [{r.fault}]' if r.fault else ''}"
        for r in state.requests
        if r.session_uuid == session.session_uuid and violation.at - 8.0 <= r.at <= violation.at + 0.5
    ]
    return (
        f"session {index} Seq {violation.seq}: {violation.amount_ms:.0f} ms without audio; client had "
        f"{'' if moved_on else 'not '}moved on; its requests: {', '.join(before) or 'none'}"
    )


def _judge(
    result: SoakResult, emu: EmulatorThread, record: Recorded, audio_ms: int, turns: Sequence[Turn]
) -> None:
    state = emu.call(lambda: emu.handle.state)
    result.requests, result.requests_logged = state.requests_total, len(state.requests)
    faulted = [r for r in state.requests if r.fault]
    result.faulted = sum(1 for r in faulted if r.fault != DELAYED)
    result.faulted_by_kind = attribute(state.requests, turns)
    ours = [s for s in state.sessions if s.session_uuid in record.offsets]
    result.service_sessions = len(ours)
    # A stalled request reaches the engine late by the stall itself (the network held it): that gap is the
    # fault's, not the client's, which had given the session up by then.
    stalled = {(r.session_uuid, r.seq) for r in faulted if r.fault == "stall"}
    result.pacing_violations = sum(len(s.pacing_violations) for s in ours)
    for s in ours:
        own = [v for v in s.gap_violations if (s.session_uuid, v.seq) not in stalled]
        result.gap_violations += len(own)
        result.stall_gaps += len(s.gap_violations) - len(own)
        result.gap_details += [_gap_detail(state, ours, s, v) for v in own]
        result.failed_sessions += bool(s.failed) and (bool(own) or bool(s.pacing_violations))
    accepted: dict[str, set[int]] = {}
    for s in ours:
        seqs = [p.seq for p in s.packets if not p.dropped]
        result.seq_breaks += sum(1 for i, seq in enumerate(seqs) if seq != i)
        accepted[s.session_uuid] = set(seqs)
    # Which timeline audio the emulator accepted, each accepted packet placed by the client's ChunkSent, by
    # service session in the order they opened. Audio a later session hears again is a rollover's re-sent
    # stretch (from the start of the open sentence); audio heard twice within one session is a fault.
    order = list(record.offsets)
    by_session: dict[str, list[tuple[int, int]]] = {uuid: [] for uuid in order}
    for chunk in record.chunks:
        if chunk.session_uuid in by_session and chunk.seq in accepted.get(chunk.session_uuid, set()):
            real_ms = min(chunk.duration_ms, max(0, audio_ms - chunk.audio_start_ms))
            by_session[chunk.session_uuid].append((chunk.audio_start_ms, chunk.audio_start_ms + real_ms))
    covered = 0
    for uuid in order:
        own_end = None
        for start, end in sorted(by_session[uuid]):
            if own_end is not None and start < own_end:
                result.repeated_ms += min(end, own_end) - start
            if start > covered:
                result.missing_ms += start - covered
            elif start < covered:
                result.resent_ms += min(end, covered) - start
            own_end = end if own_end is None else max(own_end, end)
            covered = max(covered, end)
    result.missing_ms += max(0, audio_ms - covered)


async def run_soak(seconds: float) -> SoakResult:
    """Run the fault-free and the faulted session side by side over `seconds` of speech; judge them."""
    pcm = speech_pcm(seconds)
    result = SoakResult(seconds=seconds)
    clean, faulted = Recorded(), Recorded()
    with (
        EmulatorThread() as quiet,
        # A request log long enough to judge every request of the run (about 7 a second, retries included).
        EmulatorThread(
            variant=WireVariant(duplicate_seq="refuse"), request_log_size=int(seconds * 20) + 2000
        ) as noisy,
    ):
        turns: list[Turn] = []
        rotate = asyncio.ensure_future(_rotate_faults(noisy, turns))
        try:
            await asyncio.gather(_interpret(quiet, pcm, clean), _interpret(noisy, pcm, faulted))
        finally:
            if rotate.done() and not rotate.cancelled() and rotate.exception() is not None:
                # A rotation that died leaves one period's faults in force for the rest of the soak.
                raise RuntimeError("the soak's fault rotation failed") from rotate.exception()
            rotate.cancel()
            await asyncio.gather(rotate, return_exceptions=True)
        result.kinds = [f"{t.name} + {BACKGROUND_RATE:.0%} {t.code}" for t in turns]
        _judge(result, noisy, faulted, len(pcm) // 32, turns)
    result.rollovers = faulted.rollovers
    result.interrupted = sum(1 for s in faulted.finals.values() if s.interrupted)
    expected, got = _normalised(clean.finals), _normalised(faulted.finals)
    result.sentences, result.clean_sentences = len(got), len(expected)
    result.transcript_diff = _compare(expected, got)
    result.same_transcript = not result.transcript_diff
    result.exit_code, result.clean_exit_code = faulted.exit_code, clean.exit_code
    return result
