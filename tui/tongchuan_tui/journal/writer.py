"""The journal writer: a sink that appends every event of a session to a JSONL file that survives crashes.

Durability: each line goes to the kernel with one `write()` on an O_APPEND descriptor as soon as its event
arrives, so a `kill -9` loses at most the line being written. Lines carrying a final sentence (and the
header and closing lines) are also fsync'd, for power loss; the fsync runs in the writer's own thread so a
slow disk never stalls the event loop.

Volume: every event is journaled except the high-rate ones, which are downsampled: LevelMeasured to one per
second (enough for a replay's level meter), StatsUpdated to one per 5 s (the latest is always written before
the closing line).

Failure: a journal that cannot be written (disk full, no permission, directory missing and uncreatable) is
reported once through `on_error`, lines are held in memory (bounded) and the write is retried every few
seconds; the session is never disturbed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tongchuan_tui import __version__
from tongchuan_tui.journal.format import CLOSED_TYPE, FORMAT_VERSION, JournalHeader, utc_iso
from tongchuan_tui.pipeline.events import (
    Event,
    LevelMeasured,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    StatsUpdated,
    event_to_json,
)

log = logging.getLogger(__name__)

MAX_PENDING_BYTES = 16 * 1024 * 1024
"""Lines held in memory while the journal cannot be written; beyond this the oldest are dropped."""
MAX_EARLY_EVENTS = 1000
"""Events that arrive before SessionStarted (which carries the header) are held, up to this many."""


def default_journal_path(
    sessions_dir: Path, started_at: float | datetime, source: str | None = None, target: str | None = None
) -> Path:
    """A new journal file name in `sessions_dir`, e.g. `2026-11-25T08-41-53Z_zh-en.jsonl`, not yet taken."""
    moment = started_at if isinstance(started_at, datetime) else datetime.fromtimestamp(started_at, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stem = moment.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    if source and target:
        stem += f"_{source}-{target}"
    candidate = sessions_dir / f"{stem}.jsonl"
    n = 2
    while candidate.exists():
        candidate = sessions_dir / f"{stem}-{n}.jsonl"
        n += 1
    return candidate


class _Syncer:
    """The writer's own thread: fsyncs the journal when asked, so the event loop never waits on the disk."""

    def __init__(self, get_fd: Callable[[], int | None], lock: threading.Lock) -> None:
        self._get_fd = get_fd
        self._lock = lock
        self._wanted = threading.Event()
        self._stopping = False
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="journal-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout=10.0)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            with self._lock:
                fd = self._get_fd()
                if fd is not None:
                    try:
                        os.fsync(fd)
                    except OSError as exc:
                        self.error = exc
            if self._stopping:
                return


