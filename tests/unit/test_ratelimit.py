"""Rate limits per action, exact on a fake clock, and shared by every user of one registry."""

from __future__ import annotations

import asyncio

from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.ratelimit import DEFAULT_LIMITS, RateLimits, shared_rate_limits


def test_the_service_limits_are_the_defaults() -> None:
    assert DEFAULT_LIMITS == {ACTION_SYNC: 25, ACTION_RECOGNIZE: 25, ACTION_DISPLAY: 50}
    assert shared_rate_limits() is shared_rate_limits()


async def test_the_26th_sync_in_a_second_waits_until_the_first_leaves_the_window() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    times: list[float] = []

    async def go() -> None:
        for _ in range(60):
            await limits.acquire(ACTION_SYNC)
            times.append(clock.monotonic() - 1000.0)

    await clock.run(go())
    assert times[:25] == [0.0] * 25
    assert times[25:50] == [1.0] * 25
    assert times[50:] == [2.0] * 10
    # In any one-second window, at most 25.
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 25 for t in times)


async def test_actions_are_limited_separately_and_headroom_reports_the_unused_fraction() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    for _ in range(10):
        await limits.acquire(ACTION_DISPLAY)
    for _ in range(5):
        await limits.acquire(ACTION_SYNC)
    assert limits.headroom() == {ACTION_SYNC: 0.8, ACTION_RECOGNIZE: 1.0, ACTION_DISPLAY: 0.8}
    await clock.advance(1.0)
    assert limits.headroom() == {ACTION_SYNC: 1.0, ACTION_RECOGNIZE: 1.0, ACTION_DISPLAY: 1.0}


async def test_concurrent_users_share_one_budget() -> None:
    clock = FakeClock()
    limits = RateLimits(clock, {ACTION_SYNC: 5})
    times: list[float] = []

    async def user() -> None:
        for _ in range(10):
            await limits.acquire(ACTION_SYNC)
            times.append(clock.monotonic())

    await clock.run(asyncio.gather(user(), user(), user()))
    times.sort()
    assert len(times) == 30
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 5 for t in times)
    assert times[-1] - times[0] == 5.0


async def test_fake_clock_advance_wakes_sleepers_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic() - 1000.0))

    tasks = [asyncio.ensure_future(sleeper(n, s)) for n, s in (("c", 3.0), ("a", 1.0), ("b", 2.0))]
    await clock.advance(2.5)
    assert woke == [("a", 1.0), ("b", 2.0)]
    assert clock.monotonic() == 1002.5
    await clock.advance(1.0)
    assert woke[-1] == ("c", 3.0)
    await asyncio.gather(*tasks)
