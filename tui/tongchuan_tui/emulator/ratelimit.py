"""Per-SecretId, per-action request rate limits, as the service enforces them (RequestLimitExceeded)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from tongchuan_tui.emulator.wire import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC

#: Requests per second allowed per action and SecretId.
DEFAULT_LIMITS: Mapping[str, int] = {ACTION_SYNC: 25, ACTION_RECOGNIZE: 25, ACTION_DISPLAY: 50}
WINDOW_S = 1.0


class RateLimiter:
    """A sliding one-second window per (SecretId, action)."""

    def __init__(
        self, limits: Mapping[str, int] = DEFAULT_LIMITS, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def allow(self, secret_id: str, action: str) -> bool:
        """Count a request; False when it is over the action's limit for this second (it is not counted)."""
        limit = self.limits.get(action)
        if limit is None:
            return True
        with self._lock:
            now = self._clock()
            window = self._seen.setdefault((secret_id, action), deque())
            while window and window[0] <= now - WINDOW_S:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True
