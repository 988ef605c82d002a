"""The control server and `RemoteSession` over real Unix sockets, in one process: history then live events,
several viewers and their commands, a slow viewer dropped, and the sockets that must be refused."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tongchuan_tui import exitcodes
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
)
from tongchuan_tui.remote.client import RefusedError, RemoteSession, probe, send_command
from tongchuan_tui.remote.live import ChoiceError, choose
from tongchuan_tui.remote.paths import UnsafePathError, runtime_dir, session_paths
from tongchuan_tui.remote.protocol import command
from tongchuan_tui.remote.server import ControlServer, HostInfo, NameInUseError


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="tt-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    try:
        yield runtime_dir()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def info(name: str) -> HostInfo:
    return HostInfo(name, "talk.wav", "zh", "en", 1_700_000_000.0, os.getpid(), None, "127.0.0.1", True)


class Commands:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, args: dict[str, Any]) -> None:
        self.seen.append((name, args))


def started() -> SessionStarted:
    return SessionStarted(1_700_000_000.0, "talk.wav", "zh", "en", "sync", 200, "127.0.0.1", True)


def revised(i: int, ver: int, final: bool, text: str = "") -> SentenceRevised:
    words = text or f"Sentence {i} v{ver}."
    return SentenceRevised(
        Sentence(f"0:{i}", 0, str(i), ver, f"句{i}", words, i * 1000, i * 1000 + 800, final)
    )


def chunk(seq: int) -> ChunkSent:
    return ChunkSent(seq, "uuid", seq * 200, 200, 6400, seq * 200, 5.0, f"r{seq}", 0, False)


async def wait_until(condition: Any, what: str, timeout_s: float = 10) -> None:
    """Poll `condition` (state another thread changes) until it holds; fail naming `what`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def served(runtime: Path) -> Iterator[tuple[ControlServer, Commands]]:
    commands = Commands()
    server = ControlServer(session_paths("talk-1", runtime), info("talk-1"), commands)
    server.start()
    try:
        yield server, commands
    finally:
        server.close()


async def test_a_late_viewer_gets_the_history_then_live_events(
    served: tuple[ControlServer, Commands],
) -> None:
    server, _ = served
    server.sink(started())
    for i in range(3):
        server.sink(revised(i, 1, False))
        for seq in range(i * 10, i * 10 + 10):
            server.sink(chunk(seq))
            server.sink(StatsUpdated(StatsSnapshot(requests_ok=seq + 1)))
        server.sink(revised(i, 2, True))
    await wait_until(lambda: server.history.packets == 30, "the events recorded")

    got: list[Event] = []
    history: list[Event] = []
    viewer = RemoteSession(server.paths.socket, "talk-1", on_history_end=lambda: history.extend(got))
    viewer.add_sink(got.append)
    task = asyncio.create_task(viewer.run())
    await wait_until(lambda: len(history) > 0, "the history")
    # Each sentence once, in its latest revision, in the order they appeared; the latest stats; no packets.
    sentences = [e.sentence for e in history if isinstance(e, SentenceRevised)]
    assert [(s.key, s.se_ver, s.final) for s in sentences] == [(f"0:{i}", 2, True) for i in range(3)]
    stats = [e for e in history if isinstance(e, StatsUpdated)]
    assert [s.stats.requests_ok for s in stats] == [30]
    assert isinstance(history[0], SessionStarted)
    assert not any(isinstance(e, ChunkSent) for e in history)
    assert viewer.hello is not None
    assert viewer.hello.packets == 30

    server.sink(revised(3, 1, True, "Live one."))
    server.sink(SessionEnded("input-ended", 4000, 0))
    assert await asyncio.wait_for(task, 10) == exitcodes.OK
    live = got[len(history) :]
    assert [type(e) for e in live] == [SentenceRevised, SessionEnded]
    assert isinstance(live[0], SentenceRevised)
    assert live[0].sentence.target_text == "Live one."


async def test_two_viewers_at_once_command_the_one_session(served: tuple[ControlServer, Commands]) -> None:
    server, commands = served
    server.sink(started())
    first, second = RemoteSession(server.paths.socket, "a"), RemoteSession(server.paths.socket, "b")
    seen_first: list[Event] = []
    seen_second: list[Event] = []
    first.add_sink(seen_first.append)
    second.add_sink(seen_second.append)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    await wait_until(lambda: server.viewers == 2, "two viewers")
    hello = await asyncio.to_thread(probe, server.paths.socket)
    assert hello.viewers == 2  # a probe is not a viewer
    assert (hello.name, hello.input, hello.source, hello.target) == ("talk-1", "talk.wav", "zh", "en")
    assert (hello.pid, hello.started_at, hello.state) == (os.getpid(), 1_700_000_000.0, "running")

    first.pause()
    first.mark("applause")
    second.resume()
    await wait_until(lambda: len(commands.seen) == 3, "the commands")
    assert [(n, a.get("label")) for n, a in commands.seen] == [
        ("pause", None),
        ("mark", "applause"),
        ("resume", None),
    ]

    # A viewer leaving (any reason but "stopped") detaches: the session is not asked to stop.
    first.stop("terminated")
    assert await asyncio.wait_for(tasks[0], 10) == exitcodes.OK
    await wait_until(lambda: server.viewers == 1, "one viewer left")
    server.sink(revised(1, 1, True))
    await wait_until(lambda: any(isinstance(e, SentenceRevised) for e in seen_second), "the live sentence")
    assert not any(isinstance(e, SentenceRevised) for e in seen_first)
    assert [n for n, _ in commands.seen] == ["pause", "mark", "resume"]

    second.stop("stopped")  # the user chose to stop the session
    await wait_until(lambda: len(commands.seen) == 4, "the stop")
    assert commands.seen[-1][0] == "stop"
    server.sink(SessionEnded("stopped", 2000, 0))
    assert await asyncio.wait_for(tasks[1], 10) == exitcodes.OK


