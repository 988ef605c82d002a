"""The doctor's checks of the service: round trip, the server's clock, and a real silent session.

Requests are signed exactly as the interpreter signs them (`TsiClient.signed_headers`, the same
`UploadRequest` bodies), but sent and read here, raw, so that each answer's timing, `Date` header and JSON
are seen as they arrived.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import Endpoint, TsiClient
from tongchuan_tui.api.credentials import REDACTED, Credentials, mask
from tongchuan_tui.api.errors import is_retryable_code
from tongchuan_tui.api.models import (
    ACTION_DISPLAY,
    ACTION_RECOGNIZE,
    ACTION_SYNC,
    DisplayRequest,
    UploadRequest,
)
from tongchuan_tui.doctor import answers
from tongchuan_tui.doctor.network import network_check
from tongchuan_tui.doctor.report import FAIL, INFO, OK, SKIP, WARN, Check
from tongchuan_tui.remedies import advice_for_code

ROUND_TRIPS = 5
PACKETS = 5
PACKET_MS = 200
PACKET_BYTES = 16_000 * 2 * PACKET_MS // 1000
MAX_SKEW_S = 300.0
"""The service refuses signatures more than 5 minutes off (the client re-signs from the `Date` header)."""
SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"


@dataclass(frozen=True, slots=True)
class Answer:
    """One request's outcome as seen on the wire."""

    action: str
    elapsed_ms: float
    sent_at: float
    received_at: float
    status: int = 0
    date: str | None = None
    response: Mapping[str, Any] | None = None
    code: str | None = None
    """The service's error code (Response.Error.Code), or HTTPnnn / NetworkError / ProtocolError."""
    message: str = ""

    @property
    def ok(self) -> bool:
        """A well-formed answer without an error."""
        return self.code is None


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """What the silent session asks for (the configured language pair, mode and translation)."""

    source: str = "zh"
    target: str = "en"
    mode: str = "sync"
    translate_time: int = 2
    timeout_s: float = 10.0


