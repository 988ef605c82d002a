"""The client's endpoint validation and its mapping of answers to domain errors, against a scripted server."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest
from aiohttp import web

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import TsiClient, parse_endpoint, skew_from_date
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.api.errors import (
    ApiError,
    HttpStatusError,
    NetworkError,
    ProtocolError,
    TlsError,
    TsiError,
)
from tongchuan_tui.api.models import DisplayRequest, UploadRequest

CREDS = Credentials("emu-test-id", "emu-test-key")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Scripted:
    """A loopback server whose answer is whatever `handler` is set to; records each request."""

    url: str = ""
    handler: Handler | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    peers: list[object] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def server() -> AsyncIterator[Scripted]:
    scripted = Scripted()

    async def handle(request: web.Request) -> web.StreamResponse:
        scripted.requests.append(dict(request.headers))
        scripted.peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        await request.read()
        scripted.arrived.set()
        assert scripted.handler is not None
        return await scripted.handler(request)

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    scripted.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield scripted
    finally:
        await runner.cleanup()


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if isinstance(body, bytes):
            return web.Response(body=body, status=status, headers=headers, content_type="application/json")
        return web.json_response(body, status=status, headers=headers)

    return handler


def api_error(code: str) -> dict[str, object]:
    return {"Response": {"Error": {"Code": code, "Message": "x"}, "RequestId": "r"}}


def upload(seq: int = 0) -> UploadRequest:
    return UploadRequest("s-1", "zh", "en", seq, 1_700_000_000, False, b"\x00\x00" * 3200)


# -- endpoint ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "official", "insecure"),
    [
        ("https://tsi.tencentcloudapi.com/", "tsi.tencentcloudapi.com", True, False),
        ("https://TSI.tencentcloudapi.com", "tsi.tencentcloudapi.com", True, False),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080", False, False),
        ("http://localhost:9000", "localhost:9000", False, False),
        ("http://[::1]:8080/", "[::1]:8080", False, False),
        ("http://192.168.1.20:8080/", "192.168.1.20:8080", False, True),
        ("https://proxy.example.com:8443/", "proxy.example.com:8443", False, False),
    ],
)
def test_endpoint_host_header_and_flags(url: str, host: str, official: bool, insecure: bool) -> None:
    endpoint = parse_endpoint(url)
    assert (endpoint.host_header, endpoint.is_official, endpoint.insecure_non_loopback) == (
        host,
        official,
        insecure,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tsi.tencentcloudapi.com", "must start with https://"),
        ("ftp://x.example/", "must start with https://"),
        ("https:///", "has no host"),
        ("https://user:pw@x.example/", "must not contain a user name or password"),
        ("https://x.example/api", "must have no path, query or fragment"),
        ("https://x.example/?a=1", "must have no path, query or fragment"),
        ("http://127.0.0.1:99999/", "is not a valid URL"),
    ],
)
def test_bad_endpoint_is_one_clear_line(url: str, says: str) -> None:
    with pytest.raises(ValueError, match="endpoint") as err:
        parse_endpoint(url)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_plain_http_to_another_host_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        client = TsiClient(CREDS, endpoint="http://10.0.0.5:8080/")
    assert client.insecure_non_loopback
    assert "not encrypted" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert not TsiClient(CREDS, endpoint="http://127.0.0.1:8080/").insecure_non_loopback
    assert caplog.text == ""


def test_skew_from_date() -> None:
    now = 1_764_000_000.0
    assert skew_from_date(formatdate(now + 600, usegmt=True), now) == pytest.approx(600)
    assert skew_from_date("garbage", now) is None
    assert skew_from_date(None, now) is None


# -- answers mapped to results and errors ------------------------------------------------------------------


async def test_results_are_parsed(server: Scripted) -> None:
    sentence = {
        "SeId": 1,
        "SeVer": 3,
        "SourceText": "你好",
        "TargetText": "Hello",
        "StartTime": 0,
        "EndTime": 800,
    }
    server.handler = answer({"Response": {"List": [sentence | {"IsEnd": True}], "RequestId": "r-1"}})
    async with TsiClient(CREDS, endpoint=server.url) as client:
        result = await client.sync(upload())
    assert result.request_id == "r-1"
    got = [(s.se_id, s.se_ver, s.target_text, s.is_end) for s in result.sentences]
    assert got == [("1", 3, "Hello", True)]


async def test_one_session_serves_every_request(server: Scripted) -> None:
    server.handler = answer({"Response": {"RequestId": "r"}})
    async with TsiClient(CREDS, endpoint=server.url) as client:
        for seq in range(3):
            await client.recognize(upload(seq))
        await client.display(DisplayRequest("s-1"))
    assert len(server.peers) == 4
    assert len(set(server.peers)) == 1, "each request opened a new connection"


@pytest.mark.parametrize(
    ("body", "status", "error", "retryable"),
    [
        (api_error("InvalidParameter"), 200, ApiError, False),
        (api_error("RequestLimitExceeded"), 200, ApiError, True),
        (api_error("RequestLimitExceeded.UinLimitExceeded"), 200, ApiError, True),
        (api_error("InternalError"), 200, ApiError, True),
        (api_error("AuthFailure.SignatureFailure"), 200, ApiError, False),
        ({"oops": 1}, 200, ProtocolError, False),
        ([1, 2], 200, ProtocolError, False),
        ({"Response": {"List": [{"SeVer": 1}], "RequestId": "r"}}, 200, ProtocolError, False),
        ({"Response": {"List": {"SeId": 1}, "RequestId": "r"}}, 200, ProtocolError, False),
        ({"Response": {"List": []}}, 200, ProtocolError, False),
        (b"<html>gateway</html>", 200, ProtocolError, False),
        (b"<html>bad gateway</html>", 502, HttpStatusError, True),
        ({"message": "no such route"}, 404, HttpStatusError, False),
    ],
)  # fmt: skip
async def test_answers_map_to_typed_errors(
    server: Scripted, body: object, status: int, error: type[Exception], retryable: bool
) -> None:
    server.handler = answer(body, status)
    async with TsiClient(CREDS, endpoint=server.url) as client:
        with pytest.raises(error) as err:
            await client.sync(upload())
    assert getattr(err.value, "retryable", None) is retryable
    assert len(server.requests) == 1, "the client must not retry on its own"


async def test_api_error_keeps_code_message_and_request_id(server: Scripted) -> None:
    server.handler = answer(
        {
            "Response": {
                "Error": {"Code": "UnsupportedOperation.TranslateTime", "Message": "no"},
                "RequestId": "r-9",
            }
        }
    )
    async with TsiClient(CREDS, endpoint=server.url) as client:
        with pytest.raises(ApiError) as err:
            await client.sync(upload())
    assert (err.value.code, err.value.message, err.value.request_id) == (
        "UnsupportedOperation.TranslateTime",
        "no",
        "r-9",
    )


# -- clock skew -------------------------------------------------------------------------------------------

SERVER_NOW = 1_764_000_000


def skew_checking(date_header: bool = True) -> Handler:
    """Like the service: SignatureExpire when X-TC-Timestamp is more than 300 s off the server's clock."""

    async def handler(request: web.Request) -> web.StreamResponse:
        # aiohttp adds a Date of its own when there is none; an unparseable one stands for "no usable Date".
        headers = {"Date": formatdate(SERVER_NOW, usegmt=True) if date_header else "soon"}
        if abs(int(request.headers["X-TC-Timestamp"]) - SERVER_NOW) > 300:
            error = {"Code": "AuthFailure.SignatureExpire", "Message": "signature expired"}
            return web.json_response({"Response": {"Error": error, "RequestId": "r-x"}}, headers=headers)
        return web.json_response({"Response": {"List": [], "RequestId": "r-ok"}}, headers=headers)

    return handler


