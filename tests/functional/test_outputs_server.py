"""The live server through a real HTTP client on 127.0.0.1: the feed, reconnects, tokens, limits, slow
clients, and the live transcript parsed by the independent `srt` and `webvtt-py` parsers."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import socket
import time

import aiohttp
import srt
import webvtt
from tests.functional.outputs_helpers import STARTED, SseReader, live_server, revision, wait_until

from tongchuan_tui.outputs import port_is_free
from tongchuan_tui.pipeline.events import MarkAdded, Paused, Resumed, SentenceRevised, SessionEnded


async def test_every_revision_arrives_in_order_with_consecutive_ids() -> None:
    with live_server() as server:
        server.sink(STARTED)
        async with aiohttp.ClientSession() as http, http.get(server.url + "events") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            feed = SseReader(response)
            first = await feed.next()
            assert first.kind == "snapshot"
            assert first.data["status"]["state"] == "started"
            words = ["Good", "morning", "everyone", "and", "welcome", "to", "the", "meeting"]
            for version in range(1, len(words) + 1):
                server.sink(revision(1, version, " ".join(words[:version]), final=version == len(words)))
            server.sink(MarkAdded(2000, "applause"))
            server.sink(Paused(2500))
            server.sink(Resumed(2500))
            server.sink(SessionEnded("input-ended", 3000, 0))
            got = await feed.take(len(words) + 4)
    ids = [event.id for event in got]
    assert ids == list(range(first.id + 1, first.id + 1 + len(got)))
    texts = [event.data["target"] for event in got if event.kind == "sentence"]
    assert texts == [" ".join(words[:n]) for n in range(1, len(words) + 1)]
    assert [e.data["final"] for e in got if e.kind == "sentence"][-1] is True
    assert got[len(words)].kind == "mark"
    assert got[len(words)].data["label"] == "applause"
    assert [e.data["state"] for e in got if e.kind == "state"] == ["paused", "started", "ended"]


async def test_a_client_reconnecting_with_last_event_id_misses_nothing() -> None:
    with live_server() as server:
        server.sink(STARTED)
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "events") as response:
                feed = SseReader(response)
                await feed.next()
                server.sink(revision(1, 1, "Hello"))
                seen = await feed.next()
            # While it is away, the session goes on.
            server.sink(revision(1, 2, "Hello everyone.", final=True))
            server.sink(revision(2, 1, "Let us begin"))
            server.sink(revision(2, 2, "Let us begin.", final=True))
            await wait_until(lambda: server.clients == 0, 5, "the first connection to close")
            headers = {"Last-Event-ID": str(seen.id)}
            async with http.get(server.url + "events", headers=headers) as response:
                missed = await SseReader(response).take(3)
    assert [e.kind for e in missed] == ["sentence"] * 3
    assert [e.id for e in missed] == [seen.id + 1, seen.id + 2, seen.id + 3]
    assert [e.data["target"] for e in missed] == ["Hello everyone.", "Let us begin", "Let us begin."]


async def test_a_client_back_after_the_history_ring_resyncs_to_the_whole_transcript() -> None:
    with live_server(history=5) as server:
        server.sink(STARTED)
        for n in range(1, 11):
            server.sink(revision(n, 1, f"Sentence {n} so far"))
            server.sink(revision(n, 2, f"Sentence {n}.", final=True))
        async with aiohttp.ClientSession() as http:
            # Wait until the server thread has taken all 21 events (the transcript shows the last).
            async def last_known() -> str:
                async with http.get(server.url + "transcript.json") as response:
                    return str((await response.json())["sentences"][-1]["target"])

            for _ in range(250):
                if await last_known() == "Sentence 10.":
                    break
                await asyncio.sleep(0.02)
            async with http.get(server.url + "events", headers={"Last-Event-ID": "2"}) as response:
                snapshot = await SseReader(response).next()
    assert snapshot.kind == "snapshot"
    assert snapshot.id == 21
    assert [s["target"] for s in snapshot.data["sentences"]] == [f"Sentence {n}." for n in range(1, 11)]
    assert all(s["final"] for s in snapshot.data["sentences"])


async def test_beyond_loopback_every_request_needs_the_token() -> None:
    token = "s3cret-t0ken-for-tests"
    # Bound to every interface, but the test only ever connects to 127.0.0.1.
    with live_server(host="0.0.0.0", token=token) as server:
        base = f"http://127.0.0.1:{server.port}/"
        async with aiohttp.ClientSession() as http:
            for path in ("", "events", "transcript.srt", "transcript.json", "nothing-here"):
                async with http.get(base + path) as response:
                    assert response.status == 401, path
                    assert token not in await response.text()
            async with http.get(base + "events?token=wrong-token-123") as response:
                assert response.status == 401
            async with http.get(base + "events", headers={"Authorization": "Bearer nope"}) as response:
                assert response.status == 401
            async with http.get(base + f"?token={token}") as response:
                assert response.status == 200
                assert "EventSource" in await response.text()
            async with http.get(base + "transcript.srt", headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200
            async with http.get(base + f"events?token={token}") as response:
                assert response.status == 200
                assert (await SseReader(response).next()).kind == "snapshot"
            # Read-only: nothing accepts a command.
            async with http.post(base + f"events?token={token}", data=b"stop") as response:
                assert response.status == 405


async def test_clients_beyond_the_limit_get_503_until_one_leaves() -> None:
    with live_server(max_clients=2) as server:
        async with aiohttp.ClientSession() as http:
            first = await http.get(server.url + "events")
            second = await http.get(server.url + "events")
            await wait_until(lambda: server.clients == 2, 5, "two clients")
            async with http.get(server.url + "events") as third:
                assert third.status == 503
            first.close()
            await wait_until(lambda: server.clients == 1, 5, "the first client to leave")
            async with http.get(server.url + "events") as again:
                assert again.status == 200
            second.close()


async def test_a_client_that_never_reads_does_not_slow_the_sink_or_the_others() -> None:
    with live_server(queue_size=16) as server:
        stalled = socket.socket()
        # A tiny receive buffer, never read: the server's writes to it block almost at once.
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        try:
            await wait_until(lambda: server.clients == 1, 5, "the stalled client to connect")
            async with aiohttp.ClientSession() as http, http.get(server.url + "events") as response:
                feed = SseReader(response)
                await feed.next()
                long_text = "words " * 40
                slowest = 0.0
                count = 1000
                for n in range(count):
                    started = time.perf_counter()
                    server.sink(revision(n, 1, f"{n} {long_text}", final=True))
                    slowest = max(slowest, time.perf_counter() - started)
                    if n % 200 == 0:
                        await asyncio.sleep(0)  # let the reading client's loop run
                # The reading client gets every sentence, or (if it fell behind too) a snapshot of them all.
                keys: list[str] = []
                while f"0:{count - 1}" not in keys:
                    event = await feed.next()
                    if event.kind == "snapshot":
                        keys = [s["key"] for s in event.data["sentences"]]
                        assert keys == [f"0:{n}" for n in range(len(keys))]
                    else:
                        keys.append(event.data["key"])
                assert keys == [f"0:{n}" for n in range(count)]
        finally:
            stalled.close()
    assert slowest < 0.05, f"a sink call took {slowest * 1000:.1f} ms"
    assert server.dropped > 0, "the stalled client's queue never overflowed (the test did not test)"


async def test_idle_feeds_get_a_heartbeat_comment() -> None:
    with live_server(heartbeat_s=0.2) as server:
        async with aiohttp.ClientSession() as http, http.get(server.url + "events") as response:
            feed = SseReader(response)
            await feed.next()
            server_started = time.monotonic()
            while feed.comments < 2 and time.monotonic() - server_started < 5:
                raw = await asyncio.wait_for(response.content.readline(), 5)
                if raw.startswith(b":"):
                    feed.comments += 1
    assert feed.comments >= 2


async def test_the_transcript_so_far_parses_in_every_format() -> None:
    with live_server() as server:
        server.sink(STARTED)
        server.sink(revision(1, 1, "Good morning, everyone.", final=True, source="各位早上好。"))
        server.sink(revision(2, 1, "The meeting starts", source="会议现在"))
        async with aiohttp.ClientSession() as http:

            async def get(path: str) -> str:
                async with http.get(server.url + path) as response:
                    assert response.status == 200, path
                    return await response.text()

            for _ in range(250):
                if "starts" in await get("transcript.txt"):
                    break
                await asyncio.sleep(0.02)
            subtitles = list(srt.parse(await get("transcript.srt")))
            captions = webvtt.from_buffer(io.StringIO(await get("transcript.vtt")))
            both = list(srt.parse(await get("transcript.srt?text=both")))
            document = json.loads(await get("transcript.json"))
            text = await get("transcript.txt")
    assert [s.content for s in subtitles] == ["Good morning, everyone.", "The meeting starts"]
    assert [c.text for c in captions] == ["Good morning, everyone.", "The meeting starts"]
    assert both[0].content == "各位早上好。\nGood morning, everyone."
    assert [s["final"] for s in document["sentences"]] == [True, False]
    assert "[00:00:01] 各位早上好。" in text
    assert "The meeting starts …" in text


def test_port_is_free_tells_a_listening_port_from_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)
    assert not port_is_free("no-such-host.invalid", 8080)


async def test_each_language_of_a_multi_target_session_has_its_own_feed_and_transcript() -> None:
    started = dataclasses.replace(STARTED, targets=("en", "ja"))

    def tagged(n: int, text: str, target: str) -> SentenceRevised:
        s = revision(n, 1, text, final=True).sentence
        key = s.key if target == "en" else f"{target}/{s.key}"
        return SentenceRevised(dataclasses.replace(s, key=key, target=target))

    with live_server() as server:
        server.sink(started)
        server.sink(tagged(1, "Hello.", "en"))
        server.sink(tagged(1, "こんにちは。", "ja"))
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "events?lang=ja") as response:
                feed = SseReader(response)
                snapshot = await feed.next()
                assert [s["target"] for s in snapshot.data["sentences"]] == ["こんにちは。"]
                assert snapshot.data["status"]["targets"] == ["en", "ja"]
                server.sink(tagged(2, "Goodbye.", "en"))
                server.sink(tagged(2, "さようなら。", "ja"))
                nxt = await feed.next()
                assert (nxt.data["lang"], nxt.data["target"]) == ("ja", "さようなら。")
            async with http.get(server.url + "transcript.srt") as response:
                first = [cue.content for cue in srt.parse(await response.text())]
            async with http.get(server.url + "transcript.srt?lang=ja") as response:
                japanese = [cue.content for cue in srt.parse(await response.text())]
            async with http.get(server.url + "events?lang=ko") as response:
                assert response.status == 404
                assert "it has: en, ja" in await response.text()
    assert first == ["Hello.", "Goodbye."]
    assert japanese == ["こんにちは。", "さようなら。"]
