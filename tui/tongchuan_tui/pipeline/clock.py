"""Time as the pipeline sees it: an injectable clock, the real one, and a fake one for exact tests.

Everything time-dependent in the pipeline (pacing, backoff, polling, stats) waits on a `Clock`, never on
`asyncio.sleep` directly, so tests can run a whole session in virtual time with `FakeClock`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """A monotonic clock for intervals, a wall clock for timestamps, and sleeps on the former."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (for timestamps in events and requests)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Wait until `monotonic()` reaches `deadline` (returns at once if it has)."""
        ...


class SystemClock:
    """The real clocks: `time.monotonic` (the event loop's own time base) and `time.time`."""

    def monotonic(self) -> float:
        """Seconds on the monotonic clock."""
        return time.monotonic()

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        """Wait until the monotonic clock reaches `deadline`."""
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))


class FakeClock:
    """Virtual time that moves only when a test says so.

    Either step it with `await clock.advance(seconds)` (sleepers wake in deadline order, and the loop runs
    until idle between steps), or hand it a coroutine with `await clock.run(coro)`, which jumps to the next
    deadline whenever every other task is idle, so a whole session runs in virtual time, exactly.
    """

    def __init__(self, start: float = 1000.0, epoch: float = 1_700_000_000.0) -> None:
        self._start = start
        self._now = start
        self._epoch = epoch
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def monotonic(self) -> float:
        """The virtual time."""
        return self._now

    def time(self) -> float:
        """The virtual epoch time (moves with `monotonic`)."""
        return self._epoch + (self._now - self._start)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of virtual time."""
        await self.sleep_until(self._now + max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        """Wait until virtual time reaches `deadline`."""
        if deadline <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._counter), future))
        await future

    @property
    def pending_sleepers(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_deadline(self) -> float | None:
        """The earliest deadline a task waits for, if any."""
        self._discard_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    async def settle(self) -> None:
        """Let every runnable task run until all of them wait (on this clock or on each other)."""
        loop = asyncio.get_running_loop()
        quiet = 0
        for _ in range(10_000):
            await asyncio.sleep(0)
            # Idle when nothing else is ready to run (peeks at the loop's ready queue, a CPython detail that
            # tests/unit/test_private_hooks.py watches; else a fixed count).
            ready = getattr(loop, "_ready", None)
            quiet = quiet + 1 if ready is None or len(ready) == 0 else 0
            if quiet >= (3 if ready is not None else 50):
                return

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, waking sleepers in deadline order and settling after each."""
        target = self._now + max(0.0, seconds)
        await self.settle()
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            self._wake_next()
            await self.settle()
        self._now = max(self._now, target)
        await self.settle()

    async def run(self, awaitable: Awaitable[T], *, limit: float = 86_400.0) -> T:
        """Run `awaitable` to completion, jumping virtual time to the next deadline whenever all is idle.

        Raises TimeoutError if it has not finished after `limit` virtual seconds, or if it is stuck with
        nothing waiting on the clock (a deadlock in the code under test).
        """
        task = asyncio.ensure_future(awaitable)
        end = self._now + limit
        try:
            while not task.done():
                await self.settle()
                if task.done():
                    break
                deadline = self.next_deadline()
                if deadline is None:
                    raise TimeoutError("FakeClock.run: nothing is waiting on the clock and the task is stuck")
                if deadline > end:
                    raise TimeoutError(f"FakeClock.run: not finished after {limit} virtual seconds")
                self._wake_next()
            return task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _discard_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    def _wake_next(self) -> None:
        """Jump to the earliest deadline and wake every sleeper due then."""
        self._discard_cancelled()
        if not self._sleepers:
            return
        deadline = self._sleepers[0][0]
        self._now = max(self._now, deadline)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


async def wait_until(clock: Clock, event: asyncio.Event, deadline: float | None) -> bool:
    """Wait for `event` or until `deadline` on `clock` (None: no deadline); True if the event is set."""
    if event.is_set():
        return True
    if deadline is None:
        await event.wait()
        return True
    if deadline <= clock.monotonic():
        await asyncio.sleep(0)  # always yield, so a caller looping on a past deadline cannot starve the loop
        return event.is_set()
    if type(clock) is SystemClock:
        # The loop's own timer on its own clock (time.monotonic): no helper tasks. Every packet of every
        # target waits here a few times, and two tasks a wait were a third of a session's CPU.
        try:
            async with asyncio.timeout_at(deadline):
                await event.wait()
        except TimeoutError:
            pass
        return event.is_set()
    waiter = asyncio.ensure_future(event.wait())
    timer = asyncio.ensure_future(clock.sleep_until(deadline))
    try:
        await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, timer):
            if not task.done():
                task.cancel()
        await asyncio.gather(waiter, timer, return_exceptions=True)
    return event.is_set()


async def call_with_deadline(clock: Clock, awaitable: Awaitable[T], deadline: float) -> T:
    """Await `awaitable`, cancelling it at `deadline` on `clock`; raises TimeoutError then."""
    if type(clock) is SystemClock:
        # As in wait_until: the loop's timer, no helper tasks (a TimeoutError of the awaitable's own, before
        # the deadline, goes through as it is).
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await awaitable
        except TimeoutError:
            if timeout.expired():
                raise TimeoutError("deadline passed") from None
            raise
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep_until(deadline))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # Cancelled from outside: take both down with us, and let the cancellation through.
        task.cancel()
        timer.cancel()
        await asyncio.gather(task, timer, return_exceptions=True)
        raise
    timer.cancel()
    await asyncio.gather(timer, return_exceptions=True)
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise TimeoutError("deadline passed")
    return task.result()