@pytest.mark.parametrize("skew", [600, -3600])
async def test_skewed_clock_is_corrected_from_the_date_header_once(server: Scripted, skew: int) -> None:
    server.handler = skew_checking()
    async with TsiClient(CREDS, endpoint=server.url, clock=lambda: SERVER_NOW + skew + 0.2) as client:
        assert (await client.sync(upload(0))).request_id == "r-ok"
        assert client.clock_offset_s == pytest.approx(-skew, abs=1)
        assert (await client.sync(upload(1))).request_id == "r-ok"
    timestamps = [int(h["X-TC-Timestamp"]) for h in server.requests]
    assert timestamps[0] == SERVER_NOW + skew
    assert all(abs(t - SERVER_NOW) <= 1 for t in timestamps[1:])
    assert len(timestamps) == 3, "the corrected clock must be kept for later requests"


async def test_signature_expire_without_a_usable_date_header_is_final(server: Scripted) -> None:
    server.handler = skew_checking(date_header=False)
    async with TsiClient(CREDS, endpoint=server.url, clock=lambda: SERVER_NOW + 600) as client:
        with pytest.raises(ApiError, match="SignatureExpire"):
            await client.sync(upload())
    assert len(server.requests) == 1


async def test_signature_expire_is_retried_only_once(server: Scripted) -> None:
    error = {"Code": "AuthFailure.SignatureExpire", "Message": "expired"}
    server.handler = answer(
        {"Response": {"Error": error, "RequestId": "r"}},
        headers={"Date": formatdate(SERVER_NOW, usegmt=True)},
    )
    async with TsiClient(CREDS, endpoint=server.url, clock=lambda: SERVER_NOW) as client:
        with pytest.raises(ApiError, match="SignatureExpire"):
            await client.sync(upload())
    assert len(server.requests) == 2


# -- transport failures -----------------------------------------------------------------------------------


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with TsiClient(CREDS, endpoint=f"http://127.0.0.1:{port}/") as client:
        with pytest.raises(NetworkError) as err:
            await client.sync(upload())
    assert err.value.retryable
    assert f"127.0.0.1:{port}" in str(err.value)