async def test_a_viewer_that_does_not_read_is_dropped_and_the_others_get_everything(runtime: Path) -> None:
    server = ControlServer(session_paths("flood", runtime), info("flood"), Commands(), queue_limit=200)
    server.start()
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        stuck.connect(str(server.paths.socket))
        stuck.sendall(command("attach"))
        reader = RemoteSession(server.paths.socket, "flood")
        got: list[Event] = []
        reader.add_sink(got.append)
        task = asyncio.create_task(reader.run())
        await wait_until(lambda: server.viewers == 2, "both viewers")
        padding = "x" * 2000
        for i in range(3000):
            server.sink(revised(i, 1, True, padding))
            if i % 100 == 0:
                await asyncio.sleep(0)  # let the reading viewer read, as a live session's pace would
        server.sink(SessionEnded("input-ended", 0, 0))
        assert await asyncio.wait_for(task, 30) == exitcodes.OK
        # The stuck viewer was dropped (its connection closed: it may reconnect); the reader has every
        # sentence exactly once, even if it too fell behind in this one-loop test and had to reconnect.
        assert server.dropped >= 1
        stuck.settimeout(10)
        while stuck.recv(65536):
            pass
        assert sum(isinstance(e, SentenceRevised) for e in got) == 3000
    finally:
        stuck.close()
        server.close()


async def test_another_users_viewer_is_refused(runtime: Path) -> None:
    # The server's peer check, with the allowed uid set to someone else's: this process is "another user".
    server = ControlServer(
        session_paths("private", runtime), info("private"), Commands(), allowed_uid=os.geteuid() + 1
    )
    server.start()
    try:
        with pytest.raises(RefusedError):
            await asyncio.to_thread(probe, server.paths.socket)
        viewer = RemoteSession(server.paths.socket, "private")
        ended: list[Event] = []
        viewer.add_sink(ended.append)
        assert await asyncio.wait_for(viewer.run(), 10) == exitcodes.NO_SESSION
        assert isinstance(ended[-1], SessionEnded)
        assert "another user" in ended[-1].message
    finally:
        server.close()


def test_a_socket_open_to_others_is_refused(served: tuple[ControlServer, Commands]) -> None:
    server, commands = served
    os.chmod(server.paths.socket, 0o666)
    with pytest.raises(UnsafePathError, match="mode 0666"):
        probe(server.paths.socket)
    with pytest.raises(UnsafePathError):
        send_command(server.paths.socket, "stop")
    with pytest.raises(ChoiceError) as refused:
        choose("talk-1")
    assert refused.value.code == exitcodes.SESSION_REFUSED
    with pytest.raises(ChoiceError) as refused_too:
        choose(None)
    assert refused_too.value.code == exitcodes.SESSION_REFUSED
    assert commands.seen == []


def test_a_runtime_dir_open_to_others_is_refused(runtime: Path) -> None:
    runtime.chmod(0o755)
    with pytest.raises(UnsafePathError, match="chmod 700"):
        runtime_dir()


def test_a_stale_socket_is_removed_and_reported(runtime: Path) -> None:
    paths = session_paths("gone", runtime)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(paths.socket))
    os.chmod(paths.socket, 0o600)
    dead.close()  # a host killed with SIGKILL leaves its socket file behind, nobody listening
    paths.info.write_text('{"pid": 1, "journal": "/data/j.jsonl"}')
    with pytest.raises(ChoiceError) as gone:
        choose("gone")
    assert gone.value.code == exitcodes.NO_SESSION
    assert "stale socket" in str(gone.value)
    assert "/data/j.jsonl reads as crashed" in str(gone.value)
    assert not paths.socket.exists()
    assert not paths.info.exists()


def test_a_second_host_cannot_take_a_live_name(served: tuple[ControlServer, Commands], runtime: Path) -> None:
    server, _ = served
    with pytest.raises(NameInUseError):
        ControlServer(session_paths("talk-1", runtime), info("talk-1"), Commands()).start()
    assert probe(server.paths.socket).name == "talk-1"


def test_naming_is_needed_only_when_several_sessions_run(runtime: Path) -> None:
    with pytest.raises(ChoiceError) as none:
        choose(None)
    assert none.value.code == exitcodes.NO_SESSION
    assert "no live session" in str(none.value)
    servers = [ControlServer(session_paths(n, runtime), info(n), Commands()) for n in ("alpha", "beta")]
    for server in servers:
        server.start()
    try:
        with pytest.raises(ChoiceError) as several:
            choose(None)
        assert several.value.code == exitcodes.USAGE
        assert "several sessions are running (alpha, beta): name one" in str(several.value)
        chosen, reports = choose("beta")
        assert chosen.hello.name == "beta"
        assert reports == []
        with pytest.raises(ChoiceError) as missing:
            choose("gamma")
        assert missing.value.code == exitcodes.NO_SESSION
        assert "running: alpha, beta" in str(missing.value)
    finally:
        for server in servers:
            server.close()
    assert not any(runtime.iterdir())  # each host removed its socket
