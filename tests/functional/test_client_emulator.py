"""Our TsiClient against the emulator: results, authentication, clock skew, injected faults, no secret leaks.

The emulator runs on an OffsetClock that the test advances by each packet's duration, so 1:1 pacing holds
without waiting in real time; the client signs with the same clock (or a deliberately skewed one).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from tests.functional.emulator_helpers import client_credentials

from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.api.errors import ApiError, HttpStatusError, NetworkError
from tongchuan_tui.api.models import ACTION_DISPLAY, DisplayInfo, DisplayRequest, UploadRequest
from tongchuan_tui.emulator.testing import EmulatorHandle, OffsetClock, running_emulator
from tongchuan_tui.logs import setup_logging, teardown_logging

CUES = [
    {"start_ms": 0, "end_ms": 1200, "source": "大家好。", "target": "Hello everyone."},
    {
        "start_ms": 1400,
        "end_ms": 2600,
        "source": "今天我们谈谈同传。",
        "target": "Today we talk about interpreting.",
    },
]
PACKET = b"\x00\x00" * 3200  # 200 ms of 16 kHz s16le silence: the cues decide the text
PACKET_S = 0.2


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
async def emu(clock: OffsetClock) -> AsyncIterator[EmulatorHandle]:
    async with running_emulator(cues=CUES, clock=clock) as handle:
        yield handle


def packet(session: str, seq: int, *, last: bool = False, utc: int = 1_764_000_000) -> UploadRequest:
    return UploadRequest(session, "zh", "en", seq, utc, last, PACKET)


def keep_newest(best: dict[str, DisplayInfo], sentences: tuple[DisplayInfo, ...]) -> None:
    for s in sentences:
        known = best.get(s.se_id)
        if known is None or (s.se_ver or 0) >= (known.se_ver or 0):
            best[s.se_id] = s


async def send_paced(
    client: TsiClient, clock: OffsetClock, session: str, seqs: range, *, last: int | None = None
) -> dict[str, DisplayInfo]:
    """Sync packets `seqs`, advancing the emulator's clock by one packet's duration after each."""
    best: dict[str, DisplayInfo] = {}
    for seq in seqs:
        keep_newest(best, (await client.sync(packet(session, seq, last=seq == last))).sentences)
        clock.advance(PACKET_S)
    return best


async def test_sync_session_yields_the_cued_sentences(emu: EmulatorHandle, clock: OffsetClock) -> None:
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client:
        best = await send_paced(client, clock, "sync-1", range(15), last=14)
    finals = [
        (s.source_text, s.target_text) for s in sorted(best.values(), key=lambda s: s.start_time) if s.is_end
    ]
    assert finals == [(c["source"], c["target"]) for c in CUES]
    snapshot = emu.state.session("sync-1")
    assert snapshot.seqs == list(range(15))
    assert snapshot.sizes == [len(PACKET)] * 15
    assert snapshot.ended
    assert snapshot.failed is None
    assert emu.state.codes() == []


async def test_recognize_then_display_yields_the_cued_sentences(
    emu: EmulatorHandle, clock: OffsetClock
) -> None:
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client:
        for seq in range(15):
            result = await client.recognize(packet("split-1", seq, last=seq == 14))
            assert result.sentences == ()
            assert result.request_id
            clock.advance(PACKET_S)
        shown = await client.display(DisplayRequest("split-1"))
    assert [(s.source_text, s.target_text, s.is_end) for s in reversed(shown.sentences)] == [
        (c["source"], c["target"], True) for c in CUES
    ]


async def test_wrong_key_is_a_final_signature_failure(emu: EmulatorHandle, clock: OffsetClock) -> None:
    creds = Credentials(emu.secret_id, "not-the-right-secret-key")
    async with TsiClient(creds, endpoint=emu.url, clock=clock) as client:
        with pytest.raises(ApiError) as err:
            await client.sync(packet("bad-key", 0))
    assert err.value.code == "AuthFailure.SignatureFailure"
    assert err.value.is_auth
    assert not err.value.retryable
    assert err.value.request_id
    assert "not-the-right-secret-key" not in str(err.value)
    assert emu.state.codes() == ["AuthFailure.SignatureFailure"]


@pytest.mark.parametrize("skew_s", [600, -600])
async def test_skewed_client_clock_recovers_from_the_date_header(
    emu: EmulatorHandle, clock: OffsetClock, skew_s: float
) -> None:
    skewed: Callable[[], float] = lambda: clock() + skew_s  # noqa: E731
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=skewed) as client:
        best = await send_paced(client, clock, "skewed", range(15), last=14)
        assert client.clock_offset_s == pytest.approx(-skew_s, abs=1.5)
    assert [s.target_text for s in best.values() if s.is_end] == [c["target"] for c in CUES]
    # One stale signature, corrected once; every later request was signed with the corrected clock.
    assert emu.state.codes() == ["AuthFailure.SignatureExpire"]


async def test_injected_5xx_is_a_retryable_http_error_and_the_retry_succeeds(
    emu: EmulatorHandle, clock: OffsetClock
) -> None:
    emu.set_faults(http_5xx_at_seq=(1,), http_status=502)
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client:
        await send_paced(client, clock, "5xx", range(1))
        with pytest.raises(HttpStatusError) as err:
            await client.sync(packet("5xx", 1))
        assert (err.value.status, err.value.retryable) == (502, True)
        await client.sync(packet("5xx", 1))
    assert emu.state.session("5xx").seqs == [0, 1]


async def test_connection_reset_is_a_network_error(emu: EmulatorHandle, clock: OffsetClock) -> None:
    emu.set_faults(reset_at_seq=(1,))
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client:
        await send_paced(client, clock, "reset", range(1))
        with pytest.raises(NetworkError) as err:
            await client.sync(packet("reset", 1))
        assert err.value.retryable
        # The long-lived session survives a reset connection.
        await client.sync(packet("reset", 1))
    assert emu.state.session("reset").seqs == [0, 1]


async def test_stall_beyond_the_timeout_is_a_network_error(emu: EmulatorHandle, clock: OffsetClock) -> None:
    # The emulator sleeps through the stall in real time; keep it short so its shutdown is quick.
    emu.set_faults(stall_at_seq=(0,), stall_ms=800)
    async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock, timeout_s=0.2) as client:
        with pytest.raises(NetworkError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.2 s") as err:
            await client.sync(packet("stall", 0))
    assert err.value.retryable


async def test_request_limit_exceeded_is_retryable(clock: OffsetClock) -> None:
    async with (
        running_emulator(cues=CUES, clock=clock, rate_limits={ACTION_DISPLAY: 2}) as emu,
        TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client,
    ):
        await client.display(DisplayRequest("limits"))
        await client.display(DisplayRequest("limits"))
        with pytest.raises(ApiError) as err:
            await client.display(DisplayRequest("limits"))
        assert err.value.code == "RequestLimitExceeded"
        assert err.value.retryable
        clock.advance(1.1)
        await client.display(DisplayRequest("limits"))


async def test_temporary_token_is_sent_as_x_tc_token(clock: OffsetClock) -> None:
    async with running_emulator(cues=CUES, clock=clock, token="temporary-session-token-1") as emu:
        assert client_credentials(emu).token == "temporary-session-token-1"
        async with TsiClient(client_credentials(emu), endpoint=emu.url, clock=clock) as client:
            await client.sync(packet("token", 0))
        without = Credentials(emu.secret_id, emu.secret_key)
        async with TsiClient(without, endpoint=emu.url, clock=clock) as client:
            with pytest.raises(ApiError) as err:
                await client.sync(packet("token-2", 0))
        assert err.value.code == "AuthFailure.TokenFailure"


async def test_no_secret_in_errors_repr_or_log_file(
    tmp_path: Path, emu: EmulatorHandle, clock: OffsetClock
) -> None:
    log_path = tmp_path / "log" / "tongchuan-tui.log"
    root_level = logging.getLogger().level
    # No secret is registered with the masking filter: nothing may reach the log in the first place.
    setup_logging(log_path, "DEBUG")
    wrong = Credentials(emu.secret_id, "wrong-secret-key-77", "temp-token-secret-88")
    errors: list[Exception] = []
    try:
        async with TsiClient(wrong, endpoint=emu.url, clock=clock) as client:
            with pytest.raises(ApiError) as api_err:
                await client.sync(packet("leak", 0))
            errors.append(api_err.value)
            emu.set_faults(reset_at_seq=(0,))
            with pytest.raises(NetworkError) as net_err:
                await client.sync(packet("leak-2", 0))
            errors.append(net_err.value)
        async with TsiClient(wrong, endpoint="http://127.0.0.1:1/", clock=clock, timeout_s=2) as client:
            with pytest.raises(NetworkError) as refused:
                await client.sync(packet("leak-3", 0))
            errors.append(refused.value)
        logging.getLogger("tongchuan_tui.test").error("failed: %r", errors, exc_info=errors[0])
    finally:
        teardown_logging()
        logging.getLogger().setLevel(root_level)
    written = log_path.read_text(encoding="utf-8")
    assert "AuthFailure.SignatureFailure" in written  # the failures were logged...
    for text in [written, repr(wrong), str(wrong), *map(str, errors), *map(repr, errors)]:
        for secret in ("wrong-secret-key-77", "temp-token-secret-88", emu.secret_key):
            assert secret not in text