async def test_cancellation_propagates_and_is_not_a_network_error(server: Scripted) -> None:
    never = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    server.handler = stall
    async with TsiClient(CREDS, endpoint=server.url, timeout_s=30) as client:
        task = asyncio.create_task(client.sync(upload()))
        await asyncio.wait_for(server.arrived.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    never.set()


async def test_a_stall_beyond_the_timeout_is_a_network_error(server: Scripted) -> None:
    never = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    server.handler = stall
    async with TsiClient(CREDS, endpoint=server.url, timeout_s=0.3) as client:
        with pytest.raises(NetworkError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.3 s"):
            await client.sync(upload())
    never.set()


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="language must be one of zh-CN, en-US"):
        TsiClient(CREDS, language="fr-FR")
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        TsiClient(CREDS, timeout_s=0)


# -- error categories and exit codes ----------------------------------------------------------------------


async def test_a_malformed_answer_is_not_the_service_rejecting_the_session(server: Scripted) -> None:
    # The very answer that ended every live run when SeId was parsed as an integer is now understood...
    ok = {
        "SeId": "0c4641e341e5",
        "SeVer": 1,
        "SourceText": "早",
        "StartTime": 0,
        "EndTime": 1,
        "IsEnd": False,
    }
    server.handler = answer({"Response": {"List": [ok], "RequestId": "r"}})
    async with TsiClient(CREDS, endpoint=server.url) as client:
        assert [s.se_id for s in (await client.sync(upload())).sentences] == ["0c4641e341e5"]
    # ...and a sentence that really is malformed gets its own category, cause kept for the log.
    server.handler = answer({"Response": {"List": [ok, {"SeVer": 1}], "RequestId": "r"}})
    async with TsiClient(CREDS, endpoint=server.url) as client:
        with pytest.raises(ProtocolError, match=r"malformed sentence \(#2 of 2: SeId is missing\)") as err:
            await client.sync(upload())
    assert isinstance(err.value.__cause__, KeyError)
    assert exitcodes.for_error(err.value) == exitcodes.SERVICE_MALFORMED != exitcodes.SERVICE_REJECTED


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ApiError("AuthFailure.SignatureFailure", "bad"), exitcodes.SERVICE_REJECTED),
        (ApiError("UnsupportedOperation.TranslateTime", "no"), exitcodes.SERVICE_REJECTED),
        (ProtocolError("not JSON"), exitcodes.SERVICE_MALFORMED),
        (HttpStatusError(404, "no such route"), exitcodes.SERVICE_MALFORMED),
        (NetworkError("refused"), exitcodes.SERVICE_UNREACHABLE),
        (TlsError("tsi.tencentcloudapi.com", "certificate verify failed"), exitcodes.SERVICE_UNREACHABLE),
    ],
)
def test_each_kind_of_final_error_has_its_exit_code(error: TsiError, code: int) -> None:
    assert exitcodes.for_error(error) == code
    assert code in exitcodes.DESCRIPTIONS


def test_every_exit_code_is_in_the_readme_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code, text in exitcodes.DESCRIPTIONS.items():
        assert f"| {code} |" in readme, f"exit code {code} ({text}) is missing from README's table"


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA vouches for, and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def untrusted_tls(self_signed: tuple[Path, Path]) -> AsyncIterator[str]:
    """An https server on 127.0.0.1 with a self-signed certificate."""
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def ok(request: web.Request) -> web.StreamResponse:
        return web.json_response({"Response": {"RequestId": "r"}})

    app = web.Application()
    app.router.add_post("/", ok)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def test_an_untrusted_certificate_is_final_and_names_the_host(untrusted_tls: str) -> None:
    host = untrusted_tls.removeprefix("https://").rstrip("/")
    async with TsiClient(CREDS, endpoint=untrusted_tls) as client:
        with pytest.raises(TlsError) as err:
            await client.sync(upload())
    assert not err.value.retryable, "retrying does not make a certificate valid"
    assert host in str(err.value)
    assert "certificate" in str(err.value)
    assert err.value.__cause__ is not None, "the cause is kept for the log"
    assert CREDS.secret_key not in str(err.value)


@pytest.mark.parametrize(
    "response",
    [
        {"RequestId": "r", "List": []},
        {"RequestId": "r", "List": None},
        {"RequestId": "r"},
        {"RequestId": "r", "List": [], "Unexpected": {"Field": 1}, "Audio": None},
    ],
)
async def test_an_empty_null_or_missing_list_and_unknown_fields_are_an_ordinary_answer(
    server: Scripted, response: dict[str, object]
) -> None:
    server.handler = answer({"Response": response})
    async with TsiClient(CREDS, endpoint=server.url) as client:
        result = await client.sync(upload())
    assert (result.request_id, result.sentences) == ("r", ())
