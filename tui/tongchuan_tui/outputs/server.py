"""The live server: the caption page, the event feed (SSE) and the transcript, over HTTP, read-only.

It runs on a thread of its own with its own asyncio loop, so the session's loop (or thread) only ever calls
`sink`, which hands the event over with `call_soon_threadsafe` and returns. Each feed client has a bounded
queue: a client too slow to keep up has its queue dropped and gets a snapshot of the whole transcript when
it next reads (drop and resync), so no client can hold events back or grow memory. Bound to a non-loopback
address every request needs the token (`?token=` or `Authorization: Bearer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from tongchuan_tui.outputs.address import OutputsError, is_loopback, url_host
from tongchuan_tui.outputs.state import (
    DEFAULT_HISTORY,
    FEED_EVENTS,
    TRANSCRIPT_FORMATS,
    FeedItem,
    LiveTranscript,
)
from tongchuan_tui.pipeline.events import Event

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies (and OBS) from closing an idle feed."""
RETRY_MS = 2000
"""What a browser waits before reconnecting a dropped feed."""
WRITE_TIMEOUT_S = 30.0
"""A client that takes longer than this to accept one write is disconnected (it can reconnect)."""
START_TIMEOUT_S = 10.0
_CONTENT_TYPES = {
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
_PAGE_CSP = (
    "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors *"
)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How the live server listens and how much it keeps."""

    host: str
    port: int
    token: str | None = None
    """Required on every request when set (always set for a non-loopback host; see `outputs.live`)."""
    max_clients: int = 100
    history: int = DEFAULT_HISTORY
    queue_size: int = 256
    heartbeat_s: float = HEARTBEAT_S
    write_timeout_s: float = WRITE_TIMEOUT_S


@dataclass(eq=False, slots=True)
class _Client:
    queue: asyncio.Queue[FeedItem | None]
    resync: bool = False
    sent_id: int = 0
    lang: str = ""
    """The target language it follows (`?lang=`; "": the first)."""


def caption_page() -> str:
    """The caption page with its stylesheet and script inlined (one request, works offline)."""
    page = resources.files("tongchuan_tui.outputs") / "page"
    html = (page / "caption.html").read_text(encoding="utf-8")
    css = (page / "caption.css").read_text(encoding="utf-8")
    js = (page / "caption.js").read_text(encoding="utf-8")
    return html.replace("/*CAPTION_CSS*/", css).replace("/*CAPTION_JS*/", js)


class LiveServer:
    """The HTTP server of one session (see the module docstring): `start`, `sink` events, `close`."""

    def __init__(self, options: ServerOptions) -> None:
        if options.token is None and not is_loopback(options.host):
            raise ValueError("a server bound beyond loopback needs a token")
        self.options = options
        self._state = LiveTranscript(options.history)
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: str | None = None
        self._page = caption_page()
        self.port = options.port
        """The port actually bound (differs from the option when that is 0)."""
        self.clients = 0
        """Feed clients connected now (written by the server thread; read anywhere)."""
        self.dropped = 0
        """How many times a slow client's queue was dropped for a resync."""

    # -- the session's side (any thread) --------------------------------------------------------------

    @property
    def url(self) -> str:
        """The caption page's address (without the token)."""
        return f"http://{url_host(self.options.host)}:{self.port}/"

    def sink(self, event: Event) -> None:
        """Hand an event to the server thread; never blocks, never raises."""
        loop = self._loop
        if loop is None or not isinstance(event, FEED_EVENTS):
            return
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is gone
            loop.call_soon_threadsafe(self._publish, event)

    def start(self) -> None:
        """Bind and serve on a new thread; raises OutputsError (one line) if the address cannot be used."""
        self._thread = threading.Thread(target=self._thread_main, name="live-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise OutputsError(f"--serve {self.options.host}:{self.options.port}: the server did not start")
        if self._error is not None:
            self._thread.join(START_TIMEOUT_S)
            raise OutputsError(self._error)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop serving (feed clients are disconnected) and wait (bounded) for the thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    # -- the server thread ---------------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # pragma: no cover - _serve reports its own failures
            log.exception("live server failed")
            self._error = self._error or f"--serve: the server failed ({exc.__class__.__name__})"
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._page_handler)
        app.router.add_get("/events", self._events_handler)
        for fmt in TRANSCRIPT_FORMATS:
            app.router.add_get(f"/transcript.{fmt}", self._transcript_handler(fmt))
        # handler_cancellation: a feed whose client went away ends at once, freeing its slot.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            where = f"{self.options.host}:{self.options.port}"
            self._error = f"--serve {where}: cannot listen there ({exc.strerror or exc}); choose another port"
            self._ready.set()
            return
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            for client in list(self._clients):
                self._offer(client, None)
            await runner.cleanup()

    def _publish(self, event: Event) -> None:
        item = self._state.apply(event)
        if item is None:
            return
        for client in self._clients:
            self._offer(client, item)

    def _offer(self, client: _Client, item: FeedItem | None) -> None:
        try:
            client.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too slow: forget what it has not read; it gets a snapshot of everything instead.
            self.dropped += 1
            while not client.queue.empty():
                client.queue.get_nowait()
            client.resync = True
            client.queue.put_nowait(item)

    # -- HTTP ----------------------------------------------------------------------------------------

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        token = self.options.token
        if token is not None:
            given = request.query.get("token", "")
            auth = request.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                given = auth[7:].strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.Response(
                    status=401,
                    text="401: this live server needs its token (?token=... or Authorization: Bearer ...)\n",
                    headers={"WWW-Authenticate": 'Bearer realm="tongchuan-tui"'},
                )
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    async def _page_handler(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=self._page,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": _PAGE_CSP, "Referrer-Policy": "no-referrer"},
        )

    def _transcript_handler(self, fmt: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            text = request.query.get("text", "target")
            if text not in ("target", "source", "both"):
                raise web.HTTPBadRequest(text="text must be target, source or both\n")
            body = self._state.render(fmt, text, self._lang(request))
            return web.Response(body=body.encode("utf-8"), headers={"Content-Type": _CONTENT_TYPES[fmt]})

        return handler

    async def _events_handler(self, request: web.Request) -> web.StreamResponse:
        if len(self._clients) >= self.options.max_clients:
            return web.Response(status=503, text="503: too many live clients; try again later\n")
        last_seen = _last_event_id(request)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        client = _Client(asyncio.Queue(self.options.queue_size), lang=self._lang(request))
        # Registered before anything is awaited, so no event falls between the backlog and the queue.
        self._clients.add(client)
        self.clients = len(self._clients)
        backlog = self._state.since(last_seen) if last_seen is not None else None
        first = backlog if backlog is not None else [self._state.snapshot(client.lang)]
        try:
            await response.prepare(request)
            await self._write(response, f"retry: {RETRY_MS}\n\n".encode())
            for item in first:
                await self._send(response, client, item)
            await self._pump(response, client)
        except (ConnectionError, TimeoutError):
            pass  # gone or too slow: it reconnects with its Last-Event-ID
        finally:
            self._clients.discard(client)
            self.clients = len(self._clients)
        return response

    async def _pump(self, response: web.StreamResponse, client: _Client) -> None:
        while True:
            try:
                item = await asyncio.wait_for(client.queue.get(), self.options.heartbeat_s)
            except TimeoutError:
                await self._write(response, b": heartbeat\n\n")
                continue
            if client.resync:
                client.resync = False
                await self._send(response, client, self._state.snapshot(client.lang))
            if item is None:
                return
            await self._send(response, client, item)

    async def _send(self, response: web.StreamResponse, client: _Client, item: FeedItem) -> None:
        if item.id <= client.sent_id and item.kind != "snapshot":
            return  # already covered by a snapshot sent since it was queued
        if item.lang and item.lang != (client.lang or self._state.first):
            return  # another target's sentence
        await self._write(response, item.encode())
        client.sent_id = max(client.sent_id, item.id)

    async def _write(self, response: web.StreamResponse, data: bytes) -> None:
        await asyncio.wait_for(response.write(data), self.options.write_timeout_s)

    def _lang(self, request: web.Request) -> str:
        """The `?lang=` asked for: one of the session's targets ("" for the first); 404 for another."""
        lang = request.query.get("lang", "").strip()
        targets = self._state.targets
        if lang and targets and lang not in targets:
            known = ", ".join(targets)
            raise web.HTTPNotFound(text=f"no language {lang!r} in this session (it has: {known})\n")
        return "" if lang == self._state.first else lang


def _last_event_id(request: web.Request) -> int | None:
    """The id the client saw last: the browser's Last-Event-ID header, or `?last_event_id=` (a new page)."""
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None
