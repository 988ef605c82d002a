"""Our TC3 signer and client headers against the official SDK (the reference peer), over generated inputs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.tsi.v20210325 import tsi_client

from tongchuan_tui.api import signing
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.api.models import ACTIONS, SERVICE, DisplayRequest, UploadRequest

MIDNIGHT = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())

secret_keys = st.text(min_size=1, max_size=60)
# The SDK's Credential refuses blank keys or keys with surrounding whitespace (our resolver strips them).
sdk_secret_keys = secret_keys.filter(lambda k: k.strip() == k != "")
secret_ids = st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True)
# Second-resolution timestamps from 2001 to 2100, with a dense band either side of a UTC midnight, where the
# credential-scope date flips and a signer that used local time or rounded would disagree with the SDK.
timestamps = st.one_of(
    st.integers(min_value=1_000_000_000, max_value=4_102_444_800),
    st.integers(min_value=MIDNIGHT - 5, max_value=MIDNIGHT + 5),
)
hosts = st.builds(
    lambda name, port: name if port is None else f"{name}:{port}",
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}", fullmatch=True),
    st.one_of(st.none(), st.integers(min_value=1, max_value=65535)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
params_st = st.dictionaries(st.from_regex(r"[A-Z][A-Za-z]{0,12}", fullmatch=True), json_values, max_size=8)


def sdk_client(host: str, secret_id: str, secret_key: str, token: str | None, language: str) -> Any:
    """The official TsiClient pointed at `host` (nothing is sent: we only use its request builder)."""
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host), language=language)
    return tsi_client.TsiClient(credential.Credential(secret_id, secret_key, token), "", profile)


def sdk_build(client: Any, action: str, params: dict[str, Any], timestamp: int) -> Any:
    """The SDK's signed request for `action` with `params` at `timestamp` (its clock replaced)."""
    req = RequestInternal(client._get_endpoint(), "POST", "/", header={})
    with mock.patch.object(abstract_client, "time", SimpleNamespace(time=lambda: timestamp)):
        client._build_req_with_tc3_signature(action, params, req)
    return req


def sdk_authorization_for(headers: dict[str, str], body: bytes, secret_id: str, secret_key: str) -> str:
    """What the SDK's signer computes over a request we sent (its headers and exact body bytes)."""
    client = sdk_client(headers["Host"], secret_id, secret_key, None, "en-US")
    req = RequestInternal(headers["Host"], "POST", "/", header=dict(headers), data=body.decode("utf-8"))
    date = datetime.fromtimestamp(int(headers["X-TC-Timestamp"]), tz=UTC).strftime("%Y-%m-%d")
    sig = client._get_tc3_signature({}, req, date, SERVICE, secret_key)
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{SERVICE}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )


# -- the pure signer ----------------------------------------------------------------------------------------


@given(
    secret_key=secret_keys, timestamp=timestamps, service=st.sampled_from([SERVICE, "cvm"]), text=st.text()
)
@example(secret_key="密钥🔑", timestamp=MIDNIGHT - 1, service=SERVICE, text="")
def test_signature_matches_sdk_sign_tc3(secret_key: str, timestamp: int, service: str, text: str) -> None:
    date = signing.utc_date(timestamp)
    assert signing.signature(secret_key, date, service, text) == Sign.sign_tc3(
        secret_key, date, service, text
    )


@pytest.mark.parametrize(
    ("timestamp", "date"),
    [(MIDNIGHT - 1, "2026-11-24"), (MIDNIGHT, "2026-11-25"), (0, "1970-01-01"), (951_868_800, "2000-03-01")],
)
def test_credential_date_is_the_utc_day(timestamp: int, date: str) -> None:
    assert signing.utc_date(timestamp) == date


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret_id=secret_ids,
    secret_key=sdk_secret_keys,
    token=st.one_of(st.none(), st.text(min_size=1, max_size=40).filter(str.strip)),
    timestamp=timestamps,
    host=hosts,
    action=st.sampled_from(ACTIONS),
    params=params_st,
)
def test_authorization_matches_sdk_request_builder(
    secret_id: str,
    secret_key: str,
    token: str | None,
    timestamp: int,
    host: str,
    action: str,
    params: dict[str, Any],
) -> None:
    req = sdk_build(sdk_client(host, secret_id, secret_key, token, "zh-CN"), action, params, timestamp)
    ours = signing.authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service=SERVICE,
        timestamp=timestamp,
        headers=req.header,
        payload=req.data.encode("utf-8"),
    )
    assert ours == req.header["Authorization"]
    parsed = signing.parse_authorization(ours)
    assert (parsed.secret_id, parsed.service, parsed.signed_headers) == (
        secret_id,
        SERVICE,
        ("content-type", "host"),
    )


