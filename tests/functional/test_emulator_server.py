"""The emulator's HTTP surface: response shape and Date, size and rate limits, injected faults as a client
sees them, the admin routes, and the `tongchuan-tui emulator` command as a subprocess."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tongchuan_tui.api import signing
from tongchuan_tui.emulator.testing import OffsetClock, running_emulator
from tongchuan_tui.emulator.variants import WireVariant

CUES = [{"start_ms": 0, "end_ms": 400, "source": "好。", "target": "Good."}]
PACKET = b"\x00\x00" * 3200


def upload(session: str, seq: int, data: bytes = PACKET) -> dict[str, Any]:
    return {
        "SessionUuid": session,
        "Source": "zh",
        "Target": "en",
        "AudioFormat": 1,
        "Seq": seq,
        "Utc": 1_764_000_000,
        "IsEnd": 0,
        "TranslateTime": 2,
        "Data": base64.b64encode(data).decode(),
    }


async def post(
    http: aiohttp.ClientSession,
    url: str,
    action: str,
    params: dict[str, Any],
    *,
    secret_id: str = "emu-test-id",
    secret_key: str = "emu-test-key",
    timestamp: float | None = None,
    version: str = "2021-03-25",
    language: str | None = None,
    limit_s: float = 10,
) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
    body = json.dumps(params).encode()
    ts = int(time.time() if timestamp is None else timestamp)
    host = url.removeprefix("http://").rstrip("/")
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(ts),
        "X-TC-Version": version,
        **({"X-TC-Language": language} if language else {}),
    }
    headers["Authorization"] = signing.authorization(
        secret_id=secret_id, secret_key=secret_key, service="tsi", timestamp=ts, headers=headers, payload=body
    )
    async with http.post(
        url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=limit_s)
    ) as resp:
        text = await resp.text()
        return resp, (json.loads(text) if resp.content_type == "application/json" else {"text": text})


def error_code(body: dict[str, Any]) -> str | None:
    error = body["Response"].get("Error")
    return error["Code"] if error else None


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_answers_carry_request_id_exact_json_type_and_the_emulator_clocks_date(http: Any) -> None:
    clock = OffsetClock(offset_s=3600)  # a server an hour ahead: clients correct their skew from Date
    async with running_emulator(cues=CUES, clock=clock) as emu:
        resp, body = await post(http, emu.url, "TongChuanSync", upload("s", 0), timestamp=clock())
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert abs(parsedate_to_datetime(resp.headers["Date"]).timestamp() - clock()) < 2
        assert body["Response"]["RequestId"]
        assert body["Response"]["List"][0]["SourceText"] == "好"
        resp, body = await post(http, emu.url, "TongChuanSync", upload("s", 1))
        assert resp.status == 200
        assert error_code(body) == "AuthFailure.SignatureExpire"
        assert set(body["Response"]) == {"Error", "RequestId"}


@pytest.mark.parametrize(
    ("action", "version", "language", "expected"),
    [
        ("TongChuanTranslate", "2021-03-25", None, "InvalidAction"),
        ("TongChuanSync", "2020-01-01", None, "NoSuchVersion"),
        ("TongChuanSync", "2021-03-25", "fr-FR", "InvalidParameterValue"),
        ("TongChuanSync", "2021-03-25", "en-US", None),
    ],
)
async def test_action_version_and_message_language(
    http: Any, action: str, version: str, language: str | None, expected: str | None
) -> None:
    async with running_emulator() as emu:
        _, body = await post(http, emu.url, action, upload("s", 0), version=version, language=language)
        assert error_code(body) == expected


async def test_a_body_over_the_size_limit_is_refused(http: Any) -> None:
    async with running_emulator(max_body_bytes=20_000) as emu:
        _, body = await post(http, emu.url, "TongChuanSync", upload("s", 0, b"\x00" * 16_000))
        assert error_code(body) == "RequestSizeLimitExceeded"
        _, body = await post(http, emu.url, "TongChuanSync", upload("s", 0))
        assert error_code(body) is None


async def test_over_25_syncs_in_a_second_is_request_limit_exceeded(http: Any) -> None:
    async with running_emulator(clock=lambda: 1_764_000_000.0) as emu:
        codes = []
        for _ in range(26):
            _, body = await post(
                http, emu.url, "TongChuanDisplay", {"SessionUuid": "x"}, timestamp=1_764_000_000
            )
            codes.append(error_code(body))
        # Display allows 50/s: these 26 are only parameter errors. Sync allows 25/s.
        assert set(codes) == {"MissingParameter"}
        for seq in range(26):
            _, body = await post(
                http, emu.url, "TongChuanSync", upload(f"r{seq}", 0), timestamp=1_764_000_000
            )
            codes.append(error_code(body))
        assert codes[26:] == [None] * 25 + ["RequestLimitExceeded"]


async def test_injected_faults_as_a_client_sees_them(http: Any) -> None:
    async with running_emulator(cues=CUES) as emu:
        emu.set_faults(
            reset_at_seq=(0,), http_5xx_at_seq=(1,), error_at_seq=(2,), error_code="ServiceUnavailable"
        )
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(http, emu.url, "TongChuanSync", upload("f", 0))
        assert error_code((await post(http, emu.url, "TongChuanSync", upload("f", 0)))[1]) is None
        resp, _ = await post(http, emu.url, "TongChuanSync", upload("f", 1))
        assert (resp.status, resp.content_type) == (503, "text/html")
        assert error_code((await post(http, emu.url, "TongChuanSync", upload("f", 1)))[1]) is None
        assert (
            error_code((await post(http, emu.url, "TongChuanSync", upload("f", 2)))[1])
            == "ServiceUnavailable"
        )
        assert error_code((await post(http, emu.url, "TongChuanSync", upload("f", 2)))[1]) is None
        assert emu.state.session("f").seqs == [0, 1, 2]
        assert [r.code for r in emu.state.requests] == ["reset", "", "HTTP503", "", "ServiceUnavailable", ""]


async def test_a_lost_response_makes_the_retry_an_idempotent_resend(http: Any) -> None:
    async with running_emulator(cues=CUES) as emu:
        emu.set_faults(lose_response_at_seq=(1,))
        await post(http, emu.url, "TongChuanSync", upload("lost", 0))
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(http, emu.url, "TongChuanSync", upload("lost", 1))
        _, body = await post(http, emu.url, "TongChuanSync", upload("lost", 1))
        assert error_code(body) is None
        snapshot = emu.state.session("lost")
        assert (snapshot.seqs, [p.retried for p in snapshot.packets], snapshot.audio_ms) == (
            [0, 1],
            [0, 1],
            400,
        )


async def test_a_stall_outlasts_the_client_timeout_and_latency_delays(http: Any) -> None:
    async with running_emulator() as emu:
        emu.set_faults(stall_at_seq=(0,), stall_ms=900)
        with pytest.raises(asyncio.TimeoutError):
            await post(http, emu.url, "TongChuanSync", upload("st", 0), limit_s=0.3)
        emu.set_faults(latency_ms=300)
        started = time.monotonic()
        _, body = await post(http, emu.url, "TongChuanDisplay", {"SessionUuid": "st", "IsNew": 1, "SeMax": 5})
        assert time.monotonic() - started >= 0.3
        assert error_code(body) is None


async def test_admin_routes_show_state_and_set_faults(http: Any) -> None:
    async with running_emulator(cues=CUES) as emu:
        await post(http, emu.url, "TongChuanSync", upload("adm", 0, b"\x00" * 100))
        async with http.get(f"{emu.url}__emulator__/state") as resp:
            state = await resp.json()
        (session,) = state["sessions"]
        assert (session["session_uuid"], session["dropped_short"], session["packets"][0]["size"]) == (
            "adm",
            1,
            100,
        )
        assert "emu-test-id" not in json.dumps(state)
        async with http.post(f"{emu.url}__emulator__/faults", json={"error_at_seq": [1]}) as resp:
            assert resp.status == 200
        assert emu.faults.error_at_seq == (1,)
        _, body = await post(http, emu.url, "TongChuanSync", upload("adm", 1))
        assert error_code(body) == "InternalError"
        async with http.post(f"{emu.url}__emulator__/faults", json={"latency": 1}) as resp:
            assert resp.status == 400
            assert "unknown fault 'latency'" in (await resp.json())["error"]


def _emulator_process(args: list[str], home: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "TENCENTCLOUD_SECRET_ID": "cli-test-id",
        "TENCENTCLOUD_SECRET_KEY": "cli-test-key-0001",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tongchuan_tui", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def test_the_command_serves_with_the_clients_credentials_and_stops_on_sigterm(
    http: Any, isolated_home: Path
) -> None:
    # A bundled cue script by name, as a pipx user would pass it.
    proc = _emulator_process(["--port", "0", "--cues", "zh-en-short", "--error-at-seq", "1"], isolated_home)
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)).strip()
        assert url.startswith("http://127.0.0.1:")
        creds = {"secret_id": "cli-test-id", "secret_key": "cli-test-key-0001"}
        _, body = await post(http, url, "TongChuanSync", upload("cli", 0), **creds)
        assert error_code(body) is None
        _, body = await post(http, url, "TongChuanSync", upload("cli", 1), **creds)
        assert error_code(body) == "InternalError"
        _, body = await post(http, url, "TongChuanSync", upload("cli", 1))
        assert error_code(body) == "AuthFailure.SecretIdNotFound"
        async with http.get(f"{url}__emulator__/state") as resp:
            assert [s["seqs"] for s in (await resp.json())["sessions"]] == [[0]]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=20)
    assert proc.returncode == 0
    assert "NOT the real service" in stderr
    assert "cli-test-key-0001" not in stderr


def test_help_says_it_is_not_the_real_service(isolated_home: Path) -> None:
    proc = _emulator_process(["--help"], isolated_home)
    stdout, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "NOT the real service" in stdout
    assert "--error-at-seq" in stdout


def test_without_credentials_it_says_where_it_looked(isolated_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env["HOME"] = str(isolated_home)
    proc = subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", "emulator", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=20,
    )
    assert proc.returncode == 3
    assert "TENCENTCLOUD_SECRET_ID" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("offset_s", [-400.0, 400.0])
async def test_a_clock_offset_moves_date_and_signature_expiry_but_not_the_pacing(
    http: Any, offset_s: float
) -> None:
    variant = WireVariant(clock_offset_s=offset_s)
    async with running_emulator(cues=CUES, variant=variant) as emu:
        resp, body = await post(http, emu.url, "TongChuanSync", upload("off", 0))
        assert error_code(body) == "AuthFailure.SignatureExpire"
        date = parsedate_to_datetime(resp.headers["Date"]).timestamp()
        assert abs(date - (time.time() + offset_s)) < 5
        # Signed on the server's clock, as a client that read the Date header would.
        _, body = await post(http, emu.url, "TongChuanSync", upload("off", 0), timestamp=date)
        assert error_code(body) is None
        assert emu.state.session("off").seqs == [0]
        assert emu.state.session("off").pacing_violations == ()


async def test_the_variant_shapes_the_sync_answer_and_is_reported_and_switchable(http: Any) -> None:
    variant = WireVariant(se_id="opaque", time_unit="10ms", string_ints=True, extra_fields=True)
    async with running_emulator(cues=CUES, variant=variant) as emu:
        _, body = await post(http, emu.url, "TongChuanSync", upload("var", 0))
        (sentence,) = body["Response"]["List"]
        assert len(sentence["SeId"]) == 12
        assert sentence["SeId"] != "0"
        assert (sentence["StartTime"], sentence["EndTime"]) == ("0", "20")
        assert body["Response"]["SessionUuid"] == "var"
        async with http.get(f"{emu.url}__emulator__/state") as resp:
            assert (await resp.json())["variant"]["se_id"] == "opaque"
        async with http.post(f"{emu.url}__emulator__/variant", json={"empty_list": "null"}) as resp:
            assert resp.status == 200
        assert emu.variant == WireVariant(empty_list="null")
        _, body = await post(
            http, emu.url, "TongChuanDisplay", {"SessionUuid": "nothing", "IsNew": 1, "SeMax": 5}
        )
        assert body["Response"]["List"] is None
        async with http.post(f"{emu.url}__emulator__/variant", json={"time_unit": "min"}) as resp:
            assert resp.status == 400
            assert "time_unit must be one of ms, 10ms, s" in (await resp.json())["error"]


async def test_the_command_takes_vary_and_refusals_and_reports_its_pick(
    http: Any, isolated_home: Path
) -> None:
    args = ["--port", "0", "--vary", "7", "--clock-offset-s", "0", "--refuse-seq", "0:2:ServiceUnavailable"]
    proc = _emulator_process(args, isolated_home)
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)).strip()
        creds = {"secret_id": "cli-test-id", "secret_key": "cli-test-key-0001"}
        codes = [
            error_code((await post(http, url, "TongChuanSync", upload("v", 0), **creds))[1]) for _ in range(3)
        ]
        assert codes == ["ServiceUnavailable", "ServiceUnavailable", None]
        async with http.get(f"{url}__emulator__/state") as resp:
            reported = (await resp.json())["variant"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=20)
    assert proc.returncode == 0
    expected = WireVariant.random(7).replace(clock_offset_s=0.0)
    assert WireVariant.from_json(reported) == expected
    assert f"--vary 7 picked: {expected.describe()}" in stderr


def test_a_bad_refusal_flag_is_a_usage_error(isolated_home: Path) -> None:
    proc = _emulator_process(["--refuse-seq", "0:x"], isolated_home)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "SEQ and TIMES must be whole numbers" in stderr
