"""Pure arithmetic over what a run recorded: latency, pacing against the ideal schedule, lag behind live."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.measure import Summary, summarize

AHEAD_TOLERANCE_MS = 1.0
"""Clock reads of two threads differ by well under a millisecond; earlier than this is 'ahead'."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One packet as it reached the service: its audio span (ms, from the stream's start) and arrival time."""

    seq: int
    audio_start_ms: int
    duration_ms: int
    wire_at: float
    """Monotonic seconds at which the request reached the server."""
    is_end: bool = False
    session: str = ""
    """The SessionUuid it belongs to."""

    @property
    def audio_end_ms(self) -> int:
        """Where the packet's audio ends on the stream's timeline."""
        return self.audio_start_ms + self.duration_ms


@dataclass(frozen=True, slots=True)
class Pacing:
    """Error of arrival times against `start + audio_end` (positive: late, negative: ahead)."""

    errors_ms: tuple[float, ...]
    abs_error: Summary
    ahead: int
    """Packets that arrived before all of their audio could have been spoken (earlier than tolerance)."""
    earliest_ms: float
    """The most negative error (how far ahead the worst packet was)."""


def pacing(packets: Sequence[Packet], start: float) -> Pacing:
    """Each audio packet's arrival against the ideal 1:1 schedule that begins at `start` (the IsEnd packet,
    whose padding is not speech, is left out)."""
    errors = [(p.wire_at - start) * 1000 - p.audio_end_ms for p in packets if not p.is_end]
    return Pacing(
        errors_ms=tuple(errors),
        abs_error=summarize([abs(e) for e in errors]),
        ahead=sum(1 for e in errors if e < -AHEAD_TOLERANCE_MS),
        earliest_ms=min(errors, default=float("nan")),
    )


def service_excess_ms(packets: Sequence[Packet]) -> float:
    """The most audio delivered ahead of real time as the service can judge it: at each arrival, the audio
    its session had received before, less the time since the session's first packet arrived (≤ 0: never
    ahead). Needs no start time, so it holds whatever clock the client paces by; arrival jitter shows in
    it."""
    first: dict[str, float] = {}
    delivered: dict[str, int] = {}
    worst = float("-inf")
    for p in sorted(packets, key=lambda p: p.wire_at):
        start = first.setdefault(p.session, p.wire_at)
        worst = max(worst, delivered.get(p.session, 0) - (p.wire_at - start) * 1000)
        delivered[p.session] = delivered.get(p.session, 0) + p.duration_ms
    return worst


def lag_behind(packets: Sequence[Packet], available_at: Callable[[int], float | None]) -> list[float]:
    """Per audio packet, ms from the moment its last sample was available to its arrival at the server."""
    lags: list[float] = []
    for p in packets:
        if p.is_end:
            continue
        ready = available_at(p.audio_end_ms)
        if ready is not None:
            lags.append((p.wire_at - ready) * 1000)
    return lags


def sizes(packets: Sequence[Packet]) -> str:
    """Packet durations used, most common first, e.g. `200 ms ×80, 500 ms ×12`."""
    counts = Counter(p.duration_ms for p in packets if not p.is_end)
    return ", ".join(f"{ms} ms ×{n}" for ms, n in sorted(counts.items()))


def intervals_ms(packets: Sequence[Packet]) -> list[float]:
    """Gaps between successive arrivals (for jitter)."""
    times = [p.wire_at for p in packets]
    return [(b - a) * 1000 for a, b in itertools.pairwise(times)]


def growth_ms_per_min(audio_end_ms: list[int], behind_ms: list[float]) -> float:
    """Least-squares slope of behind-live against audio time, in ms per minute of audio."""
    n = len(behind_ms)
    if n < 2:
        return math.nan
    xs = [e / 60_000 for e in audio_end_ms[:n]]
    mx, my = sum(xs) / n, sum(behind_ms) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, behind_ms, strict=True)) / var if var else math.nan