@given(secret_key=secret_keys, timestamp=timestamps, payload=st.binary(max_size=200))
def test_a_changed_byte_of_the_body_changes_the_signature(
    secret_key: str, timestamp: int, payload: bytes
) -> None:
    headers = {"Content-Type": "application/json", "Host": "tsi.tencentcloudapi.com"}

    def auth(body: bytes) -> str:
        return signing.authorization(
            secret_id="id",
            secret_key=secret_key,
            service=SERVICE,
            timestamp=timestamp,
            headers=headers,
            payload=body,
        )

    assert auth(payload) != auth(payload + b" ")


# -- the client's headers, as sent on the wire -------------------------------------------------------------


@pytest.fixture
async def capture() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A loopback HTTP server recording each request's headers and body, answering an empty Sync result."""
    seen: list[tuple[dict[str, str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.json_response({"Response": {"List": [], "RequestId": f"req-{len(seen)}"}})

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/", seen
    finally:
        await runner.cleanup()


def upload(seq: int = 0) -> UploadRequest:
    return UploadRequest(
        session_uuid="s-1",
        source="zh",
        target="en",
        seq=seq,
        utc=1_700_000_000,
        is_end=False,
        data=b"\x01\x00" * 3200,
    )


@pytest.mark.parametrize(
    ("secret_key", "token", "timestamp", "language"),
    [
        ("emu-test-key", None, MIDNIGHT - 1, None),
        ("emu-test-key", None, MIDNIGHT, "en-US"),
        ("ключ-密钥-🔑", "temporary-token-value", 1_764_000_000, "zh-CN"),
    ],
)
async def test_sent_authorization_is_what_the_sdk_computes_for_the_same_request(
    capture: tuple[str, list[tuple[dict[str, str], bytes]]],
    secret_key: str,
    token: str | None,
    timestamp: int,
    language: str | None,
) -> None:
    url, seen = capture
    creds = Credentials("emu-test-id", secret_key, token)
    clock: Callable[[], float] = lambda: timestamp + 0.999  # noqa: E731  # int() must truncate, as the SDK does
    async with TsiClient(creds, endpoint=url, clock=clock, language=language) as client:
        await client.sync(upload())
        await client.display(DisplayRequest("s-1"))
    assert len(seen) == 2
    for (headers, body), action in zip(seen, ["TongChuanSync", "TongChuanDisplay"], strict=True):
        assert headers["Content-Type"] == "application/json"
        assert headers["Authorization"] == sdk_authorization_for(headers, body, "emu-test-id", secret_key)
        # The headers the SDK's own request builder would send for this action, endpoint, time and key.
        sdk = sdk_client(headers["Host"], "emu-test-id", secret_key, token, language or "zh-CN")
        expected = sdk_build(sdk, action, json.loads(body), timestamp).header
        for name in ("Host", "X-TC-Action", "X-TC-Timestamp", "X-TC-Version", "X-TC-Token"):
            assert headers.get(name) == expected.get(name), name
        assert headers.get("X-TC-Language") == language
        assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()


async def test_sent_host_header_carries_the_port_as_the_sdk_does(
    capture: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, seen = capture
    async with TsiClient(Credentials("emu-test-id", "emu-test-key"), endpoint=url) as client:
        await client.recognize(upload())
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert seen[0][0]["Host"] == f"127.0.0.1:{port}" == client.endpoint_host
    assert sdk_client(f"127.0.0.1:{port}", "a", "b", None, "zh-CN")._get_endpoint() == seen[0][0]["Host"]
