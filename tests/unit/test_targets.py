"""Several targets from one input, on a fake clock: the same audio to every target's service session, one
budget planned for all of them, a rate refusal holding everyone, one refused target leaving the others
running; and the up-front arithmetic that refuses what cannot fit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.pipeline_fakes import Call, FakeService, FakeSource, cues_for, make_pcm, run_session

from tongchuan_tui import exitcodes
from tongchuan_tui.api.errors import ApiError, TsiError
from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC, ApiResult, UploadRequest
from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.pipeline.budget import BudgetError, account_limits, plan_budget
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    RequestRetried,
    SessionEnded,
    SessionStarted,
    StatsUpdated,
    TargetEnded,
    WarningRaised,
)
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions

FOUR = ("en", "ja", "ko", "yue")


class TargetsSeen(FakeService):
    """The fake service, also noting which Target each SessionUuid was opened for."""

    targets: dict[str, str]

    async def sync(self, request: UploadRequest) -> ApiResult:
        if not hasattr(self, "targets"):
            self.targets = {}
        self.targets.setdefault(request.session_uuid, request.target)
        return await super().sync(request)


def peak_per_second(times: list[float]) -> int:
    return max(sum(1 for u in times if t <= u < t + 1.0) for t in times)


async def test_four_targets_get_the_same_audio_at_200_ms_under_the_limit() -> None:
    pcm = make_pcm(10_000)
    run = await run_session(pcm, target="en", targets=FOUR)
    assert run.code == exitcodes.OK
    service = run.service
    assert len(service.order) == 4
    # The very same input ranges reached every target's service session.
    runs = [[(i, n) for _, i, n in service.sessions[uuid].runs] for uuid in service.order]
    assert all(r == runs[0] for r in runs)
    assert sum(n for _, n in runs[0]) == len(pcm)
    # 4 × 5 packets a second fit the 25/s budget: packets stay at 200 ms.
    sizes = {len(c.data) for c in service.uploads() if not c.is_end}
    assert sizes == {200 * BYTES_PER_MS}
    assert peak_per_second([c.at for c in service.uploads(ok_only=False)]) <= 25
    # Every packet and sentence says which target it belongs to; keys stay unique across targets.
    chunks = run.of(ChunkSent)
    assert {c.target for c in chunks if isinstance(c, ChunkSent)} == set(FOUR)
    finals = run.final_sentences()
    assert {s.target for s in finals} == set(FOUR)
    per_target = {t: [s.source_text for s in finals if s.target == t] for t in FOUR}
    assert all(texts == per_target["en"] and texts for texts in per_target.values())
    started = run.of(SessionStarted)[0]
    assert isinstance(started, SessionStarted)
    assert started.all_targets == FOUR
    # Stats per target as well as for the whole session.
    assert {e.target for e in run.of(StatsUpdated) if isinstance(e, StatsUpdated)} == {"", *FOUR}


async def test_more_streams_than_the_budget_allows_get_longer_packets() -> None:
    clock = FakeClock()
    limits = RateLimits(clock, {ACTION_SYNC: 10, ACTION_RECOGNIZE: 10, ACTION_DISPLAY: 50})
    run = await run_session(make_pcm(12_000), clock=clock, limits=limits, target="en", targets=FOUR)
    assert run.code == exitcodes.OK
    uploads = run.service.uploads()
    # 4 streams in 90 % of 10/s: 1000 × 4 / 9 = 444 ms, in whole 20 ms frames: 460 ms.
    steady = [len(c.data) // BYTES_PER_MS for c in uploads if not c.is_end][8:]
    assert steady
    assert set(steady) == {460}
    assert peak_per_second([c.at for c in run.service.uploads(ok_only=False)]) <= 10


async def test_a_rate_refusal_holds_every_target() -> None:
    refused: list[float] = []

    def fault(call: Call, attempt: int) -> TsiError | None:
        if call.index == 1 and call.seq == 5 and attempt == 1:
            refused.append(call.at)
            return ApiError("RequestLimitExceeded", "too many requests")
        return None

    run = await run_session(make_pcm(6_000), fault=fault, target="en", targets=("en", "ja"))
    assert run.code == exitcodes.OK
    assert len(refused) == 1
    assert len(run.of(RequestRetried)) == 1
    # Nobody's next request starts within the back-off (0.25 s) after the refusal was answered.
    held = [c for c in run.service.uploads(ok_only=False) if refused[0] < c.at < refused[0] + 0.25]
    assert held == []


async def test_a_refused_target_ends_alone() -> None:
    pcm = make_pcm(6_000)
    clock = FakeClock()
    service = TargetsSeen(clock, pcm, [])

    def fault(call: Call, attempt: int) -> TsiError | None:
        if service.targets.get(call.uuid) == "ja":
            return ApiError("InvalidParameterValue", "Target ja is not available")
        return None

    service.fault = fault
    service.cues = cues_for(6_000)
    events: list[object] = []
    session = InterpreterSession(
        SessionOptions(target="en", targets=("en", "ja")),
        service,
        FakeSource(pcm, clock, live=False),
        clock=clock,
        sinks=[events.append],
    )
    code = await clock.run(session.run(), limit=600)
    assert code == exitcodes.SERVICE_REJECTED
    ended = [e for e in events if isinstance(e, TargetEnded)]
    assert [(e.target, e.exit_code) for e in ended] == [("ja", exitcodes.SERVICE_REJECTED)]
    last = events[-1]
    assert isinstance(last, SessionEnded)
    assert last.reason == "input-ended"
    assert "target ja failed" in last.message
    en = [uuid for uuid, target in service.targets.items() if target == "en"]
    assert sum(n for _, _, n in service.sessions[en[0]].runs) == len(pcm)


def test_the_plan_for_four_and_twelve_streams() -> None:
    four = plan_budget(4, mode="sync", chunk_ms=200, display_interval_ms=300)
    assert (four.chunk_ms, four.upload_per_s) == (200, 20.0)
    five = plan_budget(5, mode="sync", chunk_ms=200, display_interval_ms=300)
    assert five.chunk_ms == 240
    twelve = plan_budget(12, mode="sync", chunk_ms=200, display_interval_ms=300)
    assert (twelve.chunk_ms, twelve.upload_per_s) == (500, 24.0)
    with pytest.raises(BudgetError, match=r"13 × 1000/500 = 26 TongChuanSync requests/s.*limit of 25/s"):
        plan_budget(13, mode="sync", chunk_ms=200, display_interval_ms=300)
    with pytest.raises(BudgetError, match=r"4 × 1000/500 = 8 .*limit of 7/s"):
        plan_budget(4, mode="sync", chunk_ms=200, display_interval_ms=300, limits=account_limits(7))
    with pytest.raises(BudgetError, match=r"4 × 1000/50 = 80 TongChuanDisplay"):
        plan_budget(4, mode="split", chunk_ms=200, display_interval_ms=50)


def test_the_cli_refuses_targets_that_cannot_fit(isolated_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(HOME=str(isolated_home), TENCENTCLOUD_SECRET_ID="AKIDtest", TENCENTCLOUD_SECRET_KEY="k" * 32)
    args = ["--input", "-", "--plain", "--target", "en,ja,ko,yue", "--upload-rate-limit", "7"]
    done = subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", *args, "--endpoint", "http://127.0.0.1:9/"],
        env=env,
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == exitcodes.USAGE
    assert "4 targets need 4 × 1000/500 = 8 TongChuanSync requests/s" in done.stderr.decode()


async def test_spread_grants_of_one_process_are_one_interval_apart() -> None:
    clock = FakeClock()
    limits = RateLimits(clock, spread=True)
    times: list[float] = []

    async def one() -> None:
        await limits.acquire(ACTION_SYNC)
        times.append(round(clock.monotonic() - 1000.0, 3))

    async def burst() -> None:
        await asyncio.gather(*(one() for _ in range(12)))

    await clock.run(burst())
    # 12 streams in step: not a burst of 12 at once, but 40 ms (1/25 s) apart.
    assert times == [round(0.04 * n, 3) for n in range(12)]


async def test_targets_of_one_input_plan_their_first_packets_together() -> None:
    clock = FakeClock()
    limits = RateLimits(clock, {ACTION_SYNC: 10, ACTION_RECOGNIZE: 10, ACTION_DISPLAY: 50})
    run = await run_session(make_pcm(4_000), clock=clock, limits=limits, target="en", targets=FOUR)
    first = [len(c.data) // BYTES_PER_MS for c in run.service.uploads() if c.seq == 0]
    # Planned for all four from the first packet on (4 in 90 % of 10/s: 460 ms), none at 200 ms.
    assert first == [460] * 4


async def test_split_mode_polls_display_for_each_target() -> None:
    run = await run_session(make_pcm(6_000), mode="split", target="en", targets=("en", "ja"))
    assert run.code == exitcodes.OK
    polled = {c.uuid for c in run.service.calls if c.action == ACTION_DISPLAY}
    assert polled == set(run.service.order)
    assert len(polled) == 2
    finals = run.final_sentences()
    en = [s.source_text for s in finals if s.target == "en"]
    assert en
    assert en == [s.source_text for s in finals if s.target == "ja"]


async def test_targets_that_cannot_keep_real_time_are_told_once_and_still_run() -> None:
    clock = FakeClock()
    # 4 targets at 500 ms make 8 Sync/s: within a limit of 8, over the 7.3/s it sustains (8 per 1.1 s).
    limits = RateLimits(clock, {ACTION_SYNC: 8, ACTION_RECOGNIZE: 8, ACTION_DISPLAY: 50})
    run = await run_session(make_pcm(6_000), clock=clock, limits=limits, target="en", targets=FOUR)
    assert run.code == exitcodes.OK
    warned = [e for e in run.of(WarningRaised) if isinstance(e, WarningRaised) and e.code == "budget"]
    assert len(warned) == 1
    assert warned[0].message.startswith("4 service sessions on this account need 8 TongChuanSync requests/s")
    assert "behind real time" in warned[0].message
    # Three targets fit (6/s): nothing to say.
    calm_clock = FakeClock()
    calm_limits = RateLimits(calm_clock, {ACTION_SYNC: 8, ACTION_RECOGNIZE: 8, ACTION_DISPLAY: 50})
    calm = await run_session(
        make_pcm(6_000), clock=calm_clock, limits=calm_limits, target="en", targets=FOUR[:3]
    )
    assert not [e for e in calm.of(WarningRaised) if isinstance(e, WarningRaised) and e.code == "budget"]
