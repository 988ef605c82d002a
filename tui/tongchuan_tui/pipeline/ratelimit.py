"""Per-action request rate limits (Sync 25/s, Recognize 25/s, Display 50/s), shared by every session.

The service counts requests per action and sub-account, so every session in the process must draw from the
same budget: `shared_rate_limits()` is that process-wide registry. Tests build their own on a `FakeClock`.
"""

from __future__ import annotations

from collections import deque

from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC
from tongchuan_tui.pipeline.clock import Clock, SystemClock

DEFAULT_LIMITS: dict[str, int] = {ACTION_SYNC: 25, ACTION_RECOGNIZE: 25, ACTION_DISPLAY: 50}
WINDOW_S = 1.0


class SlidingWindowLimiter:
    """At most `limit` acquisitions in any `window_s` seconds of `clock` time."""

    def __init__(self, limit: int, clock: Clock, window_s: float = WINDOW_S) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()

    def try_acquire(self) -> bool:
        """Take a slot now if one is free."""
        now = self._clock.monotonic()
        self._expire(now)
        if len(self._times) < self.limit:
            self._times.append(now)
            return True
        return False

    async def acquire(self) -> None:
        """Wait until a slot is free, then take it."""
        while not self.try_acquire():
            # The oldest request leaves the window at times[0] + window; re-check then (others may race us).
            await self._clock.sleep_until(self._times[0] + self.window_s)

    def used(self) -> int:
        """Slots taken in the current window."""
        self._expire(self._clock.monotonic())
        return len(self._times)

    def headroom(self) -> float:
        """The fraction (0..1) of the limit still unused over the last window."""
        return 1.0 - self.used() / self.limit


class RateLimits:
    """One limiter per action, on one clock."""

    def __init__(self, clock: Clock | None = None, limits: dict[str, int] | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._limiters = {
            action: SlidingWindowLimiter(limit, self.clock)
            for action, limit in (limits or DEFAULT_LIMITS).items()
        }

    def limiter(self, action: str) -> SlidingWindowLimiter:
        """The limiter of `action` (KeyError for an unknown action)."""
        return self._limiters[action]

    async def acquire(self, action: str) -> None:
        """Wait for a slot of `action`."""
        await self._limiters[action].acquire()

    def headroom(self) -> dict[str, float]:
        """Per action, the fraction of its limit unused over the last second (for the stats pane)."""
        return {action: limiter.headroom() for action, limiter in self._limiters.items()}


_shared: RateLimits | None = None


def shared_rate_limits() -> RateLimits:
    """The process-wide limits on the system clock, shared by every session in the process."""
    global _shared
    if _shared is None:
        _shared = RateLimits(SystemClock())
    return _shared
