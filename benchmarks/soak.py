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
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.audio import LiveSource, speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.emulator.faults import FaultConfig, Refusal
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
"""At-Seq faults hit the Seq this far ahead of the newest one the emulator has."""
START_TOLERANCE_MS = 400
"""Two runs' sentence starts that differ by less than this are the same sentence."""
_PLACEHOLDER_NUMBER = re.compile(r"^\[(\S+) \d+: ")

Kind = Callable[[int], dict[str, Any]]

AT_SEQ_KINDS: list[tuple[str, Kind]] = [
    ("refusal ×3 (RequestLimitExceeded)", lambda s: {"refusals": (Refusal(s, 3),)}),
    ("9 s stall (rollover)", lambda s: {"stall_at_seq": (s,), "stall_ms": 9000.0}),
    ("answer lost (retry is a duplicate)", lambda s: {"lose_response_at_seq": (s, s + 3)}),
    ("FailedOperation (rollover)", lambda s: {"error_at_seq": (s,), "error_code": "FailedOperation"}),
    ("HTTP 503", lambda s: {"http_5xx_at_seq": (s, s + 2)}),
    ("refusal ×2 (ServiceUnavailable)", lambda s: {"refusals": (Refusal(s, 2, "ServiceUnavailable"),)}),
    ("connection reset", lambda s: {"reset_at_seq": (s,)}),
    ("latency 150 ms ± 100", lambda s: {"latency_ms": 150.0, "jitter_ms": 100.0}),
]
RATE_CODES = ("InternalError", "ServiceUnavailable", "RequestLimitExceeded")


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
    faulted_by_kind: dict[str, int] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    service_sessions: int = 0
    rollovers: int = 0
    pacing_violations: int = 0
    gap_violations: int = 0
    failed_sessions: int = 0
    stall_gaps: int = 0
    """Gaps the emulator saw at a request it had itself stalled (after the client gave the session up)."""
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
        """Faulted requests over all requests."""
        return self.faulted / self.requests if self.requests else 0.0


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


async def _rotate_faults(emu: EmulatorThread, kinds_seen: list[str]) -> None:
    """Every PERIOD_S, the next at-Seq fault (aimed just ahead of the newest Seq) over a random error rate."""
    for turn in itertools.count():
        name, kind = AT_SEQ_KINDS[turn % len(AT_SEQ_KINDS)]
        code = RATE_CODES[turn % len(RATE_CODES)]
        state = emu.call(lambda: emu.handle.state)
        newest = state.sessions[-1].packets[-1].seq if state.sessions and state.sessions[-1].packets else 0
        config = FaultConfig(error_rate=BACKGROUND_RATE, error_code=code, seed=turn, **kind(newest + AHEAD))
        emu.call(lambda config=config: emu.handle.set_faults(config))
        kinds_seen.append(f"{name} + {BACKGROUND_RATE:.0%} {code}")
        await asyncio.sleep(PERIOD_S)


def _normalised(finals: dict[str, Sentence]) -> list[tuple[int, str, str]]:
    """(start, source, target) in timeline order, the emulator's per-session placeholder number removed."""

    def text(value: str) -> str:
        return _PLACEHOLDER_NUMBER.sub(r"[\1: ", value)

    ordered = sorted(finals.values(), key=lambda s: s.start_ms)
    return [(s.start_ms, text(s.source_text), text(s.target_text)) for s in ordered if s.source_text]


def _compare(clean: list[tuple[int, str, str]], faulted: list[tuple[int, str, str]]) -> list[str]:
    diff: list[str] = []
    for a, b in itertools.zip_longest(clean, faulted):
        if a is None or b is None or abs(a[0] - b[0]) > START_TOLERANCE_MS or a[1:] != b[1:]:
            diff.append(f"fault-free {a} vs faulted {b}")
    return diff


def _judge(result: SoakResult, emu: EmulatorThread, record: Recorded, audio_ms: int) -> None:
    state = emu.call(lambda: emu.handle.state)
    result.requests = len(state.requests)
    faulted = [r for r in state.requests if r.fault]
    result.faulted = len(faulted)
    for r in faulted:
        result.faulted_by_kind[str(r.fault)] = result.faulted_by_kind.get(str(r.fault), 0) + 1
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
        EmulatorThread(variant=WireVariant(duplicate_seq="refuse")) as noisy,
    ):
        rotate = asyncio.ensure_future(_rotate_faults(noisy, result.kinds))
        try:
            await asyncio.gather(_interpret(quiet, pcm, clean), _interpret(noisy, pcm, faulted))
        finally:
            rotate.cancel()
            await asyncio.gather(rotate, return_exceptions=True)
        _judge(result, noisy, faulted, len(pcm) // 32)
    result.rollovers = faulted.rollovers
    result.interrupted = sum(1 for s in faulted.finals.values() if s.interrupted)
    expected, got = _normalised(clean.finals), _normalised(faulted.finals)
    result.sentences, result.clean_sentences = len(got), len(expected)
    result.transcript_diff = _compare(expected, got)
    result.same_transcript = not result.transcript_diff
    result.exit_code, result.clean_exit_code = faulted.exit_code, clean.exit_code
    return result
