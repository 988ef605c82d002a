"""Rate limits per action, exact on a fake clock; packet lengths planned so every stream of an account fits;
a back-off that holds everyone; and the budget file shared by separate processes (for real)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC
from tongchuan_tui.emulator.ratelimit import RateLimiter
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.ratelimit import (
    DEFAULT_LIMITS,
    GUARD_S,
    STREAM_TTL_S,
    WINDOW_S,
    RateLimits,
    Stream,
)
from tongchuan_tui.pipeline.ratelimit_file import FileStore, budget_path


def test_the_service_limits_are_the_defaults() -> None:
    assert DEFAULT_LIMITS == {ACTION_SYNC: 25, ACTION_RECOGNIZE: 25, ACTION_DISPLAY: 50}
    assert RateLimits().limits == DEFAULT_LIMITS


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
    # The guard: the 26th waits until the first is WINDOW_S + GUARD_S old.
    assert times[25:50] == pytest.approx([WINDOW_S + GUARD_S] * 25)
    assert times[50:] == pytest.approx([2 * (WINDOW_S + GUARD_S)] * 10)
    # In any one-second window, at most 25.
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 25 for t in times)


def _refused_by_the_service(arrivals: list[float]) -> int:
    """How many of these arrivals the service's own limiter (the emulator's, by arrival) refuses."""
    now = [0.0]
    service = RateLimiter({ACTION_SYNC: 25}, clock=lambda: now[0])
    refused = 0
    for now[0] in sorted(arrivals):
        refused += not service.allow("account", ACTION_SYNC)
    return refused


async def test_a_full_budget_is_not_refused_by_the_service_when_requests_arrive_unevenly_late() -> None:
    # Twelve streams keep the Sync budget full (spread, as one process runs it). Each request reaches the
    # service some time after its slot was granted (signing, a loaded CPU, the network): every other one
    # late by just under the guard. The service, counting by arrival, refuses none.
    clock = FakeClock()
    limits = RateLimits(clock, spread=True)
    granted: list[float] = []

    async def stream() -> None:
        for _ in range(10):
            await limits.acquire(ACTION_SYNC)
            granted.append(clock.monotonic())

    await clock.run(asyncio.gather(*(stream() for _ in range(12))))
    granted.sort()
    assert granted[-1] - granted[0] >= 4 * (WINDOW_S + GUARD_S)  # the budget was full all along

    def late(i: int) -> float:
        return GUARD_S * 0.99 if i % 2 == 0 else 0.0

    assert _refused_by_the_service([t + late(i) for i, t in enumerate(granted)]) == 0
    # Granted at exactly 25 a second (a window of WINDOW_S alone), the same lateness is refused.
    exact = [1000.0 + i * WINDOW_S / 25 for i in range(120)]
    assert _refused_by_the_service([t + late(i) for i, t in enumerate(exact)]) > 0


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
    assert times[-1] - times[0] == pytest.approx(5 * (WINDOW_S + GUARD_S))


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


@pytest.mark.parametrize(
    ("streams", "chunk_ms"), [(1, 200), (4, 200), (5, 240), (8, 360), (11, 500), (12, 500), (20, 500)]
)
async def test_packets_lengthen_so_every_stream_of_the_account_fits_under_the_limit(
    streams: int, chunk_ms: int
) -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    users = [limits.stream(ACTION_SYNC, 200) for _ in range(streams)]

    async def twice() -> None:
        for user in [*users, *users]:
            await user.acquire()

    await clock.run(twice())
    assert {user.chunk_ms for user in users} == {chunk_ms}
    if streams <= 11:
        # The planned rate of all of them stays under the limit (with room for retries).
        assert streams * 1000 / chunk_ms <= 25 * 0.9
    # A stream that leaves, or falls silent, stops counting: the others shorten their packets again.
    for user in users[1:]:
        await user.close()
    await users[0].acquire()
    assert users[0].chunk_ms == 200


async def test_a_silent_stream_stops_counting_after_its_time_to_live() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    quiet, busy = limits.stream(ACTION_SYNC, 200), limits.stream(ACTION_SYNC, 200)
    for _ in range(5):
        await quiet.acquire()
    for _ in range(5):
        await busy.acquire()
    others = [limits.stream(ACTION_SYNC, 200) for _ in range(3)]
    for other in others:
        await other.acquire()
    await busy.acquire()
    assert busy.chunk_ms == 240
    await clock.advance(STREAM_TTL_S + 0.1)
    await busy.acquire()
    assert busy.chunk_ms == 200
    # A configured length longer than the plan is kept.
    long = limits.stream(ACTION_RECOGNIZE, 400)
    await long.acquire()
    assert long.chunk_ms == 400


async def test_a_rate_refusal_backs_off_every_stream_sharing_the_budget() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    other = limits.stream(ACTION_SYNC, 200)
    await other.acquire()
    await limits.back_off(1.5)
    t0 = clock.monotonic()
    await clock.run(other.acquire())
    assert clock.monotonic() - t0 == pytest.approx(1.5)
    await clock.run(limits.acquire(ACTION_DISPLAY))
    assert clock.monotonic() - t0 == pytest.approx(1.5)


_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from tongchuan_tui.pipeline.ratelimit import RateLimits
    from tongchuan_tui.pipeline.ratelimit_file import FileStore

    path, go, ready, count = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

    async def main() -> None:
        limits = RateLimits(limits={"TongChuanSync": 20}, store=FileStore(path))
        stream = limits.stream("TongChuanSync", 200)
        ready.touch()
        deadline = time.monotonic() + 30
        while not go.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for _ in range(count):
            await stream.acquire()
            print(json.dumps([stream.granted_at, stream.chunk_ms]), flush=True)

    asyncio.run(main())
    """
)


