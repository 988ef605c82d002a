"""The viewer's side of the control socket: probing a host, and `RemoteSession`, a `SessionLike` over it.

`RemoteSession` delivers the host's history and then its live events to its sinks, on the loop that runs it,
and sends the user's commands back. A viewer's own end — its terminal gone, Ctrl-C, SIGTERM, `detach` —
only closes its connection: `stop("stopped")` (the user asked to stop the session) is the one command that
ends the session itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from tongchuan_tui import exitcodes
from tongchuan_tui.pipeline.events import Event, SessionEnded, event_from_json
from tongchuan_tui.remote.paths import UnsafePathError, check_socket_file
from tongchuan_tui.remote.protocol import MAX_LINE, Hello, command, decode, peer_uid
from tongchuan_tui.services import Sink

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
DETACH_GRACE_S = 2.0
"""How long a detaching viewer waits for the host's bye before closing its end anyway."""
RECONNECTS = 3
"""Times a viewer the host dropped (it read too slowly) reconnects before giving up."""


class StaleSocketError(Exception):
    """A socket file that nobody answers on: its host is gone."""


class RefusedError(Exception):
    """The host refused this user (another user's session)."""


def _check_peer(sock: socket.socket, path: Path) -> None:
    import os

    uid = peer_uid(sock)
    if uid != os.geteuid():
        raise UnsafePathError(f"{path} is served by another user (uid {uid}): refusing to attach")


