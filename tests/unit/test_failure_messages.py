"""What a failed or recovered session says, on the fake service and clock: each reason named as it is."""

from __future__ import annotations

from pipeline_fakes import Call, make_pcm, run_session

from tongchuan_tui import exitcodes
from tongchuan_tui.api.errors import ApiError, TsiError
from tongchuan_tui.pipeline.events import SessionEnded


async def test_a_session_refused_for_rate_says_rate_limit_not_unreachable() -> None:
    def fault(call: Call, attempt: int) -> TsiError | None:
        return ApiError("RequestLimitExceeded", "Your request rate exceeds the limit.")

    run = await run_session(make_pcm(60_000), live=True, fault=fault)

    assert run.code == exitcodes.SERVICE_UNREACHABLE
    ended = run.events[-1][1]
    assert isinstance(ended, SessionEnded)
    assert "rate limit" in ended.message
    assert "RequestLimitExceeded" in ended.message
    assert "unreachable" not in ended.message
