"""Where each sentence's speech goes on a track: in order, never overlapping, and staying live.

A sentence is voiced when it arrives, or when the one before it has finished, whichever is later. How long
it waited ("behind live") decides how it is played:
- up to `catch_up_ms`: as it is;
- beyond that: faster (`CATCH_UP_TEMPO`, same pitch), so the queue drains;
- beyond `SKIP_FACTOR` × `catch_up_ms`: not at all (skipped), so the voice is back to live at once.
Positions are milliseconds on whatever clock the caller uses (the session timeline for a file, the wall
clock for a device); the planner itself keeps no time (testable with any clock).
"""

from __future__ import annotations

from dataclasses import dataclass

CATCH_UP_TEMPO = 1.5
SKIP_FACTOR = 3


@dataclass(frozen=True, slots=True)
class Placement:
    """How one sentence is voiced: from `start_ms` for `duration_ms` at `tempo`, or skipped."""

    key: str
    arrived_ms: int
    start_ms: int
    duration_ms: int
    tempo: float
    skipped: bool

    @property
    def behind_ms(self) -> int:
        """How long it waited after arriving."""
        return self.start_ms - self.arrived_ms

    @property
    def end_ms(self) -> int:
        """Where the next sentence may start."""
        return self.start_ms if self.skipped else self.start_ms + self.duration_ms


class VoicePlanner:
    """Places sentences one after another; `catch_up_ms` is how far behind live the voice may fall."""

    def __init__(
        self, catch_up_ms: int, *, tempo: float = CATCH_UP_TEMPO, skip_factor: int = SKIP_FACTOR
    ) -> None:
        self.catch_up_ms = catch_up_ms
        self._tempo = tempo
        self._skip_ms = catch_up_ms * skip_factor
        self.end_ms = 0
        """Where the last placed sentence ends (the queue is empty from then on)."""
        self.skipped = 0
        self.sped_up = 0

    def place(self, key: str, arrived_ms: int, duration_ms: int) -> Placement:
        """Place a sentence of `duration_ms` (at normal speed) that arrived at `arrived_ms`."""
        start = max(arrived_ms, self.end_ms)
        behind = start - arrived_ms
        if behind > self._skip_ms:
            self.skipped += 1
            return Placement(key, arrived_ms, start, 0, 1.0, skipped=True)
        tempo = 1.0
        if behind > self.catch_up_ms:
            tempo = self._tempo
            self.sped_up += 1
        duration = round(duration_ms / tempo)
        self.end_ms = start + duration
        return Placement(key, arrived_ms, start, duration, tempo, skipped=False)

    def queued_ms(self, now_ms: int) -> int:
        """Speech still to be voiced at `now_ms` (0 when the voice is live)."""
        return max(0, self.end_ms - now_ms)


def describe(placement: Placement) -> str | None:
    """The one line to tell the user when a sentence was sped up or skipped (None when played as is)."""
    behind = placement.behind_ms / 1000
    if placement.skipped:
        return f"voice {behind:.1f} s behind live: sentence {placement.key} skipped to catch up"
    if placement.tempo != 1.0:
        return f"voice {behind:.1f} s behind live: sentence {placement.key} played at {placement.tempo:g}×"
    return None
