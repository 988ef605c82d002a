"""Where session sockets live, what a session may be called, and which socket files may be trusted.

Sockets go in `$XDG_RUNTIME_DIR/tongchuan-tui/`, else in a private temp dir of the user
(`/tmp/tongchuan-tui-UID/`). Either directory must be the user's own and closed to everyone else (0700); a
socket must be the user's own, mode 0600. Anything else is refused: another user could be impersonating a
session, or listening to one.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_DIR = "tongchuan-tui"
SOCKET_SUFFIX = ".sock"
INFO_SUFFIX = ".json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
DEFAULT_NAME_PREFIX = "talk-"
MAX_SOCKET_PATH = 107
"""sun_path holds 108 bytes on Linux, the terminating NUL included."""


class UnsafePathError(Exception):
    """A runtime dir or socket another user could reach or has made; the message says what to do."""


def validate_name(name: str) -> str | None:
    """Why `name` cannot name a session (one line), or None if it can."""
    if NAME_PATTERN.fullmatch(name) is None:
        return f"--name {name!r}: use 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def runtime_dir(*, create: bool = True) -> Path:
    """The user's private directory for session sockets (made 0700 if missing); raises UnsafePathError."""
    uid = os.geteuid()
    xdg = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    path = Path(xdg) / APP_DIR if xdg else Path(tempfile.gettempdir()) / f"{APP_DIR}-{uid}"
    if create:
        try:
            path.mkdir(mode=0o700, parents=bool(xdg), exist_ok=True)
        except OSError as exc:
            raise UnsafePathError(f"cannot create the session directory {path}: {exc.strerror}") from exc
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        raise UnsafePathError(f"{path} is not a directory of yours: remove it, or set XDG_RUNTIME_DIR")
    if info.st_mode & 0o077:
        raise UnsafePathError(
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}): chmod 700 it"
        )
    return path


@dataclass(frozen=True, slots=True)
class SessionPaths:
    """The files of one named session in the runtime dir."""

    name: str
    socket: Path
    info: Path
    """A small JSON file (pid, journal) next to the socket, for reporting a host that died."""


def session_paths(name: str, directory: Path | None = None) -> SessionPaths:
    """The socket and info file of session `name`; raises UnsafePathError (also for a too-long path)."""
    base = directory if directory is not None else runtime_dir()
    socket = base / f"{name}{SOCKET_SUFFIX}"
    if len(os.fsencode(socket)) > MAX_SOCKET_PATH:
        raise UnsafePathError(f"the socket path {socket} is too long for a Unix socket: set XDG_RUNTIME_DIR")
    return SessionPaths(name, socket, base / f"{name}{INFO_SUFFIX}")


def socket_names(directory: Path | None = None) -> list[str]:
    """The names of every session socket in the runtime dir (live or stale), sorted."""
    base = directory if directory is not None else runtime_dir(create=False)
    try:
        entries = list(base.iterdir())
    except FileNotFoundError:
        return []
    return sorted(p.name.removesuffix(SOCKET_SUFFIX) for p in entries if p.name.endswith(SOCKET_SUFFIX))


def check_socket_file(path: Path) -> None:
    """Refuse a socket that is not the user's own, mode 0600 (raises UnsafePathError; FileNotFoundError)."""
    info = os.lstat(path)
    if not stat.S_ISSOCK(info.st_mode):
        raise UnsafePathError(f"{path} is not a socket: remove it")
    if info.st_uid != os.geteuid():
        raise UnsafePathError(f"{path} belongs to another user (uid {info.st_uid}): refusing to attach")
    if info.st_mode & 0o077:
        raise UnsafePathError(
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}, should be 0600): "
            "refusing to attach; stop that session and start it again"
        )
