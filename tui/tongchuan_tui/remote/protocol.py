"""The control socket's protocol: newline-delimited JSON objects, one per line, UTF-8.

Host → viewer: `{"kind": "hello", ...}` at once on connect (see `Hello`); after the viewer's `attach`,
every event so far as `{"kind": "event", "n": N, "event": {...}}` (`event_to_json` form; `n` rises with
every event the host records, so a viewer that reconnects skips what it already has), then
`{"kind": "history-end"}`, then live events the same way; `{"kind": "bye", "reason": ...}` before the host
closes a connection (detached, ended). A refused peer gets `{"kind": "refused", "reason": ...}`.

Viewer → host: `{"cmd": "attach"}` (send me the history and live events), `pause`, `resume`,
`{"cmd": "mark", "label": "..."}`, `stop` (end the session gracefully), `detach` (close my connection).
A connection that only reads the hello (a probe: `sessions`, `stop`) is not counted as a viewer.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import asdict, dataclass
from typing import Any

PROTOCOL_VERSION = 1
COMMANDS = frozenset({"attach", "pause", "resume", "mark", "stop", "detach"})
MAX_LINE = 1 << 20
"""The longest line either side accepts (a sentence event is a few hundred bytes)."""


@dataclass(frozen=True, slots=True)
class Hello:
    """What a host says about its session on connect."""

    name: str
    input: str
    source: str
    target: str
    started_at: float
    """UTC epoch seconds when the host started."""
    pid: int
    state: str
    """starting, running, paused or ended."""
    viewers: int
    """Attached viewers (probes not counted)."""
    packets: int
    """Packets the service has accepted so far (a detached start waits for the first)."""
    journal: str | None = None
    endpoint_host: str = ""
    emulated: bool = False
    protocol: int = PROTOCOL_VERSION

    def to_line(self) -> bytes:
        """The hello as sent."""
        return encode({"kind": "hello", **asdict(self)})

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Hello:
        """Parse a hello message; raises ValueError if it is not one."""
        if message.get("kind") != "hello":
            raise ValueError(f"expected a hello, got {message.get('kind')!r}")
        fields = {name: message[name] for name in cls.__dataclass_fields__ if name in message}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ValueError(f"malformed hello: {exc}") from exc


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line."""
    return (json.dumps(message, ensure_ascii=False, default=str, separators=(",", ":")) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    """One line as a message; raises ValueError if it is not a JSON object."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a protocol line must be a JSON object")
    return message


def command(name: str, **args: Any) -> bytes:
    """A viewer's command as a line."""
    return encode({"cmd": name, **args})


def peer_uid(sock: socket.socket | Any) -> int:
    """The uid of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)
