"""Helpers for the live-output tests: sentences to emit, a started server, and an SSE reader."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tongchuan_tui.outputs.server import LiveServer, ServerOptions
from tongchuan_tui.pipeline.events import Sentence, SentenceRevised, SessionStarted

STARTED = SessionStarted(0.0, "talk.wav", "zh", "en", "sync", 200, "127.0.0.1", True)


def revision(n: int, version: int, text: str, *, final: bool = False, source: str = "") -> SentenceRevised:
    """Sentence `n` at version `version`, placed at n seconds on the timeline."""
    return SentenceRevised(
        Sentence(
            key=f"0:{n}",
            service_session=0,
            se_id=n,
            se_ver=version,
            source_text=source or f"第{n}句。",
            target_text=text,
            start_ms=n * 1000,
            end_ms=n * 1000 + 800,
            final=final,
        )
    )


@contextmanager
def live_server(**options: Any) -> Iterator[LiveServer]:
    """A started LiveServer on a free port of 127.0.0.1 (unless `host` says otherwise), closed after."""
    server = LiveServer(ServerOptions(**{"host": "127.0.0.1", "port": 0, **options}))
    server.start()
    try:
        yield server
    finally:
        server.close()


@dataclass
class SseEvent:
    """One parsed Server-Sent Event."""

    id: int | None
    kind: str
    data: Any


class SseReader:
    """Parses an SSE response body into events (comments are counted, not returned)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments = 0

    async def next(self, timeout_s: float = 10.0) -> SseEvent:
        """The next event (fails the test after `timeout_s`)."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout_s):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise ConnectionError("the feed ended")
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments += 1
                    continue
                if not line:
                    if "data" in fields:
                        ident = fields.get("id")
                        kind = fields.get("event", "message")
                        return SseEvent(int(ident) if ident else None, kind, json.loads(fields["data"]))
                    fields.clear()
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    async def take(self, count: int, timeout_s: float = 10.0) -> list[SseEvent]:
        """The next `count` events."""
        return [await self.next(timeout_s) for _ in range(count)]


async def wait_until(condition: Any, timeout_s: float, what: str) -> None:
    """Wait (polling) until `condition()` holds; raise naming `what` after `timeout_s`."""
    # Polled: the server's state changes on its own thread, which cannot set this loop's events.
    for _ in range(max(1, int(timeout_s / 0.02))):
        if condition():
            return
        await asyncio.sleep(0.02)
    if not condition():
        pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
