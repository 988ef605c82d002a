"""The emulator's aiohttp.web app: the three tsi actions on POST /, plus loopback-only admin routes."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from aiohttp import web

from tongchuan_tui.emulator import auth, codes, validate
from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.engine import Engine
from tongchuan_tui.emulator.faults import FaultConfig, FaultDecision, FaultInjector
from tongchuan_tui.emulator.options import EmulatorOptions
from tongchuan_tui.emulator.ratelimit import RateLimiter
from tongchuan_tui.emulator.state import EmulatorState, RequestLog, RequestRecord
from tongchuan_tui.emulator.variants import WireVariant
from tongchuan_tui.emulator.wire import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTIONS, API_VERSION, UPLOAD_ACTIONS

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/__emulator__"
#: The SDK only recognises an error body when Content-Type is exactly this (no charset parameter).
JSON_TYPE = "application/json"
#: The message languages the API offers (X-TC-Language).
LANGUAGES = ("zh-CN", "en-US")


class EmulatorServer:
    """One emulator: its engine, faults and rate limits, served by an aiohttp AppRunner once started."""

    def __init__(self, options: EmulatorOptions, *, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.clock = clock
        self.variant = options.variant
        self.engine = Engine(
            clock=clock,
            cues=options.cues,
            loop_cues=options.loop_cues,
            segmenter=options.segmenter,
            gap_limit_s=options.gap_limit_s,
            pacing_tolerance_ms=options.pacing_tolerance_ms,
            duplicate_seq=options.variant.duplicate_seq,
        )
        self.faults = FaultInjector(options.faults)
        self.limiter = RateLimiter(options.rate_limits, clock)
        self.requests = RequestLog(options.request_log_size)
        self._accounts = {
            options.secret_id: auth.Account(options.secret_id, options.secret_key, options.token),
        }
        self._runner: web.AppRunner | None = None
        self.host = options.host
        self.port = options.port

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. "http://127.0.0.1:8765/"."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def state(self) -> EmulatorState:
        """A snapshot of every session and the recent requests."""
        requests, total = self.requests.snapshot()
        return EmulatorState(
            sessions=self.engine.snapshot(), requests=requests, variant=self.variant, requests_total=total
        )

    def set_variant(self, variant: WireVariant) -> None:
        """Answer the open points another way from the next request on."""
        self.variant = variant
        self.engine.duplicate_seq = variant.duplicate_seq
        log.info("wire variant: %s", variant.describe())

    def server_time(self) -> float:
        """The server's own clock (Date header, signature expiry): the emulator's, moved by the variant."""
        return self.clock() + self.variant.clock_offset_s

    def make_app(self) -> web.Application:
        """The web application (routes only; `start` serves it)."""
        app = web.Application(client_max_size=self.options.max_body_bytes + 1)
        app.router.add_post("/", self._api)
        app.router.add_get(f"{ADMIN_PREFIX}/state", self._get_state)
        app.router.add_get(f"{ADMIN_PREFIX}/faults", self._get_faults)
        app.router.add_post(f"{ADMIN_PREFIX}/faults", self._post_faults)
        app.router.add_get(f"{ADMIN_PREFIX}/variant", self._get_variant)
        app.router.add_post(f"{ADMIN_PREFIX}/variant", self._post_variant)
        return app

    async def start(self) -> None:
        """Listen on options.host:options.port (port 0 picks a free one; see `.port` afterwards)."""
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.host, self.port = str(address[0]), int(address[1])
        log.info("emulator listening on %s (NOT the real service)", self.url)
        log.info("wire variant: %s", self.variant.describe())

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            log.info("emulator stopped")

    def _json(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": JSON_TYPE, "Date": formatdate(self.server_time(), usegmt=True)}
        return web.Response(body=body, status=status, headers=headers)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        action = request.headers.get("X-TC-Action", "")
        session_uuid: str | None = None
        seq: int | None = None
        decision = FaultDecision()
        try:
            body = await self._read_body(request)
            params = _loose_json(body)
            session_uuid, seq = _fault_target(action, params)
            decision = self.faults.decide(session_uuid, seq)
            if decision.delay_s or decision.stall_s:
                await asyncio.sleep(decision.delay_s + decision.stall_s)
            if decision.reset:
                return self._reset(request, action, session_uuid, seq)
            if decision.http_status is not None:
                return self._http_error(decision.http_status, action, session_uuid, seq)
            payload = self._answer(request, body, params, action, decision)
            if decision.lose_response:
                return self._reset(request, action, session_uuid, seq, "lost-response")
        except ApiFailure as failure:
            self._record(action, session_uuid, seq, failure.code, decision.label)
            log.info("%s session=%s seq=%s -> %s", action or "?", session_uuid, seq, failure.code)
            error = {"Code": failure.code, "Message": failure.message}
            return self._json({"Response": {"Error": error, "RequestId": request_id}})
        self._record(action, session_uuid, seq, "", decision.label)
        log.debug("%s session=%s seq=%s -> ok", action, session_uuid, seq)
        return self._json({"Response": {**payload, "RequestId": request_id}})

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.options.max_body_bytes
        too_large = ApiFailure(
            codes.REQUEST_SIZE_LIMIT_EXCEEDED, f"The request body exceeds the size limit of {limit} bytes."
        )
        if request.content_length is not None and request.content_length > limit:
            raise too_large
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large from None

    def _answer(
        self, request: web.Request, body: bytes, params: Any, action: str, decision: FaultDecision
    ) -> dict[str, Any]:
        """Check headers, signature, rate and parameters, then run the action; raises ApiFailure."""
        if not action:
            raise codes.missing("X-TC-Action")
        version = request.headers.get("X-TC-Version")
        if not version:
            raise codes.missing("X-TC-Version")
        if action not in ACTIONS:
            raise ApiFailure(codes.INVALID_ACTION, f"The requested action `{action}` does not exist.")
        if version != API_VERSION:
            raise ApiFailure(codes.NO_SUCH_VERSION, f"The API version `{version}` does not exist.")
        account = auth.verify(
            headers=request.headers,
            body=body,
            accounts=self._accounts,
            now=self.server_time(),
            method=request.method,
            path=request.path,
            query=request.query_string,
            max_skew_s=self.options.max_skew_s,
        )
        if not self.limiter.allow(account.secret_id, action):
            limit = self.limiter.limits[action]
            raise ApiFailure(
                codes.REQUEST_LIMIT_EXCEEDED,
                f"Requests for {action} exceed the limit of {limit} per second for this SecretId.",
            )
        if decision.error_code is not None:
            raise ApiFailure(decision.error_code, decision.message)
        language = request.headers.get("X-TC-Language")
        if language is not None and language not in LANGUAGES:
            raise ApiFailure(
                codes.INVALID_PARAMETER_VALUE,
                f"X-TC-Language must be {' or '.join(LANGUAGES)}, not {language!r}.",
            )
        if request.content_type != JSON_TYPE:
            raise ApiFailure(codes.INVALID_PARAMETER, "Content-Type must be application/json.")
        if not isinstance(params, dict):
            raise ApiFailure(codes.INVALID_PARAMETER, "The request body must be a JSON object.")
        payload: dict[str, Any] = {}
        if action == ACTION_DISPLAY:
            display = validate.parse_display(params)
            sentences = self.engine.display(account.secret_id, display.session_uuid)
            self.variant.put_list(payload, display.session_uuid, sentences)
            self.variant.extend_response(payload, display.session_uuid)
            return payload
        upload = validate.parse_upload(params)
        if upload.target in self.options.refused_targets:
            raise ApiFailure(
                codes.INVALID_PARAMETER_VALUE,
                f"The value of parameter `Target` is invalid: {upload.source} → {upload.target} is not"
                " available to this account.",
            )
        # Recognize lists nothing, so it must not use up "changed since the last answer" either.
        listing = "empty" if action == ACTION_RECOGNIZE else self.variant.sync_list
        sentences = self.engine.upload(account.secret_id, upload, listing)
        if action != ACTION_RECOGNIZE:
            self.variant.put_list(payload, upload.session_uuid, sentences)
        self.variant.extend_response(payload, upload.session_uuid)
        return payload

    def _reset(
        self,
        request: web.Request,
        action: str,
        session_uuid: str | None,
        seq: int | None,
        what: str = "reset",
    ) -> web.Response:
        self._record(action, session_uuid, seq, what, what)
        log.info("%s session=%s seq=%s -> connection reset (injected %s)", action, session_uuid, seq, what)
        transport = request.transport
        if transport is not None:
            transport.abort()
        # The peer is gone; aiohttp drops what we return on a closed transport.
        return web.Response(status=500)

    def _http_error(
        self, status: int, action: str, session_uuid: str | None, seq: int | None
    ) -> web.Response:
        self._record(action, session_uuid, seq, f"HTTP{status}", f"HTTP{status}")
        log.info("%s session=%s seq=%s -> HTTP %d (injected)", action, session_uuid, seq, status)
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(
            status, "Error"
        )
        title = f"{status} {reason}"
        html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        headers = {"Date": formatdate(self.server_time(), usegmt=True)}
        return web.Response(status=status, text=html, content_type="text/html", headers=headers)

    def _record(
        self, action: str, session_uuid: str | None, seq: int | None, code: str, fault: str | None
    ) -> None:
        self.requests.add(RequestRecord(self.clock(), action, session_uuid, seq, code, fault))

    def _admin_allowed(self, request: web.Request) -> None:
        try:
            loopback = ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise web.HTTPForbidden(text="the emulator's admin routes answer loopback clients only\n")

    async def _get_state(self, request: web.Request) -> web.Response:
        self._admin_allowed(request)
        return self._json(self.state.to_json())

    async def _get_faults(self, request: web.Request) -> web.Response:
        self._admin_allowed(request)
        return self._json(self.faults.config.to_json())

    async def _post_faults(self, request: web.Request) -> web.Response:
        self._admin_allowed(request)
        try:
            obj = json.loads(await request.read())
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object of faults")
            config = FaultConfig.from_json(obj)
        except (ValueError, TypeError) as exc:
            return self._json({"error": str(exc)}, status=400)
        self.faults.set(config)
        log.info("faults set: %s", json.dumps(config.to_json()))
        return self._json(config.to_json())

    async def _get_variant(self, request: web.Request) -> web.Response:
        self._admin_allowed(request)
        return self._json(self.variant.to_json())

    async def _post_variant(self, request: web.Request) -> web.Response:
        self._admin_allowed(request)
        try:
            variant = WireVariant.from_json(json.loads(await request.read()))
        except (ValueError, TypeError) as exc:
            return self._json({"error": str(exc)}, status=400)
        self.set_variant(variant)
        return self._json(variant.to_json())


def _loose_json(body: bytes) -> Any:
    """The parsed body, or None when it is not JSON (validation reports that later, after authentication)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _fault_target(action: str, params: Any) -> tuple[str | None, int | None]:
    """The SessionUuid and Seq that at-Seq faults are matched on (Seq only for uploads)."""
    if not isinstance(params, dict):
        return None, None
    session_uuid = params.get("SessionUuid")
    seq = params.get("Seq") if action in UPLOAD_ACTIONS else None
    return (
        session_uuid if isinstance(session_uuid, str) else None,
        seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
    )
