"""Per-action request budgets (Sync 25/s, Recognize 25/s, Display 50/s): one account, one budget.

The service counts requests per action and account, so everything the account runs draws from one budget.
`RateLimits` is that budget, passed to every session that should share it (runtime.py builds one per run;
tests build theirs on a `FakeClock`). Its state lives in a `BudgetStore`: in memory (one process) or in a
lock-protected file in the user's runtime dir (`ratelimit_file.FileStore`), so sessions started separately by
one user on one machine plan together. What it keeps:

- a request log per action: at most `limit` requests in any `WINDOW_S + GUARD_S` (a sliding window, exact
  whatever the service's own window is; a token bucket would allow two bursts in one second). The guard is
  there because a slot is stamped when it is granted, but the service counts a request when it arrives:
  the time between (signing, the worker thread, a loaded CPU, the network) varies, and with a window of
  exactly one second the `limit + 1`-th request, granted one second after the first, arrives less than a
  second after it whenever the first was the slower of the two;
- the streams that upload (one per scheduler, refreshed by every request, forgotten `STREAM_TTL_S` after its
  last one): each stream's packet length is planned so that all of them together stay under the limit
  (`chunk_ms` rises from the configured 200 ms towards 500 ms as streams join);
- a back-off: `RequestLimitExceeded` from the service (someone else on the account, or another machine)
  holds every stream's next request for a while.

With `spread`, this process also spaces its own grants of an action at least 1/limit s apart: streams in
step (several targets of one input send at the same instants) would otherwise go out as a burst that the
service, counting by arrival, can see as more than `limit` in one second once the network's jitter moves
the next burst a little earlier.
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
GUARD_S = 0.1
"""Slots of one action are counted over WINDOW_S plus this: requests granted `limit` apart still arrive at
least WINDOW_S apart when their times from grant to arrival differ by less than it. Sustained, it allows
limit / 1.1 s (22.7 Sync a second), about the PLAN_SHARE that packets are planned for."""
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
    span = WINDOW_S + GUARD_S
    times = [t for t in windows.get(action, []) if t > now - span]
    if len(times) < limit:
        times.append(now)
        windows[action] = times
        return 0.0
    windows[action] = times
    return max(1e-3, float(times[0]) + span - now)


def sustained_rate(limit: int) -> float:
    """Requests a second the window allows when they go on for good: `limit` per WINDOW_S + GUARD_S."""
    return limit / (WINDOW_S + GUARD_S)


def streams_of(state: State, action: str) -> int:
    """How many streams of `action` the plan counts now."""
    return sum(1 for s in state.get("streams", {}).values() if s["action"] == action)


def shortfall(streams: int, action: str, limit: int) -> str | None:
    """Why `streams` uploading streams cannot keep up with real time even at the longest packets, or None
    if they can."""
    needed = streams * 1000 / MAX_PACKET_MS
    sustained = sustained_rate(limit)
    if needed <= sustained:
        return None
    return (
        f"{streams} service sessions on this account need {needed:g} {action} requests/s even at"
        f" {MAX_PACKET_MS} ms packets, but its limit of {limit}/s sustains {sustained:.1f}/s with the"
        f" client's safety margin: they fall {100 * (1 - sustained / needed):.0f} % behind real time"
        " (run fewer targets or inputs at once)"
    )


def plan(state: State, stream: str, action: str, base_ms: int, limit: int, now: float) -> int:
    """Refresh `stream` (uploads of `action`, configured `base_ms`) and return its planned packet length."""
    streams = state.setdefault("streams", {})
    streams[stream] = {"action": action, "base_ms": base_ms, "seen": now, "pid": os.getpid()}
    for key in [k for k, s in streams.items() if now - float(s["seen"]) > STREAM_TTL_S]:
        del streams[key]
    count = streams_of(state, action)
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
        self.warning: str | None = None
        """Set (once for the whole process, on one of its streams) when the account's streams stop fitting
        in its budget even at the longest packets: the stream's owner tells the user and clears it."""

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
        spread: bool = False,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.limits = dict(limits or DEFAULT_LIMITS)
        for action, limit in self.limits.items():
            if limit < 1:
                raise ValueError(f"the limit of {action} must be at least 1")
        self.store: BudgetStore = store or MemoryStore()
        self.spread = spread
        self._next_grant: dict[str, float] = {}
        """With `spread`: per action, the earliest moment this process may be granted its next slot."""
        self._seen: State = {}
        """The state as of this process's last transaction (for `headroom` without a transaction)."""
        self._short: dict[str, bool] = {}
        """Per action, whether the streams were last seen not to fit (so the user is told once a time)."""

    def stream(self, action: str, base_ms: int) -> Stream:
        """A new uploading stream of `action`, configured for `base_ms` packets."""
        return Stream(self, action, base_ms)

    async def acquire(self, action: str, *, stream: Stream | None = None) -> int:
        """Wait for a slot of `action`; returns the stream's planned packet length (0 without a stream)."""
        limit = self.limits[action]
        if self.spread:
            # Reserved before waiting, so that concurrent callers queue one interval apart.
            now = self.clock.monotonic()
            at = max(now, self._next_grant.get(action, now))
            self._next_grant[action] = at + WINDOW_S / limit
            if at > now:
                await self.clock.sleep(at - now)
        while True:

            def step(state: State) -> tuple[float, int, float, int]:
                # The time is read under the lock: a slot is stamped when it is really taken.
                now = self.clock.monotonic()
                chunk = 0
                if stream is not None:
                    chunk = plan(state, stream.id, stream.action, stream.base_ms, limit, now)
                wait = take(state, action, limit, now)
                self._seen = {"windows": dict(state.get("windows", {}))}
                return wait, chunk, now, streams_of(state, action)

            wait, chunk, now, count = await self.store.transact(step)
            if wait <= 0:
                if stream is not None:
                    stream.granted_at = now
                    self._check_fit(stream, count)
                return chunk
            await self.clock.sleep(wait)

    def _check_fit(self, stream: Stream, count: int) -> None:
        """Tell `stream` (once until they fit again) that the account's streams no longer fit."""
        why = shortfall(count, stream.action, self.limits[stream.action])
        if why is not None and not self._short.get(stream.action):
            stream.warning = why
        self._short[stream.action] = why is not None

    async def join(self, streams: list[Stream]) -> None:
        """Count `streams` in the plan before their first request, so that streams starting together (the
        targets of one input) plan their first packets for all of them."""

        def step(state: State) -> list[int]:
            now = self.clock.monotonic()
            for stream in streams:
                plan(state, stream.id, stream.action, stream.base_ms, self.limits[stream.action], now)
            # Planned again once all are in: the first ones joined saw fewer streams.
            return [
                plan(state, stream.id, stream.action, stream.base_ms, self.limits[stream.action], now)
                for stream in streams
            ]

        for stream, chunk_ms in zip(streams, await self.store.transact(step), strict=True):
            stream.chunk_ms = chunk_ms

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
