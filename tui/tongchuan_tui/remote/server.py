"""The control server of a session host: a Unix socket served from its own thread and event loop.

The session hands it events through `sink`, which only schedules work on the server's loop and returns: a
viewer that reads slowly fills its own bounded queue and is dropped (it may reconnect), so no viewer can slow
the session. Commands from viewers go to the host through `on_command`, called on the server's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tongchuan_tui.pipeline.events import Event, Paused, Resumed, SessionEnded, SessionStarted
from tongchuan_tui.remote.history import EventHistory
from tongchuan_tui.remote.paths import SessionPaths
from tongchuan_tui.remote.protocol import COMMANDS, MAX_LINE, Hello, decode, encode, peer_uid

log = logging.getLogger(__name__)

VIEWER_QUEUE = 5_000
"""Live lines a viewer may fall behind by before it is dropped (several seconds of a revision flood)."""
FIRST_COMMAND_TIMEOUT_S = 30.0
"""A connection that says nothing this long after the hello is closed."""
CLOSE_TIMEOUT_S = 3.0
"""How long closing waits for viewers to receive the last events."""
HIGH_WATER = 256 * 1024


class NameInUseError(Exception):
    """A live session already answers on this name's socket."""


@dataclass(frozen=True, slots=True)
class HostInfo:
    """The fixed part of the hello: what the host runs."""

    name: str
    input: str
    source: str
    target: str
    started_at: float
    pid: int
    journal: str | None
    endpoint_host: str
    emulated: bool


class _Viewer:
    """One attached connection: its queue of lines and the task that writes them."""

    def __init__(self, writer: asyncio.StreamWriter, limit: int) -> None:
        self.writer = writer
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(limit)
        self.task: asyncio.Task[None] | None = None


