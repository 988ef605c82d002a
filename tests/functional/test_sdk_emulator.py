"""The official SDK (tencentcloud-sdk-python-tsi) against the emulator: sessions and the real error codes.

The SDK is blocking, so the emulator runs on its own loop in a thread. Only the first test runs in real time;
the others move the emulator's clock instead of waiting.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from tencentcloud.common import abstract_client
from tests.functional.emulator_helpers import (
    display_request,
    final_texts,
    keep_newest,
    sdk_client,
    sdk_error,
    signed_post,
    upload_request,
)

from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, OffsetClock, run_emulator_in_thread
from tongchuan_tui.resources import cue_scripts

CUE_FILE = cue_scripts()["zh-en-short"]
CUES = json.loads(CUE_FILE.read_text(encoding="utf-8"))
PACKET_MS = 200
PACKET_BYTES = 6400
SHORT_CUES = [
    {"start_ms": 100, "end_ms": 900, "source": "早上好。", "target": "Good morning."},
    {"start_ms": 1100, "end_ms": 1900, "source": "开始吧。", "target": "Let's begin."},
]


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
def emu(clock: OffsetClock) -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=SHORT_CUES, clock=clock) as handle:
        yield handle


def packet(seq: int) -> bytes:
    return bytes([seq % 251, 0]) * (PACKET_BYTES // 2)


@pytest.mark.realtime
def test_paced_13_second_sync_session_returns_the_cued_sentences() -> None:
    speech = [(c["start_ms"], c["end_ms"]) for c in CUES["cues"]]
    audio = speech_like_pcm(13_000, speech, seed=13)
    best: dict[str, Any] = {}
    with run_emulator_in_thread(cues=CUE_FILE) as emu:
        client = sdk_client(emu)
        start = time.monotonic()
        for seq in range(65):
            # Absolute schedule: packet n leaves at start + n * 200 ms, however long the previous call took.
            delay = start + seq * PACKET_MS / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            chunk = audio[seq * PACKET_BYTES : (seq + 1) * PACKET_BYTES]
            response = client.TongChuanSync(upload_request("Sync", "paced-13s", seq, chunk, is_end=seq == 64))
            assert response.RequestId
            keep_newest(best, response.List)
        snapshot = emu.state.session("paced-13s")
    assert final_texts(best) == [(c["source"], c["target"]) for c in CUES["cues"]]
    assert sorted((s.StartTime, s.EndTime) for s in best.values()) == speech
    assert snapshot.seqs == list(range(65))
    assert (snapshot.dropped_short, snapshot.pacing_violations, snapshot.gap_violations) == (0, (), ())
    assert snapshot.ended
    assert snapshot.failed is None


def test_recognize_then_display_session(emu: EmulatorHandle, clock: OffsetClock) -> None:
    client = sdk_client(emu)
    best: dict[str, Any] = {}
    for seq in range(10):
        response = client.TongChuanRecognize(
            upload_request("Recognize", "split", seq, packet(seq), is_end=seq == 9)
        )
        assert response.RequestId
        assert json.loads(response.to_json_string()) == {"RequestId": response.RequestId}
        clock.advance(PACKET_MS / 1000)
        shown = client.TongChuanDisplay(display_request("split")).List
        assert len(shown) <= 5
        assert [s.SeId for s in shown] == sorted((s.SeId for s in shown), reverse=True)
        keep_newest(best, shown)
    assert final_texts(best) == [(c["source"], c["target"]) for c in SHORT_CUES]
    assert emu.state.session("split").seqs == list(range(10))


def test_a_wrong_secret_key_is_a_signature_failure(emu: EmulatorHandle) -> None:
    bad = sdk_client(emu, secret_key="not-the-right-key")
    assert sdk_error(lambda: bad.TongChuanSync(upload_request("Sync", "k", 0, packet(0)))) == (
        "AuthFailure.SignatureFailure"
    )
    stranger = sdk_client(emu, secret_id="unknown-id")
    assert (
        sdk_error(lambda: stranger.TongChuanDisplay(display_request("k"))) == "AuthFailure.SecretIdNotFound"
    )
    assert emu.state.sessions == ()


def test_an_unsupported_language_pair_is_invalid_parameter_value(emu: EmulatorHandle) -> None:
    client = sdk_client(emu)
    request = upload_request("Sync", "pair", 0, packet(0), source="en", target="ja")
    assert sdk_error(lambda: client.TongChuanSync(request)) == "InvalidParameterValue"


def test_a_stale_timestamp_is_signature_expire(emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK stamps X-TC-Timestamp from its module's `time`; give it a clock ten minutes slow.
    real_time = time.time
    monkeypatch.setattr(abstract_client, "time", SimpleNamespace(time=lambda: real_time() - 600))
    client = sdk_client(emu)
    assert (
        sdk_error(lambda: client.TongChuanDisplay(display_request("stale"))) == "AuthFailure.SignatureExpire"
    )
    monkeypatch.undo()
    assert client.TongChuanDisplay(display_request("stale")).List == []


def test_display_supports_only_se_max_5_and_is_new_1(emu: EmulatorHandle) -> None:
    client = sdk_client(emu)
    assert sdk_error(lambda: client.TongChuanDisplay(display_request("d", se_max=3))) == (
        "UnsupportedOperation.SeMax"
    )
    assert sdk_error(lambda: client.TongChuanDisplay(display_request("d", is_new=0))) == (
        "UnsupportedOperation.IsNew"
    )


def test_sending_faster_than_real_time_fails(emu: EmulatorHandle) -> None:
    client = sdk_client(emu)
    for seq in range(3):  # 600 ms of audio at once is within the one-packet tolerance...
        client.TongChuanSync(upload_request("Sync", "fast", seq, packet(seq)))
    # ...the fourth packet would start 600 ms ahead of real time.
    assert sdk_error(lambda: client.TongChuanSync(upload_request("Sync", "fast", 3, packet(3)))) == (
        "FailedOperation"
    )
    snapshot = emu.state.session("fast")
    assert [v.seq for v in snapshot.pacing_violations] == [3]
    assert snapshot.seqs == [0, 1, 2]


def test_a_gap_of_more_than_6_seconds_fails_the_session(emu: EmulatorHandle, clock: OffsetClock) -> None:
    client = sdk_client(emu)
    client.TongChuanSync(upload_request("Sync", "gap", 0, packet(0)))
    clock.advance(6.5)
    assert sdk_error(lambda: client.TongChuanSync(upload_request("Sync", "gap", 1, packet(1)))) == (
        "FailedOperation"
    )
    clock.advance(0.2)
    assert sdk_error(lambda: client.TongChuanSync(upload_request("Sync", "gap", 1, packet(1)))) == (
        "FailedOperation"
    )
    violations = emu.state.session("gap").gap_violations
    assert len(violations) == 1
    assert violations[0].amount_ms >= 6500


def test_unknown_action_and_5xx_reach_the_sdk_as_errors(emu: EmulatorHandle) -> None:
    client = sdk_client(emu)
    assert sdk_error(lambda: client.call_json("TongChuanTranslate", {})) == "InvalidAction"
    emu.set_faults(http_5xx_at_seq=(0,), http_status=502)
    assert sdk_error(lambda: client.TongChuanSync(upload_request("Sync", "5xx", 0, packet(0)))) == (
        "ServerNetworkError"
    )
    # First attempt only: the SDK's retry of the same packet succeeds.
    assert client.TongChuanSync(upload_request("Sync", "5xx", 0, packet(0))).RequestId


def test_quick_start_signing_with_x_tc_action_is_accepted(emu: EmulatorHandle) -> None:
    params = {
        "SessionUuid": "quick",
        "Source": "zh",
        "Target": "en",
        "AudioFormat": 1,
        "Seq": 0,
        "Utc": int(time.time()),
        "IsEnd": 0,
        "TranslateTime": 1,
        "Data": base64.b64encode(packet(0)).decode(),
    }
    headers, body = signed_post(
        emu.url, "TongChuanSync", params, secret_id=emu.secret_id, secret_key=emu.secret_key
    )
    assert "Error" not in body["Response"], body
    (sentence,) = body["Response"]["List"]
    assert (sentence["SeId"], sentence["SourceText"], sentence["TargetText"]) == ("0", "早", "")
    assert headers["Content-Type"] == "application/json"
    assert emu.state.session("quick").seqs == [0]
