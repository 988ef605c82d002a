"""Per-action request budgets (Sync 25/s, Recognize 25/s, Display 50/s): one account, one budget.

The service counts requests per action and account, so everything the account runs draws from one budget.
`RateLimits` is that budget, passed to every session that should share it (runtime.py builds one per run;
tests build theirs on a `FakeClock`). Its state lives in a `BudgetStore`: in memory (one process) or in a
lock-protected file in the user's runtime dir (`ratelimit_file.FileStore`), so sessions started separately by
one user on one machine plan together. What it keeps:

- a request log per action: at most `limit` requests in any one second (a sliding window, exact whatever the
  service's own window is; a token bucket would allow two bursts in one second);
- the streams that upload (one per scheduler, refreshed by every request, forgotten `STREAM_TTL_S` after its
  last one): each stream's packet length is planned so that all of them together stay under the limit
  (`chunk_ms` rises from the configured 200 ms towards 500 ms as streams join);
- a back-off: `RequestLimitExceeded` from the service (someone else on the account, or another machine)
  holds every stream's next request for a while.
"""

from __future__ import annotations

import math
import os
import uuid as uuidlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC
from tongchuan_tui.audio.format import MAX_PACKET_MS
from tongchuan_tui.pipeline.clock import Clock, SystemClock

T = TypeVar("T")

DEFAULT_LIMITS: dict[str, int] = {ACTION_SYNC: 25, ACTION_RECOGNIZE: 25, ACTION_DISPLAY: 50}
WINDOW_S = 1.0
STREAM_TTL_S = 5.0
"""A stream that made no request for this long (paused, idle, or its process died) no longer counts."""
PLAN_SHARE = 0.9
"""Plan the uploads to use at most this share of the limit: retries and Display need the rest."""
PLAN_STEP_MS = 20
"""Planned packet lengths are whole input frames."""

State = dict[str, Any]
"""A budget's JSON-able state: {"windows": {action: [t…]}, "blocked_until": t, "streams": {id: {…}}}."""


class BudgetStore(Protocol):
    """Where a budget's state lives; `transact` runs `fn` on it atomically and returns its result."""

    async def transact(self, fn: Callable[[State], T]) -> T:
        """Run `fn` on the state, exclusively; its changes are kept."""
        ...


class MemoryStore:
    """State in this process only (tests, the demo)."""

    def __init__(self) -> None:
        self.state: State = {}

    async def transact(self, fn: Callable[[State], T]) -> T:
        """Run `fn` on the state (the event loop's single thread makes it exclusive)."""
        return fn(self.state)


def take(state: State, action: str, limit: int, now: float) -> float:
    """Take a request slot of `action` at `now`: 0 if taken, else how long to wait before trying again."""
    blocked = float(state.get("blocked_until", 0.0))
    if blocked > now:
        return blocked - now
    windows = state.setdefault("windows", {})
    times = [t for t in windows.get(action, []) if t > now - WINDOW_S]
    if len(times) < limit:
        times.append(now)
        windows[action] = times
        return 0.0
    windows[action] = times
    return max(1e-3, float(times[0]) + WINDOW_S - now)


def plan(state: State, stream: str, action: str, base_ms: int, limit: int, now: float) -> int:
    """Refresh `stream` (uploads of `action`, configured `base_ms`) and return its planned packet length."""
    streams = state.setdefault("streams", {})
    streams[stream] = {"action": action, "base_ms": base_ms, "seen": now, "pid": os.getpid()}
    for key in [k for k, s in streams.items() if now - float(s["seen"]) > STREAM_TTL_S]:
        del streams[key]
    count = sum(1 for s in streams.values() if s["action"] == action)
    # n streams at c ms each make n * 1000 / c requests a second: keep that under the planned share.
    needed = math.ceil(1000 * count / (limit * PLAN_SHARE) / PLAN_STEP_MS) * PLAN_STEP_MS
    return min(MAX_PACKET_MS, max(base_ms, needed))


class Stream:
    """One uploading scheduler's share of the budget: its requests, and the packet length planned for it."""

    def __init__(self, limits: RateLimits, action: str, base_ms: int) -> None:
        self._limits = limits
        self.id = uuidlib.uuid4().hex
        self.action = action
        self.base_ms = base_ms
        self.chunk_ms = base_ms
        """The packet length to use now (updated by every `acquire`)."""
        self.granted_at = 0.0
        """When the last slot was taken (the budget's clock)."""

    async def acquire(self) -> None:
        """Wait for a request slot; refreshes this stream's plan."""
        self.chunk_ms = await self._limits.acquire(self.action, stream=self)

    async def close(self) -> None:
        """This stream makes no more requests: the others may plan without it."""
        await self._limits.forget(self)


class RateLimits:
    """The account's budget on one clock, with its state in `store` (private memory by default)."""

    def __init__(
        self,
        clock: Clock | None = None,
        limits: dict[str, int] | None = None,
        *,
        store: BudgetStore | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.limits = dict(limits or DEFAULT_LIMITS)
        for action, limit in self.limits.items():
            if limit < 1:
                raise ValueError(f"the limit of {action} must be at least 1")
        self.store: BudgetStore = store or MemoryStore()
        self._seen: State = {}
        """The state as of this process's last transaction (for `headroom` without a transaction)."""

    def stream(self, action: str, base_ms: int) -> Stream:
        """A new uploading stream of `action`, configured for `base_ms` packets."""
        return Stream(self, action, base_ms)

    async def acquire(self, action: str, *, stream: Stream | None = None) -> int:
        """Wait for a slot of `action`; returns the stream's planned packet length (0 without a stream)."""
        limit = self.limits[action]
        while True:

            def step(state: State) -> tuple[float, int, float]:
                # The time is read under the lock: a slot is stamped when it is really taken.
                now = self.clock.monotonic()
                chunk = 0
                if stream is not None:
                    chunk = plan(state, stream.id, stream.action, stream.base_ms, limit, now)
                wait = take(state, action, limit, now)
                self._seen = {"windows": dict(state.get("windows", {}))}
                return wait, chunk, now

            wait, chunk, now = await self.store.transact(step)
            if wait <= 0:
                if stream is not None:
                    stream.granted_at = now
                return chunk
            await self.clock.sleep(wait)

    async def back_off(self, seconds: float) -> None:
        """The service refused a request for the rate: hold everyone's next request for `seconds`."""

        def step(state: State) -> None:
            until = self.clock.monotonic() + seconds
            state["blocked_until"] = max(float(state.get("blocked_until", 0.0)), until)

        await self.store.transact(step)

    async def forget(self, stream: Stream) -> None:
        """Drop `stream` from the plan."""

        def step(state: State) -> None:
            state.get("streams", {}).pop(stream.id, None)

        await self.store.transact(step)

    def used(self, action: str) -> int:
        """Requests of `action` in the last second (as of this process's last look at the budget)."""
        now = self.clock.monotonic()
        seen = self.store.state if isinstance(self.store, MemoryStore) else self._seen
        return sum(1 for t in seen.get("windows", {}).get(action, []) if t > now - WINDOW_S)

    def headroom(self) -> dict[str, float]:
        """Per action, the fraction of its limit unused over the last second (for the stats pane)."""
        return {action: 1.0 - self.used(action) / limit for action, limit in self.limits.items()}