def bind_socket(path: os.PathLike[str] | str) -> socket.socket:
    """A listening Unix socket at `path`, mode 0600; a stale socket there is replaced, a live one refused."""
    path = os.fspath(path)
    if os.path.lexists(path):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(2.0)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # nobody answers: a host that died left it
        else:
            raise NameInUseError(path)
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        # The directory is already 0700; the socket is closed to others as well, so that a directory whose
        # mode is later loosened does not open the session.
        os.chmod(path, 0o600)
        sock.listen(64)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class ControlServer:
    """Serves one session's hello, history and live events to viewers, and takes their commands."""

    def __init__(
        self,
        paths: SessionPaths,
        info: HostInfo,
        on_command: Callable[[str, dict[str, Any]], None],
        *,
        allowed_uid: int | None = None,
        queue_limit: int = VIEWER_QUEUE,
    ) -> None:
        self.paths = paths
        self.info = info
        self._on_command = on_command
        self._allowed_uid = os.geteuid() if allowed_uid is None else allowed_uid
        self._queue_limit = queue_limit
        self.history = EventHistory()
        self._state = "starting"
        self._viewers: set[_Viewer] = set()
        self._connections: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._closed = False
        self.dropped = 0
        """Viewers dropped for reading too slowly."""

    # -- the host's side (any thread) --------------------------------------------------------------------

    def start(self) -> None:
        """Bind the socket and serve it on a new thread; raises NameInUseError, OSError."""
        sock = bind_socket(self.paths.socket)
        loop = asyncio.new_event_loop()
        self._loop = loop
        name = f"control:{self.info.name}"
        self._thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(sock), loop)
        future.result(timeout=10)

    def sink(self, event: Event) -> None:
        """The session's sink: hands the event to the server's loop; never blocks."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._on_event, event)

    @property
    def viewers(self) -> int:
        """Attached viewers now."""
        return len(self._viewers)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Say bye to every viewer (after the events already sent), stop serving, remove the socket."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or self._closed:
            return
        try:
            future = asyncio.run_coroutine_threadsafe(self._shutdown(timeout_s), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=timeout_s + 2)
        finally:
            self._closed = True
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():
                loop.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.paths.socket)

    # -- the server's loop -------------------------------------------------------------------------------

    async def _listen(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_unix_server(self._connected, sock=sock, limit=MAX_LINE)

    def hello(self) -> Hello:
        """The hello a connection gets now."""
        info = self.info
        return Hello(
            name=info.name,
            input=info.input,
            source=info.source,
            target=info.target,
            started_at=info.started_at,
            pid=info.pid,
            state=self._state,
            viewers=len(self._viewers),
            packets=self.history.packets,
            journal=info.journal,
            endpoint_host=info.endpoint_host,
            emulated=info.emulated,
        )

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SessionStarted | Resumed):
            self._state = "running"
        elif isinstance(event, Paused):
            self._state = "paused"
        elif isinstance(event, SessionEnded):
            self._state = "ended"
        line = self.history.record(event)
        for viewer in list(self._viewers):
            try:
                viewer.queue.put_nowait(line)
            except asyncio.QueueFull:
                self.dropped += 1
                log.warning("dropping a viewer of %s: it reads too slowly", self.info.name)
                self._drop(viewer)

    def _drop(self, viewer: _Viewer) -> None:
        self._viewers.discard(viewer)
        if viewer.task is not None:
            viewer.task.cancel()
        viewer.writer.transport.abort()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        viewer: _Viewer | None = None
        try:
            uid = peer_uid(writer.get_extra_info("socket"))
            if uid != self._allowed_uid:
                log.warning("refused a connection to %s from uid %d", self.info.name, uid)
                writer.write(encode({"kind": "refused", "reason": "another user's session"}))
                return
            writer.write(self.hello().to_line())
            first = True
            while True:
                timeout = FIRST_COMMAND_TIMEOUT_S if first and viewer is None else None
                line = await asyncio.wait_for(reader.readline(), timeout)
                if not line:
                    return  # the viewer went away (its terminal died, it detached, a probe finished)
                first = False
                try:
                    message = decode(line)
                except ValueError:
                    continue
                name = message.get("cmd")
                if name not in COMMANDS:
                    continue
                if name == "attach":
                    if viewer is None:
                        viewer = self._attach(writer)
                elif name == "detach":
                    await self._bye(viewer, writer, "detached")
                    return
                else:
                    self._on_command(str(name), message)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, OSError, ValueError):
            return
        finally:
            if viewer is not None:
                self._viewers.discard(viewer)
                if viewer.task is not None and not viewer.task.done():
                    viewer.task.cancel()
            writer.close()
            if task is not None:
                self._connections.discard(task)

    def _attach(self, writer: asyncio.StreamWriter) -> _Viewer:
        viewer = _Viewer(writer, self._queue_limit)
        # Snapshot and subscription happen in one step of the loop: no event is missed or doubled.
        snapshot = list(self.history.lines())
        self._viewers.add(viewer)
        viewer.task = asyncio.create_task(self._send(viewer, snapshot))
        return viewer

    async def _send(self, viewer: _Viewer, snapshot: list[bytes]) -> None:
        writer = viewer.writer
        try:
            for line in snapshot:
                writer.write(line)
                if writer.transport.get_write_buffer_size() > HIGH_WATER:
                    await writer.drain()
            writer.write(encode({"kind": "history-end", "n": self.history.last_n}))
            await writer.drain()
            while (line_or_end := await viewer.queue.get()) is not None:
                writer.write(line_or_end)
                await writer.drain()
        except (ConnectionError, OSError):
            self._viewers.discard(viewer)

    async def _bye(self, viewer: _Viewer | None, writer: asyncio.StreamWriter, reason: str) -> None:
        bye = encode({"kind": "bye", "reason": reason})
        if viewer is None:
            writer.write(bye)
        else:
            self._viewers.discard(viewer)
            try:
                viewer.queue.put_nowait(bye)
                viewer.queue.put_nowait(None)
            except asyncio.QueueFull:
                return
            if viewer.task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(viewer.task, CLOSE_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), CLOSE_TIMEOUT_S)

    async def _shutdown(self, timeout_s: float) -> None:
        if self._server is not None:
            self._server.close()
        reason = "ended" if self._state == "ended" else "host-exiting"
        viewers = list(self._viewers)
        bye = encode({"kind": "bye", "reason": reason})
        for viewer in viewers:
            try:
                viewer.queue.put_nowait(bye)
                viewer.queue.put_nowait(None)
            except asyncio.QueueFull:
                self._drop(viewer)
        tasks = [v.task for v in viewers if v.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        for viewer in viewers:
            with contextlib.suppress(Exception):
                viewer.writer.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=1.0)
