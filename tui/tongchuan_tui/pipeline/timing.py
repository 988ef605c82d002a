"""Where a service session's sentences go on the session timeline: its audio-to-timeline map, and the unit
of StartTime/EndTime, which the API reference does not give (its examples are 122 and 126).

The unit is calibrated per service session against the audio the client itself delivered in it: a sentence
cannot end after the audio the service has heard, so a unit that would put a reported time beyond what was
sent (plus a tolerance) is ruled out for good, and the largest unit not ruled out is used. Because sentences
are reported while the words are still fresh, every unit too large is ruled out within the first seconds of
speech, whatever the true unit is (ms, 10 ms or s). Times that fit no unit at all (or run backwards, or
describe speech long before the sentence was first reported) are not believed: such a sentence is placed
from the client's own observation, the audio delivered when it first appeared and when it last changed.
"""

from __future__ import annotations

import bisect

UNITS_MS = (1000, 10, 1)
"""Candidate units of StartTime/EndTime, largest first: s, 10 ms, ms."""
FIT_TOLERANCE_MS = 1500
"""How far past the audio delivered a reported time may go and still fit: seconds rounded up (1 s) plus the
last packet, which the delivered count may not include yet."""
MAX_REPORT_LAG_MS = 12_000
"""A sentence first reported this long after the audio it claims to end at is implausible."""


class TimelineMap:
    """Maps a service session's audio ms to session-timeline ms, and knows how much audio was delivered."""

    def __init__(self, offset_ms: int) -> None:
        self._service: list[int] = [0]
        self._timeline: list[int] = [offset_ms]
        self.delivered_ms: int | None = None
        """Service-side audio ms known delivered (at least); None before any packet was."""

    @property
    def offset_ms(self) -> int:
        """Where the service session's audio starts on the timeline."""
        return self._timeline[0]

    def add(self, service_ms: int, timeline_ms: int) -> None:
        """From `service_ms` on, the service's audio is the timeline's from `timeline_ms` (after a gap)."""
        if service_ms == self._service[-1]:
            self._timeline[-1] = timeline_ms
        elif service_ms > self._service[-1]:
            if self.to_timeline(service_ms) != timeline_ms:
                self._service.append(service_ms)
                self._timeline.append(timeline_ms)
        else:
            raise ValueError("breakpoints must be added in order")
        self.delivered_ms = max(self.delivered_ms or 0, service_ms)

    def to_timeline(self, service_ms: int) -> int:
        """The timeline position of the service's `service_ms`."""
        i = max(0, bisect.bisect_right(self._service, service_ms) - 1)
        return self._timeline[i] + (service_ms - self._service[i])


class UnitCalibration:
    """The unit of one service session's StartTime/EndTime, narrowed as its answers come in."""

    def __init__(self) -> None:
        self._alive = list(UNITS_MS)
        self._evidence = False

    @property
    def unit_ms(self) -> int:
        """ms per reported unit: the largest unit the audio sent has not ruled out (ms with no evidence)."""
        return self._alive[0] if self._evidence else 1

    def observe(self, raw: int, delivered_ms: int | None) -> bool:
        """Take a reported time against the audio delivered; False if it fits no candidate unit at all."""
        if delivered_ms is None:
            return True
        self._evidence = True
        fits = [u for u in self._alive if raw * u <= delivered_ms + FIT_TOLERANCE_MS]
        if not fits:
            return False  # a time that fits no unit at all rules nothing out
        self._alive = fits
        return True


def plausible(raw_start: int, raw_end: int, unit_ms: int, first_seen_ms: int | None, fits: bool) -> bool:
    """Whether a sentence's reported times can be believed (see the module docstring)."""
    if not fits or raw_start < 0 or (raw_end and raw_end < raw_start):
        return False
    end = max(raw_start, raw_end) * unit_ms
    return first_seen_ms is None or end + MAX_REPORT_LAG_MS >= first_seen_ms
