"""How far an input that is not live (a file, stdin from a file) trails real time.

For a live input lag is plain: the audio received but not yet sent. A file has no live edge and is read only
as fast as it is sent, so its backlog stays at the read-ahead whatever happens; its lag is measured instead
against an ideal listener who hears it at 1:1 from the first packet on: that position advances with the
clock while audio is waiting to be sent, and catches up with what was sent whenever nothing is waiting
(the input is stalled or over) or the session is paused.
"""

from __future__ import annotations

from tongchuan_tui.pipeline.clock import Clock


class LagMeter:
    """The lag of a non-live input, sampled as often as the stats are (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: float | None = None
        self._ideal_ms = 0.0

    def sample(self, *, waiting: bool, paused: bool, sent_ms: int) -> int:
        """The lag now, in ms: `waiting` says audio is queued to be sent; `sent_ms` is the timeline sent."""
        now = self._clock.monotonic()
        elapsed_ms = 0.0 if self._last is None else (now - self._last) * 1000
        self._last = now
        if paused or not waiting:
            self._ideal_ms = float(sent_ms)
            return 0
        self._ideal_ms = max(self._ideal_ms + elapsed_ms, float(sent_ms))
        return round(self._ideal_ms - sent_ms)
