"""`wait_until` and `call_with_deadline` keep one meaning on both clocks: the real clock's path (the loop's
own timer, no helper tasks) and the fake clock's (tasks on virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from tongchuan_tui.pipeline.clock import Clock, FakeClock, SystemClock, call_with_deadline, wait_until

T = TypeVar("T")


async def _on(clock: Clock, coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run on the clock: a fake one needs driving through virtual time."""
    if isinstance(clock, FakeClock):
        return await clock.run(coro_fn())
    return await coro_fn()


@pytest.fixture(params=["system", "fake"])
def clock(request: pytest.FixtureRequest) -> Clock:
    return SystemClock() if request.param == "system" else FakeClock()


async def test_a_wait_ends_true_when_the_event_is_set_and_false_at_the_deadline(clock: Clock) -> None:
    event = asyncio.Event()

    async def set_soon() -> bool:
        asyncio.get_running_loop().call_soon(event.set)
        return await wait_until(clock, event, clock.monotonic() + 30.0)

    assert await _on(clock, set_soon) is True
    quiet = asyncio.Event()

    async def expire() -> bool:
        return await wait_until(clock, quiet, clock.monotonic() + 0.02)

    started = clock.monotonic()
    assert await _on(clock, expire) is False
    assert clock.monotonic() >= started + 0.02


async def test_a_call_past_its_deadline_is_cancelled_and_raises_timeout(clock: Clock) -> None:
    cancelled = asyncio.Event()

    async def slow() -> str:
        try:
            await clock.sleep(60.0)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    async def call() -> str:
        return await call_with_deadline(clock, slow(), clock.monotonic() + 0.02)

    with pytest.raises(TimeoutError, match="deadline passed"):
        await _on(clock, call)
    assert cancelled.is_set()

    async def prompt() -> str:
        await clock.sleep(0.01)
        return "done"

    async def quick() -> str:
        return await call_with_deadline(clock, prompt(), clock.monotonic() + 30.0)

    assert await _on(clock, quick) == "done"


async def test_the_call_s_own_timeout_error_is_not_mistaken_for_the_deadline(clock: Clock) -> None:
    async def own() -> None:
        raise TimeoutError("the service's own timeout")

    async def call() -> None:
        await call_with_deadline(clock, own(), clock.monotonic() + 30.0)

    with pytest.raises(TimeoutError, match="the service's own timeout"):
        await _on(clock, call)


async def test_cancelling_the_waiter_goes_through_on_the_real_clock() -> None:
    clock = SystemClock()
    event = asyncio.Event()
    task = asyncio.ensure_future(wait_until(clock, event, clock.monotonic() + 30.0))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