@contextlib.contextmanager
def _greeted(path: Path, timeout_s: float) -> Iterator[tuple[socket.socket, BinaryIO, Hello]]:
    """A blocking, bounded connection to the host at `path` that has said hello: (socket, its reader,
    the hello). Raises as `probe` says."""
    check_socket_file(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(str(path))
        except ConnectionRefusedError as exc:
            raise StaleSocketError(str(path)) from exc
        _check_peer(sock, path)
        with sock.makefile("rb") as stream:
            line = stream.readline(MAX_LINE)
            if not line:
                raise StaleSocketError(str(path))
            message = decode(line)
            if message.get("kind") == "refused":
                raise RefusedError(str(message.get("reason", "refused")))
            yield sock, stream, Hello.from_message(message)
    except TimeoutError as exc:
        raise TimeoutError(f"{path} did not answer within {timeout_s:g} s") from exc
    finally:
        sock.close()


def probe(path: Path, timeout_s: float = PROBE_TIMEOUT_S) -> Hello:
    """The hello of the host at `path` (blocking, bounded).

    Raises StaleSocketError (nobody answers), UnsafePathError (not safely the user's own), RefusedError,
    FileNotFoundError, TimeoutError, ValueError (not a host of ours).
    """
    with _greeted(path, timeout_s) as (_, _, hello):
        return hello


def send_command(path: Path, name: str, timeout_s: float = PROBE_TIMEOUT_S, **args: Any) -> Hello:
    """Send one command to the host at `path` without attaching; returns the hello it answered with."""
    with _greeted(path, timeout_s) as (sock, stream, hello):
        sock.sendall(command(name, **args))
        sock.sendall(command("detach"))
        stream.readline(MAX_LINE)  # the bye: the command was read before it
        return hello


class RemoteSession:
    """A session running in another process, seen through its control socket (a `SessionLike`)."""

    def __init__(self, path: Path, name: str, *, on_history_end: Callable[[], None] | None = None) -> None:
        self.path = path
        self.name = name
        self.hello: Hello | None = None
        self.ended: SessionEnded | None = None
        self.detached = False
        self._on_history_end = on_history_end
        self._sinks: list[Sink] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: list[bytes] = []
        self._covered = 0
        """Every event numbered up to this has been delivered (or superseded by one that was)."""
        self._delivered_above: set[int] = set()
        """Numbers above `_covered` delivered from a history that was cut off (a reconnect mid-history)."""

    # -- SessionLike -------------------------------------------------------------------------------------

    def add_sink(self, sink: Sink) -> None:
        """Receive every event, the history first."""
        self._sinks.append(sink)

    def stop(self, reason: str = "stopped") -> None:
        """`stopped` (the user chose to stop the session) stops it; any other reason only detaches."""
        if reason == "stopped" and not self.detached:
            self._send(command("stop"))
        else:
            self.detach()

    def pause(self) -> None:
        """Pause the session (every viewer sees it)."""
        self._send(command("pause"))

    def resume(self) -> None:
        """Resume the session."""
        self._send(command("resume"))

    def mark(self, label: str = "") -> None:
        """Mark the current moment in the session's journal."""
        self._send(command("mark", label=label))

    def detach(self) -> None:
        """Leave the session running; `run` returns 0."""
        if self.detached:
            return
        self.detached = True
        self._send(command("detach"))
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._close_after_grace)

    def _close_after_grace(self) -> None:
        # The host answers a detach with a bye; one that does not (hung, gone) must not keep the viewer.
        assert self._loop is not None
        writer = self._writer
        if writer is not None:
            self._loop.call_later(DETACH_GRACE_S, writer.transport.abort)

    async def run(self) -> int:
        """Follow the session to its end (0), or until detached (0); lost or unreachable: NO_SESSION."""
        self._loop = asyncio.get_running_loop()
        attempts = 0
        while not self.detached:
            try:
                reader, writer = await self._connect()
            except (OSError, UnsafePathError, ValueError, StaleSocketError, RefusedError) as exc:
                return self._lost(f"cannot reach session {self.name}: {exc}")
            try:
                outcome = await self._follow(reader, writer)
            finally:
                self._writer = None
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            if outcome is not None:
                return outcome
            attempts += 1
            if attempts > RECONNECTS:
                return self._lost(f"lost the connection to session {self.name} (it dropped this viewer)")
            log.warning("reconnecting to %s (attempt %d)", self.name, attempts)
        return exitcodes.OK

    # -- internals ---------------------------------------------------------------------------------------

    def _send(self, line: bytes) -> None:
        loop = self._loop
        if loop is None:
            self._pending.append(line)
            return
        # Commands may come from another thread than the one running this session.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._write, line)

    def _write(self, line: bytes) -> None:
        if self._writer is None or self._writer.is_closing():
            self._pending.append(line)
            return
        self._writer.write(line)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        check_socket_file(self.path)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.path), limit=MAX_LINE), PROBE_TIMEOUT_S
            )
        except ConnectionRefusedError as exc:
            raise StaleSocketError("nobody answers on its socket (its host is gone)") from exc
        try:
            _check_peer(writer.get_extra_info("socket"), self.path)
            line = await asyncio.wait_for(reader.readline(), PROBE_TIMEOUT_S)
            message = decode(line) if line else {}
            if message.get("kind") == "refused":
                raise RefusedError(str(message.get("reason", "refused")))
            self.hello = Hello.from_message(message)
        except BaseException:
            writer.close()
            raise
        writer.write(command("attach"))
        if self.detached:
            writer.write(command("detach"))
        for pending in self._pending:
            writer.write(pending)
        self._pending.clear()
        self._writer = writer
        return reader, writer

    async def _follow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int | None:
        """Deliver events until the end (an exit code) or an unexpected EOF (None: reconnect)."""
        # History lines are in the order things first appeared, not in `n` order (a sentence's slot carries
        # its newest revision's `n`), so only history-end says which numbers are covered.
        in_history = True
        while True:
            try:
                line = await reader.readline()
            except (ConnectionError, OSError, ValueError):
                line = b""
            if not line:
                if self.detached or self.ended is not None:
                    return exitcodes.OK
                return None if self._answers() else self._lost(self._lost_message())
            try:
                message = decode(line)
            except ValueError:
                continue
            kind = message.get("kind")
            if kind == "event":
                n = int(message.get("n", 0))
                if n <= self._covered or n in self._delivered_above:
                    continue  # delivered before a reconnect
                if in_history:
                    # Only history-end says what is covered: if this connection drops first, the next
                    # history must not deliver these again.
                    self._delivered_above.add(n)
                else:
                    self._covered = n
                try:
                    event = event_from_json(message["event"])
                except (KeyError, TypeError, ValueError):
                    log.warning("ignored a malformed event from %s", self.name)
                    continue
                if isinstance(event, SessionEnded):
                    self.ended = event
                self._emit(event)
                if self.ended is not None:
                    return exitcodes.OK  # nothing follows the end
            elif kind == "history-end":
                in_history = False
                self._covered = max(self._covered, int(message.get("n", 0)))
                self._delivered_above = {n for n in self._delivered_above if n > self._covered}
                if self._on_history_end is not None:
                    self._on_history_end()
                    self._on_history_end = None
            elif kind == "bye":
                if self.detached or self.ended is not None:
                    return exitcodes.OK
                if message.get("reason") == "ended":
                    return exitcodes.OK

    def _answers(self) -> bool:
        try:
            probe(self.path, timeout_s=1.0)
        except Exception:
            return False
        return True

    def _lost_message(self) -> str:
        return (
            f"lost session {self.name}: its host stopped without ending it "
            "(its journal reads as crashed; `tongchuan-tui sessions` lists it)"
        )

    def _lost(self, message: str) -> int:
        self.ended = SessionEnded(reason="failed", at_ms=0, exit_code=exitcodes.NO_SESSION, message=message)
        self._emit(self.ended)
        return exitcodes.NO_SESSION

    def _emit(self, event: Event) -> None:
        for sink in self._sinks:
            try:
                sink(event)
            except Exception:
                log.exception("sink %r failed", sink)
