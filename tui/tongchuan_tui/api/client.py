"""The async tsi client: TC3-signed JSON POSTs over one long-lived aiohttp session, mapped to domain errors.

One attempt per call (retry policy belongs to the pipeline), except a single re-sign after
`AuthFailure.SignatureExpire`: the server's `Date` header tells us how wrong our clock is, which is common on
machines reached over SSH.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tongchuan_tui import __version__ as _version
from tongchuan_tui.api import signing
from tongchuan_tui.api.credentials import REDACTED, Credentials, mask
from tongchuan_tui.api.errors import ApiError, HttpStatusError, NetworkError, ProtocolError, TlsError
from tongchuan_tui.api.models import (
    ACTION_DISPLAY,
    ACTION_RECOGNIZE,
    ACTION_SYNC,
    API_VERSION,
    DEFAULT_ENDPOINT,
    DEFAULT_HOST,
    SERVICE,
    ApiResult,
    DisplayInfo,
    DisplayRequest,
    UploadRequest,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
LANGUAGES = ("zh-CN", "en-US")
SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A validated service address: where requests go and what the `Host` header (signed) says."""

    url: str
    scheme: str
    hostname: str
    host_header: str
    """host[:port] exactly as written in the URL, as the official SDK sends and signs it."""

    @property
    def host(self) -> str:
        """host[:port], for display (the same as `host_header`)."""
        return self.host_header

    @property
    def is_loopback(self) -> bool:
        """Whether the host is this machine (localhost, 127.0.0.0/8, ::1)."""
        if self.hostname == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.hostname).is_loopback
        except ValueError:
            return False

    @property
    def insecure_non_loopback(self) -> bool:
        """Plain http to another machine: keys' signatures and audio travel unencrypted."""
        return self.scheme == "http" and not self.is_loopback

    @property
    def is_official(self) -> bool:
        """Whether this is Tencent's own service address (not an emulator or a proxy)."""
        return self.scheme == "https" and self.hostname == DEFAULT_HOST


def parse_endpoint(url: str) -> Endpoint:
    """Validate an `--endpoint` URL; raises ValueError with one line saying what is wrong and what is ok."""
    hint = "expected e.g. https://tsi.tencentcloudapi.com/ or http://127.0.0.1:8080/"
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        _ = parts.port  # urlsplit only checks the port when it is read
    except ValueError as exc:
        raise ValueError(f"endpoint {url!r} is not a valid URL ({exc}); {hint}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"endpoint {url!r} must start with https:// (or http:// for a local emulator); {hint}"
        )
    if not parts.hostname:
        raise ValueError(f"endpoint {url!r} has no host; {hint}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"endpoint {url!r} must not contain a user name or password; {hint}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"endpoint {url!r} must have no path, query or fragment (the API lives at /); {hint}"
        )
    host_header = parts.netloc.lower()
    normalised = f"{parts.scheme}://{host_header}/"
    return Endpoint(
        url=normalised, scheme=parts.scheme, hostname=parts.hostname.lower(), host_header=host_header
    )