@dataclass
class Probe:
    """Signed raw requests to one endpoint, remembering the server's clock offset once it is known."""

    credentials: Credentials
    endpoint: Endpoint
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    offset_s: float = 0.0
    """Added to our clock when signing, once the server said our signature was stale."""

    def __post_init__(self) -> None:
        self._signer = TsiClient(
            self.credentials, endpoint=self.endpoint.url, timeout_s=self.settings.timeout_s
        )
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Probe:
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        self._http = aiohttp.ClientSession(timeout=timeout, trust_env=not self.endpoint.is_loopback)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    def scrub(self, text: str) -> str:
        """`text` with our secrets masked (exception texts can quote what was sent)."""
        creds = self.credentials
        for secret in (creds.secret_key, creds.token):
            if secret:
                text = text.replace(secret, REDACTED)
        return text.replace(creds.secret_id, mask(creds.secret_id))

    async def call(self, action: str, params: Mapping[str, Any]) -> Answer:
        """POST one signed request; a stale signature is re-signed once from the server's `Date`."""
        answer = await self._post(action, params)
        if answer.code == SIGNATURE_EXPIRE and answer.date:
            offset = server_offset(answer)
            if offset is not None:
                self.offset_s = offset
                answer = await self._post(action, params)
        return answer

    async def _post(self, action: str, params: Mapping[str, Any]) -> Answer:
        assert self._http is not None, "use Probe in `async with`"
        body = json.dumps(params, separators=(",", ":")).encode("utf-8")
        headers = self._signer.signed_headers(action, body, int(time.time() + self.offset_s))
        sent_wall, started = time.time(), time.monotonic()
        try:
            async with self._http.post(self.endpoint.url, data=body, headers=headers) as resp:
                raw = await resp.read()
                status, date = resp.status, resp.headers.get("Date")
        except TimeoutError:
            return self._failed(action, started, sent_wall, "NetworkError", "no answer in time")
        except aiohttp.ClientConnectorCertificateError as exc:
            detail = f"TLS certificate of {self.endpoint.hostname} not trusted ({exc.certificate_error})"
            return self._failed(action, started, sent_wall, "TLSError", self.scrub(detail))
        except (aiohttp.ClientError, OSError) as exc:
            detail = f"{exc.__class__.__name__}: {self.scrub(str(exc))}"
            return self._failed(action, started, sent_wall, "NetworkError", detail)
        elapsed = (time.monotonic() - started) * 1000
        base = Answer(action, elapsed, sent_wall, time.time(), status=status, date=date)
        if status != 200:
            return replace(base, code=f"HTTP{status}", message=f"HTTP {status}")
        try:
            response = json.loads(raw)["Response"]
            if not isinstance(response, dict):
                raise TypeError("Response is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            return replace(base, code="ProtocolError", message=f"not a tsi answer ({exc})")
        error = response.get("Error")
        if isinstance(error, dict):
            code, message = str(error.get("Code")), self.scrub(str(error.get("Message") or ""))
            return replace(base, response=response, code=code, message=message)
        return replace(base, response=response)

    def _failed(self, action: str, started: float, sent_wall: float, code: str, message: str) -> Answer:
        elapsed = (time.monotonic() - started) * 1000
        return Answer(action, elapsed, sent_wall, time.time(), code=code, message=message)


def server_offset(answer: Answer) -> float | None:
    """Seconds the server's clock is ahead of ours, from an answer's `Date` header (±0.5 s: it has whole
    seconds, so the middle of that second is taken, against the middle of the request)."""
    if not answer.date:
        return None
    try:
        server = parsedate_to_datetime(answer.date)
    except (TypeError, ValueError, IndexError):
        return None
    if server.tzinfo is None:
        return None
    return server.timestamp() + 0.5 - (answer.sent_at + answer.received_at) / 2


def failure_check(name: str, answer: Answer) -> Check:
    """A check failed by the service's (or the network's) answer, with its code and what to do."""
    code = answer.code or "?"
    # The same exit codes as a session ended by that error (exitcodes.for_error).
    if code == "ProtocolError" or code.startswith("HTTP"):
        exit_code = exitcodes.SERVICE_MALFORMED
        action = advice_for_code(code)
    elif code in ("NetworkError", "TLSError") or is_retryable_code(code):
        exit_code = exitcodes.SERVICE_UNREACHABLE
        action = advice_for_code(code) if code == "TLSError" else "check the network, --endpoint, HTTPS_PROXY"
    else:
        exit_code = exitcodes.SERVICE_REJECTED
        action = advice_for_code(code)
    return Check(
        name,
        FAIL,
        f"{answer.action}: {code}: {answer.message}".rstrip(": "),
        action=action,
        code=code,
        exit_code=exit_code,
    )


async def round_trip_check(probe: Probe) -> tuple[Check, list[Answer]]:
    """p50 of a few TongChuanDisplay requests of a fresh SessionUuid (authenticated, no audio, not billed)."""
    session = str(uuid.uuid4())
    answers_seen: list[Answer] = []
    for _ in range(ROUND_TRIPS):
        answer = await probe.call(ACTION_DISPLAY, DisplayRequest(session).to_json())
        answers_seen.append(answer)
        if answer.code is not None and answer.code.startswith(
            ("AuthFailure", "Network", "TLS", "HTTP", "ProtocolError")
        ):
            return failure_check("service", answer), answers_seen
    times = [a.elapsed_ms for a in answers_seen]
    p50 = statistics.median(times)
    refused = {a.code for a in answers_seen if a.code}
    note = f"; a fresh session's Display answered {', '.join(sorted(refused))}" if refused else ""
    details = {"p50_ms": round(p50, 1), "max_ms": round(max(times), 1), "requests": len(times)}
    summary = (
        f"signature accepted; round trip p50 {p50:.0f} ms over {len(times)} TongChuanDisplay requests "
        f"(max {max(times):.0f} ms){note}"
    )
    return Check("service", OK, summary, details=details), answers_seen


def clock_check(seen: list[Answer], probe: Probe) -> Check:
    """The server's clock against ours, from the `Date` headers (median over the answers)."""
    offsets = [o for o in (server_offset(a) for a in seen) if o is not None]
    if not offsets:
        return Check("clock", WARN, "the server sent no Date header; its clock offset is unknown")
    offset = statistics.median(offsets)
    details = {"offset_s": round(offset, 2), "samples": len(offsets), "resolution_s": 1.0}
    summary = f"server clock {offset:+.1f} s from ours (±1 s, from its Date header)"
    if abs(offset) > MAX_SKEW_S or probe.offset_s:
        return Check(
            "clock",
            WARN,
            summary,
            code=SIGNATURE_EXPIRE if probe.offset_s else None,
            action="this machine's clock is over 5 minutes off: the client re-signs, but enable NTP",
            details=details,
        )
    return Check("clock", OK, summary, details=details)


async def session_check(probe: Probe) -> tuple[Check, list[Answer]]:
    """One second of silence as 5 packets of 200 ms at 1:1 real time, the last with IsEnd."""
    cfg = probe.settings
    session = str(uuid.uuid4())
    action = ACTION_SYNC if cfg.mode == "sync" else ACTION_RECOGNIZE
    seen: list[Answer] = []
    start = time.monotonic()
    for seq in range(PACKETS):
        await asyncio.sleep(max(0.0, start + seq * PACKET_MS / 1000 - time.monotonic()))
        packet = UploadRequest(
            session_uuid=session,
            source=cfg.source,
            target=cfg.target,
            seq=seq,
            utc=int(time.time()),
            is_end=seq == PACKETS - 1,
            data=bytes(PACKET_BYTES),
            translate_time=cfg.translate_time,
        )
        answer = await probe.call(action, packet.to_json())
        seen.append(answer)
        if answer.code is None and action == ACTION_RECOGNIZE:
            answer = await probe.call(ACTION_DISPLAY, DisplayRequest(session).to_json())
            seen.append(answer)
        if answer.code is not None:
            return failure_check("session", answer), seen
    sent = PACKETS * PACKET_MS
    summary = (
        f"{sent / 1000:g} s of silence sent as {PACKETS} packets of {PACKET_MS} ms at 1:1 and closed with "
        f"IsEnd ({action}, {cfg.source} → {cfg.target}, TranslateTime {cfg.translate_time})"
    )
    details = {"session_uuid": session, "action": action, "packets": PACKETS, "audio_ms": sent}
    return Check("session", OK, summary, details=details), seen


def answers_check(seen: list[Answer]) -> Check:
    """What the session's answers looked like (for reporting the real service's behaviour)."""
    # TongChuanRecognize answers only a RequestId by definition; the results come from Sync or Display.
    responses = [a.response for a in seen if a.ok and a.response is not None and a.action != ACTION_RECOGNIZE]
    found = answers.describe(responses, PACKETS * PACKET_MS)
    extra = found["extra_fields"]
    extras = ", ".join(extra["response"] + extra["sentence"]) or "none"
    summary = (
        f"SeId: {found['se_id']}; List: {found['list']}; time unit: {found['time_unit']}; "
        f"unlisted fields: {extras}"
    )
    return Check("answers", INFO, summary, details=found)


def skipped(name: str, because: str) -> Check:
    """A check not made because an earlier one failed."""
    return Check(name, SKIP, f"not checked ({because} failed)")


async def service_checks(probe: Probe) -> list[Check]:
    """Every service check in order; each one after a failure that makes it moot is skipped."""
    checks = [await network_check(probe.endpoint, probe.settings.timeout_s)]
    if checks[0].status == FAIL:
        return [*checks, *(skipped(n, "network") for n in ("service", "clock", "session", "answers"))]
    trip, seen = await round_trip_check(probe)
    checks += [trip, clock_check(seen, probe)]
    if trip.status == FAIL:
        return [*checks, skipped("session", "service"), skipped("answers", "service")]
    session, session_answers = await session_check(probe)
    checks += [session, answers_check(session_answers)]
    return checks


__all__ = ["OK", "Probe", "ProbeSettings", "service_checks"]
