"""Fixtures of the functional tests: a real local HTTP server for URL inputs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from tests.functional.audio_helpers import Handler


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler at /stream (and /stream/<name>) on 127.0.0.1; returns its URL (with a secret-looking
    query, which must never be shown or journaled)."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/stream", handler)
        app.router.add_get("/stream/{name}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/stream?token=SECRET"

    yield start
    for runner in runners:
        await runner.cleanup()