def skew_from_date(date_header: str | None, local_now: float) -> float | None:
    """Seconds to add to our clock to match a server's `Date` header; None if it is missing or unparseable."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if server.tzinfo is None:
        return None
    return server.timestamp() - local_now


class TsiClient:
    """The tsi API over HTTPS (implements `TsiService`); use as `async with TsiClient(creds) as client`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 10.0,
        language: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive (got {timeout_s})")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {language!r})")
        self._credentials = credentials
        self._endpoint = parse_endpoint(endpoint)
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_s, connect=timeout_s, sock_connect=timeout_s, sock_read=timeout_s
        )
        self._timeout_s = timeout_s
        self._language = language
        self._clock = clock
        self._clock_offset_s = 0.0
        self._session: aiohttp.ClientSession | None = None
        if self._endpoint.insecure_non_loopback:
            log.warning(
                "endpoint %s uses plain http to a host that is not this machine: requests are not encrypted",
                self._endpoint.url,
            )

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def __aenter__(self) -> TsiClient:
        self._ensure_session()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (idempotent); a later call opens a new one."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": f"tongchuan-tui/{_version}"},
                # HTTPS_PROXY and friends are honoured for the real service (as the official SDK does), but
                # never for a loopback emulator, which a stray proxy setting would otherwise break.
                trust_env=not self._endpoint.is_loopback,
            )
        return self._session

    # -- properties ------------------------------------------------------------------------------------------

    @property
    def clock_offset_s(self) -> float:
        """Seconds added to the local clock when signing, learned from the server after a SignatureExpire."""
        return self._clock_offset_s

    @property
    def endpoint_host(self) -> str:
        """host[:port] of the service address, for display."""
        return self._endpoint.host_header

    @property
    def endpoint_url(self) -> str:
        """The normalised service URL."""
        return self._endpoint.url

    @property
    def is_official_endpoint(self) -> bool:
        """Whether requests go to Tencent's own service."""
        return self._endpoint.is_official

    @property
    def insecure_non_loopback(self) -> bool:
        """Whether requests go unencrypted to another machine."""
        return self._endpoint.insecure_non_loopback

    # -- the three actions -----------------------------------------------------------------------------------

    async def sync(self, request: UploadRequest) -> ApiResult:
        """TongChuanSync: upload a packet and get the current sentences back."""
        return _result(await self._call(ACTION_SYNC, request.to_json()))

    async def recognize(self, request: UploadRequest) -> ApiResult:
        """TongChuanRecognize: upload a packet; results are pulled with `display`."""
        return _result(await self._call(ACTION_RECOGNIZE, request.to_json()))

    async def display(self, request: DisplayRequest) -> ApiResult:
        """TongChuanDisplay: the newest sentences of a session."""
        return _result(await self._call(ACTION_DISPLAY, request.to_json()))

    # -- signing and transport -------------------------------------------------------------------------------

    def signed_headers(self, action: str, body: bytes, timestamp: int) -> dict[str, str]:
        """Every header of a request of `action` with `body` at `timestamp`, Authorization included."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self._endpoint.host_header,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
        }
        if self._credentials.token:
            headers["X-TC-Token"] = self._credentials.token
        if self._language:
            headers["X-TC-Language"] = self._language
        headers["Authorization"] = signing.authorization(
            secret_id=self._credentials.secret_id,
            secret_key=self._credentials.secret_key,
            service=SERVICE,
            timestamp=timestamp,
            headers=headers,
            payload=body,
        )
        return headers

    def _timestamp(self) -> int:
        return int(self._clock() + self._clock_offset_s)

    async def _call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(params, separators=(",", ":")).encode("utf-8")
        for attempt in (1, 2):
            headers = self.signed_headers(action, body, self._timestamp())
            status, reason, date, raw = await self._post(action, headers, body)
            try:
                return _parse(status, reason, raw, self._endpoint.host_header)
            except ApiError as exc:
                log.debug("%s -> %s (RequestId %s)", action, exc.code, exc.request_id)
                if exc.code != SIGNATURE_EXPIRE or attempt == 2:
                    raise
                offset = skew_from_date(date, self._clock())
                if offset is None:
                    raise
                log.warning(
                    "%s: server says our signature is stale; its clock is %+.0f s from ours, re-signing",
                    action,
                    offset,
                )
                self._clock_offset_s = offset
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post(
        self, action: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, str | None, bytes]:
        session = self._ensure_session()
        started = time.monotonic()
        try:
            async with session.post(self._endpoint.url, data=body, headers=headers) as resp:
                raw = await resp.read()
                status, reason, date = resp.status, resp.reason or "", resp.headers.get("Date")
        except asyncio.CancelledError:
            raise
        except TimeoutError as exc:
            raise NetworkError(
                f"{action}: no answer from {self._endpoint.host_header} within {self._timeout_s:g} s"
            ) from exc
        except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch, ssl.SSLError) as exc:
            # Final: retrying does not make a certificate valid (the official SDK would retry it as a network
            # error for 7 s; 30 s of "reconnecting" would hide the real problem).
            raise TlsError(self._endpoint.host_header, self._tls_detail(exc)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            detail = self._scrub(str(exc)) or exc.__class__.__name__
            kind = exc.__class__.__name__
            host = self._endpoint.host_header
            # The cause stays chained for the log file (its handler masks secrets in tracebacks too).
            raise NetworkError(f"{action}: request to {host} failed ({kind}: {detail})") from exc
        log.debug(
            "%s -> HTTP %d, %d bytes in %.0f ms",
            action,
            status,
            len(raw),
            (time.monotonic() - started) * 1000,
        )
        return status, reason, date, raw

    def _tls_detail(self, exc: BaseException) -> str:
        """What went wrong in the TLS layer, in a few words (e.g. the certificate verifier's message)."""
        cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
        detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
        return self._scrub(str(detail))[:160] or exc.__class__.__name__

    def _scrub(self, text: str) -> str:
        """`text` with any secret of ours masked (exception texts can quote headers)."""
        creds = self._credentials
        for secret in (creds.secret_key, creds.token):
            if secret:
                text = text.replace(secret, REDACTED)
        return text.replace(creds.secret_id, mask(creds.secret_id)) if creds.secret_id else text


def _parse(status: int, reason: str, raw: bytes, host: str) -> dict[str, Any]:
    """The `Response` object of an answer; raises the matching TsiError."""
    if status != 200:
        raise HttpStatusError(status, f"{host} answered HTTP {status} {reason}".rstrip())
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"{host} answered with something that is not JSON ({len(raw)} bytes)") from exc
    response = doc.get("Response") if isinstance(doc, dict) else None
    if not isinstance(response, dict):
        raise ProtocolError(f"{host} answered JSON without a Response object")
    request_id = response.get("RequestId")
    error = response.get("Error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("Code"), str):
            raise ProtocolError(f"{host} answered a malformed Response.Error")
        rid = request_id if isinstance(request_id, str) else None
        raise ApiError(error["Code"], str(error.get("Message") or ""), rid)
    if not isinstance(request_id, str):
        raise ProtocolError(f"{host} answered a Response without RequestId")
    return response


def _result(response: dict[str, Any]) -> ApiResult:
    items = response.get("List")
    if items is None:
        return ApiResult(request_id=response["RequestId"])
    if not isinstance(items, list):
        raise ProtocolError("Response.List is not a list")
    sentences: list[DisplayInfo] = []
    for number, item in enumerate(items, 1):
        try:
            sentences.append(DisplayInfo.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"{exc.args[0]} is missing" if isinstance(exc, KeyError) else str(exc)
            raise ProtocolError(
                f"Response.List holds a malformed sentence (#{number} of {len(items)}: {what})"
            ) from exc
    return ApiResult(request_id=response["RequestId"], sentences=tuple(sentences))
