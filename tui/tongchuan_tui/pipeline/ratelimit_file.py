"""The account budget shared by every process of one user on one machine: a small JSON file in the user's
runtime dir (`$XDG_RUNTIME_DIR/tongchuan-tui/`, else a private dir in the temp dir), mode 0600, read and
written under an exclusive `fcntl.flock`.

Times in it are `time.monotonic()`, which on Linux is one clock for the whole machine (CLOCK_MONOTONIC), so
processes compare them directly. Each transaction runs in a worker thread: the lock may be held for a moment
by another process, and the loop that paces packets must never wait on it. A stream whose process is gone
is dropped at once (its pid no longer exists), not only after `STREAM_TTL_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tongchuan_tui.pipeline.clock import SystemClock
from tongchuan_tui.pipeline.ratelimit import RateLimits, State

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_STATE_BYTES = 64 * 1024
"""A state file larger than this is not ours (or corrupt): start afresh."""


class BudgetDirError(Exception):
    """The runtime dir cannot hold a private budget file."""


def runtime_dir() -> Path:
    """The user's private dir for the budget file: `$XDG_RUNTIME_DIR/tongchuan-tui`, else one in the temp dir
    (created 0700; refused if it is a symlink or someone else's)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        directory = Path(base) / "tongchuan-tui"
    else:
        directory = Path(tempfile.gettempdir()) / f"tongchuan-tui-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise BudgetDirError(f"{directory} is not a directory of this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(directory, 0o700)
    return directory


def budget_path(endpoint: str, secret_id: str, directory: Path | None = None) -> Path:
    """The file of one account at one endpoint (a digest: neither is readable from the name)."""
    digest = hashlib.sha256(f"{endpoint}\0{secret_id}".encode()).hexdigest()[:16]
    return (directory or runtime_dir()) / f"budget-{digest}.json"


class FileStore:
    """A `BudgetStore` in a lock-protected file, shared by every process that opens the same path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fallback: State = {}
        self._failed = False

    async def transact(self, fn: Callable[[State], T]) -> T:
        """Run `fn` on the file's state under its lock, in a worker thread; if the file cannot be used
        (its dir removed, a full disk), on a private state: interpretation goes on (logged once)."""
        try:
            return await asyncio.to_thread(self.transact_now, fn)
        except OSError as error:
            if not self._failed:
                self._failed = True
                log.warning("rate budget %s unusable, no longer shared: %s", self.path, error)
            return fn(self._fallback)

    def transact_now(self, fn: Callable[[State], T]) -> T:
        """The same, blocking (for worker threads and tests)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
                os.fchmod(fd, 0o600)
            state = _load(fd, self.path)
            _drop_dead_streams(state)
            result = fn(state)
            data = json.dumps(state, separators=(",", ":")).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
            return result
        finally:
            os.close(fd)  # releases the lock


def _load(fd: int, path: Path) -> State:
    raw = os.read(fd, MAX_STATE_BYTES + 1)
    if not raw:
        return {}
    try:
        state = json.loads(raw) if len(raw) <= MAX_STATE_BYTES else None
    except ValueError:
        state = None
    if not isinstance(state, dict):
        log.warning("rate budget %s was unreadable; starting afresh", path)
        return {}
    return state


def _drop_dead_streams(state: State) -> None:
    streams = state.get("streams")
    if not isinstance(streams, dict):
        return
    for key, stream in list(streams.items()):
        try:
            os.kill(int(stream.get("pid", 0)), 0)
        except ProcessLookupError:
            del streams[key]
        except (PermissionError, ValueError, TypeError, OverflowError):
            pass


def account_rate_limits(endpoint: str, secret_id: str) -> RateLimits:
    """The budget of one account at one endpoint, shared with this user's other processes on this machine
    (a private in-process budget if the runtime dir cannot be used; logged)."""
    try:
        return RateLimits(SystemClock(), store=FileStore(budget_path(endpoint, secret_id)))
    except (OSError, BudgetDirError) as error:
        log.warning("rate budget not shared with other processes: %s", error)
        return RateLimits(SystemClock())