def test_separate_processes_share_one_budget_file(tmp_path: Path) -> None:
    path = budget_path("http://127.0.0.1:1/", "AKIDexample", tmp_path)
    assert "AKID" not in path.name
    go = tmp_path / "go"
    children = []
    for k in range(4):
        ready = tmp_path / f"ready-{k}"
        children.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", _CHILD, str(path), str(go), str(ready), "15"],
                    stdout=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    try:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for ready, _ in children) and time.monotonic() < deadline:
            time.sleep(0.02)
        go.touch()
        outputs = [proc.communicate(timeout=60)[0] for _, proc in children]
    finally:
        for _, proc in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert all(proc.returncode == 0 for _, proc in children)
    grants = [json.loads(line) for out in outputs for line in out.splitlines()]
    assert len(grants) == 60
    times = sorted(t for t, _ in grants)
    # 60 requests from 4 processes, at most 20 in any one second: together, not 4 × 20.
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 20 for t in times)
    assert times[-1] - times[0] >= 2.0
    # Each process planned with the others: 4 streams at 20/s need 240 ms packets.
    assert max(chunk for _, chunk in grants) == 240
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_unreadable_budget_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    path.write_bytes(b"\x00not json")
    store = FileStore(path)
    assert store.transact_now(lambda state: dict(state)) == {}
    store.transact_now(lambda state: state.update(x=1))
    assert json.loads(path.read_bytes()) == {"x": 1}


async def test_a_budget_file_that_becomes_unusable_leaves_a_private_budget(tmp_path: Path) -> None:
    directory = tmp_path / "runtime"
    directory.mkdir()
    limits = RateLimits(limits={ACTION_SYNC: 25}, store=FileStore(directory / "budget.json"))
    stream = limits.stream(ACTION_SYNC, 200)
    await stream.acquire()
    (directory / "budget.json").unlink()
    directory.rmdir()
    await stream.acquire()
    assert limits.used(ACTION_SYNC) == 1


async def test_streams_that_cannot_keep_real_time_even_at_500_ms_are_told_once() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    users = [limits.stream(ACTION_SYNC, 200) for _ in range(11)]

    async def round_of(streams: list[Stream]) -> list[str]:
        warnings = []
        for user in streams:
            await user.acquire()
            if user.warning is not None:
                warnings.append(user.warning)
                user.warning = None
        return warnings

    # 11 streams at 500 ms make 22 Sync/s: under the 22.7/s that 25 per 1.1 s sustains.
    assert await clock.run(round_of(users)) == []
    users.append(limits.stream(ACTION_SYNC, 200))
    first = await clock.run(round_of(users))
    assert len(first) == 1
    assert first[0].startswith("12 service sessions")
    assert "24 TongChuanSync requests/s" in first[0]
    assert "22.7/s" in first[0]
    assert await clock.run(round_of(users)) == []  # said once, not by every stream
    # Back under the budget, and over it again: said again.
    await users.pop().close()
    assert await clock.run(round_of(users)) == []
    users.append(limits.stream(ACTION_SYNC, 200))
    assert len(await clock.run(round_of(users))) == 1
