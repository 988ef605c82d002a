"""Headless outputs: `--plain` (each final sentence once) and `--jsonl` (every event as a JSON line).

Both write through `TextOut` (a text stream, or a `LineWriter` on a file descriptor); output that cannot be
written (a full disk, a closed pipe) is counted, never raised into the session, so the end of the run can
say what was lost and exit with a code that says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading
from datetime import UTC, datetime
from typing import Any, Protocol

from tongchuan_tui.pipeline.events import Event, SentenceRevised, SessionStarted, event_to_json


class TextOut(Protocol):
    """Where a printer writes: anything with `write(str)` and `flush()`."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


def format_timestamp(ms: int) -> str:
    """`H:MM:SS` or `MM:SS` of a timeline position."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def utc_iso(epoch_s: float) -> str:
    """An epoch time as ISO 8601 UTC to the second, `Z` suffix: the journal header's `started_at_utc` form."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Printer:
    """Writes one item (a sentence, an event) at a time; counts the items that could not be written."""

    unit = "item"

    def __init__(self, stream: TextOut | None) -> None:
        self._stream: TextOut = stream if stream is not None else sys.stdout
        self.printed = 0
        self.lost = 0
        self.error: str | None = None
        """Why the first lost item was lost (e.g. "No space left on device")."""

    def _print(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            self.lost += 1
            if self.error is None:
                self.error = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return
        self.printed += 1

    @property
    def lost_items(self) -> int:
        """Items lost, by this printer or by the LineWriter under it."""
        return self.lost + (self._stream.lost if isinstance(self._stream, LineWriter) else 0)

    def lost_reason(self) -> str | None:
        """Why output was lost, if it was."""
        if isinstance(self._stream, LineWriter) and self._stream.error is not None:
            return self._stream.error
        return self.error


class PlainSink(_Printer):
    """Prints each sentence once, when it is final: its time, the source text, then the translation."""

    unit = "sentence"

    def __init__(self, stream: TextOut | None = None) -> None:
        super().__init__(stream)
        self._printed: set[str] = set()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, SentenceRevised) or not event.sentence.final:
            return
        sentence = event.sentence
        if sentence.key in self._printed:
            return
        self._printed.add(sentence.key)
        if not sentence.source_text and not sentence.target_text:
            return
        # A sentence a rollover cut says so: its text may stop short (`interrupted`: branch sched).
        cut = " [interrupted]" if getattr(sentence, "interrupted", False) else ""
        text = f"[{format_timestamp(sentence.start_ms)}] {sentence.source_text}{cut}\n"
        if sentence.target_text:
            text += f"           {sentence.target_text}\n"
        self._print(text)


class JsonlSink(_Printer):
    """Every event as one JSON object per line (`event_to_json`), flushed per line.

    SessionStarted carries its time as the journal header does: `started_at_utc` ISO 8601 UTC (to the
    second) and `started_at` epoch seconds (`event_from_json` reads either).
    """

    unit = "event"

    def __call__(self, event: Event) -> None:
        record = event_to_json(event)
        if isinstance(event, SessionStarted):
            record["started_at"] = event.started_at_utc
            record["started_at_utc"] = utc_iso(event.started_at_utc)
        self._print(json.dumps(record, ensure_ascii=False, default=str) + "\n")


class LineWriter:
    """Text for a file descriptor (stdout), written by a thread of its own.

    A sink must never block the session (a pipe whose reader is slow, a terminal on hold), and Python's
    buffered `sys.stdout` would keep unwritable text to fail again at exit; so each `write` is queued and
    written with `os.write`. What cannot be written (full disk, closed pipe), or is still queued when
    `close` gives up waiting, is counted in `lost`, one per `write`.
    """

    def __init__(self, fd: int, *, max_pending: int = 10_000) -> None:
        self._fd = fd
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self.written = 0
        self.lost = 0
        self.error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="stdout writer", daemon=True)
        self._thread.start()

    def write(self, text: str) -> int:
        """Queue `text` (one item); never blocks or raises."""
        if self._closed or self._queue.qsize() >= self._max_pending:
            self._count_lost("output queue full: the reader of stdout is not keeping up")
            return 0
        self._queue.put(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to do: the writer thread writes as soon as it can."""

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (waiting at most `timeout_s`) and stop; what is left counts as lost."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            left = self._queue.qsize()
            if left:
                self._count_lost(f"stdout blocked for {timeout_s:g} s at exit", left)

    def _count_lost(self, reason: str, count: int = 1) -> None:
        with self._lock:
            self.lost += count
            if self.error is None:
                self.error = reason

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            data = text.encode("utf-8")
            try:
                while data:
                    data = data[os.write(self._fd, data) :]
            except OSError as exc:
                self._count_lost(exc.strerror or str(exc))
                continue
            with self._lock:
                self.written += 1


def close_quietly(stream: object) -> None:
    """Close a LineWriter (no-op for other streams)."""
    if isinstance(stream, LineWriter):
        with contextlib.suppress(Exception):
            stream.close()