class JournalWriter:
    """A sink journaling a session's events to `path` (see the module docstring); `close()` at the end."""

    def __init__(
        self,
        path: Path,
        *,
        on_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        stats_every_s: float = 5.0,
        level_every_s: float | None = 1.0,
        retry_every_s: float = 5.0,
        background_sync: bool = True,
    ) -> None:
        self.path = Path(path)
        self._on_error = on_error
        self._clock = clock
        self._stats_every_s = stats_every_s
        self._level_every_s = level_every_s
        self._retry_every_s = retry_every_s
        self._fd: int | None = None
        self._fd_lock = threading.Lock()
        self._syncer = _Syncer(lambda: self._fd, self._fd_lock) if background_sync else None
        self._start: float | None = None
        self._early: list[Event] = []
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._torn = False
        self._failing = False
        self._next_retry = 0.0
        self._last_stats_t: dict[str, float] = {}
        self._held_stats: dict[str, StatsUpdated] = {}
        """Per target ("" for the whole session): the stats held back by the throttle, written at the end."""
        self._last_level_t: float | None = None
        self._final_keys: set[str] = set()
        self._closed = False
        self.lines_written = 0
        self.lines_lost = 0

    @property
    def failing(self) -> bool:
        """Whether the journal currently cannot be written (lines are being held in memory)."""
        return self._failing

    def __call__(self, event: Event) -> None:
        """Journal one event; never raises (a failure is reported through `on_error`)."""
        if self._closed:
            return
        try:
            self._handle(event)
        except Exception as exc:  # a sink must never break the session
            log.exception("journal writer failed on %s", type(event).__name__)
            self._report(
                f"journal {self.path}: internal error ({type(exc).__name__}); some lines may be missing"
            )

    def close(self) -> None:
        """Write what is held, fsync and close the file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._pending:
            self._next_retry = 0.0
            self._flush(sync=True)
        if self._syncer is not None:
            self._syncer.stop()
            self._check_sync_error()
        with self._fd_lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            except OSError as exc:
                self._report(f"journal {self.path} could not be synced to disk: {exc.strerror or exc}")
            os.close(fd)
        if self._pending:
            self.lines_lost += len(self._pending)
            log.warning("journal %s: %d lines could not be written", self.path, len(self._pending))

    # -- events --------------------------------------------------------------------------------------

    def _handle(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self._begin(event)
            return
        if self._start is None:
            if len(self._early) < MAX_EARLY_EVENTS:
                self._early.append(event)
            return
        t = self._now()
        if isinstance(event, LevelMeasured):
            if self._level_every_s is None:
                return
            if self._last_level_t is not None and t - self._last_level_t < self._level_every_s:
                return
            self._last_level_t = t
        elif isinstance(event, StatsUpdated):
            # Throttled per target, so that each target's stats (and the whole session's) are kept.
            last = self._last_stats_t.get(event.target)
            if last is not None and t - last < self._stats_every_s:
                self._held_stats[event.target] = event
                return
            self._last_stats_t[event.target] = t
            self._held_stats.pop(event.target, None)
        elif isinstance(event, SessionEnded):
            self._end(event, t)
            return
        sync = False
        if isinstance(event, SentenceRevised) and event.sentence.final:
            sync = True
            self._final_keys.add(event.sentence.key)
        self._write_event(event, t, sync=sync)

    def _begin(self, event: SessionStarted) -> None:
        if self._start is not None:
            log.warning("journal %s: a second SessionStarted was ignored", self.path)
            return
        self._start = self._clock()
        header = JournalHeader(
            format=FORMAT_VERSION,
            app_version=__version__,
            started_at_utc=utc_iso(event.started_at_utc),
            started_at=event.started_at_utc,
            input=event.input,
            source=event.source,
            target=event.target,
            mode=event.mode,
            chunk_ms=event.chunk_ms,
            endpoint_host=event.endpoint_host,
            emulated=event.emulated,
            settings=dict(event.settings),
            targets=event.targets,
        )
        self._write_record(header.to_json(), sync=True)
        early, self._early = self._early, []
        for held in early:
            self._handle(held)

    def _end(self, event: SessionEnded, t: float) -> None:
        held, self._held_stats = self._held_stats, {}
        for stats in held.values():
            self._write_event(stats, t, sync=False)
        self._write_event(event, t, sync=False)
        closing = {
            "type": CLOSED_TYPE,
            "ended_at_utc": utc_iso(self._clock()),
            "reason": event.reason,
            "exit_code": event.exit_code,
            "final_sentences": len(self._final_keys),
            "lines_lost": self.lines_lost,
            "t": t,
        }
        self._write_record(closing, sync=True)
        self.close()

    def _now(self) -> float:
        assert self._start is not None
        return round(max(0.0, self._clock() - self._start), 3)

    # -- lines ---------------------------------------------------------------------------------------

    def _write_event(self, event: Event, t: float, *, sync: bool) -> None:
        record = event_to_json(event)
        record["t"] = t
        self._write_record(record, sync=sync)

    def _write_record(self, record: dict[str, Any], *, sync: bool) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        data = line.encode("utf-8")
        self._pending.append(data)
        self._pending_bytes += len(data)
        while self._pending_bytes > MAX_PENDING_BYTES and len(self._pending) > 1:
            dropped = self._pending.pop(0)
            self._pending_bytes -= len(dropped)
            self.lines_lost += 1
        self._flush(sync=sync)

    def _flush(self, *, sync: bool) -> None:
        if self._failing and self._clock() < self._next_retry:
            return
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            while self._pending:
                data = self._pending[0]
                # After a torn (partial) write, start on a fresh line so the fragment stays one bad line.
                chunk = b"\n" + data if self._torn else data
                written = os.write(self._fd, chunk)
                if written != len(chunk):
                    self._torn = True
                    raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (short write)")
                self._torn = False
                self._pending.pop(0)
                self._pending_bytes -= len(data)
                self.lines_written += 1
            if sync:
                self._sync()
            self._check_sync_error()
        except OSError as exc:
            self._fail(exc)
            return
        if self._failing:
            self._failing = False
            log.warning("journal %s can be written again", self.path)

    def _open(self) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, 0o600)  # transcripts are private
        with self._fd_lock:
            self._fd = fd
        if not existed:
            self._sync_directory(directory)

    @staticmethod
    def _sync_directory(directory: Path) -> None:
        # The new file's directory entry must reach the disk too, or a power cut may lose the whole file.
        try:
            dir_fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def _sync(self) -> None:
        if self._syncer is not None:
            self._syncer.request()
        elif self._fd is not None:
            os.fsync(self._fd)

    def _check_sync_error(self) -> None:
        if self._syncer is not None and self._syncer.error is not None:
            exc, self._syncer.error = self._syncer.error, None
            self._report(f"journal {self.path} could not be synced to disk: {exc.strerror or exc}")

    def _fail(self, exc: OSError) -> None:
        self._next_retry = self._clock() + self._retry_every_s
        if self._failing:
            return
        self._failing = True
        reason = exc.strerror or str(exc)
        self._report(
            f"journal {self.path} cannot be written ({reason}); interpretation goes on, "
            f"retrying every {self._retry_every_s:g} s"
        )

    def _report(self, message: str) -> None:
        log.error("%s", message)
        if self._on_error is not None:
            try:
                self._on_error(message)
            except Exception:
                log.exception("journal on_error callback failed")
