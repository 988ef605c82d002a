"""Headless outputs: `--plain` (each final sentence once) and `--jsonl` (every event as a JSON line, each
sentence tagged with its target language in a multi-target session).

Both write through `TextOut` (a text stream, or an `FdWriter` on stdout's descriptor); output that cannot be
written (a full disk, a closed pipe) is counted, never raised into the session, so the end of the run can
say what was lost and exit with a code that says so.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any, Protocol

from tongchuan_tui.pipeline.events import Event, SentenceRevised, SessionStarted, TargetEnded, event_to_json


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


class PlainSink(_Printer):
    """Prints each sentence once, when it is final: its time, the source text, then the translation.

    With several targets, the first target's sentences print as above with the translation tagged
    (`[en] …`); the other targets' print one line each, time and tagged translation (their source text is
    the same speech, shown once). If the first target stops early, the next one's source text is shown.
    """

    unit = "sentence"

    def __init__(self, stream: TextOut | None = None) -> None:
        super().__init__(stream)
        self._printed: set[str] = set()
        self._first = ""
        self._untagged = ""
        """The target of untagged sentences (single-target sessions and journals)."""
        self._running: list[str] = []
        self._multi = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self._running = list(event.all_targets)
            self._first = self._untagged = self._running[0]
            self._multi = len(self._running) > 1
            return
        if isinstance(event, TargetEnded):
            if event.target in self._running and len(self._running) > 1:
                self._running.remove(event.target)
                self._first = self._running[0]
            return
        if not isinstance(event, SentenceRevised) or not event.sentence.final:
            return
        sentence = event.sentence
        if sentence.key in self._printed:
            return
        self._printed.add(sentence.key)
        if not sentence.source_text and not sentence.target_text:
            return
        # A sentence a rollover cut says so: its text may stop short.
        cut = " [interrupted]" if sentence.interrupted else ""
        at = f"[{format_timestamp(sentence.start_ms)}]"
        target = sentence.target or self._untagged
        if self._multi and target != self._first:
            if sentence.target_text:
                self._print(f"{at} [{target}] {sentence.target_text}{cut}\n")
            return
        text = f"{at} {sentence.source_text}{cut}\n"
        if sentence.target_text:
            tag = f"[{target}] " if self._multi else ""
            text += f"           {tag}{sentence.target_text}\n"
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


class FdWriter:
    """Text straight to a file descriptor (stdout) with `os.write`.

    Nothing is held in Python's buffered `sys.stdout`, so text that cannot be written (a full disk, a closed
    pipe) fails here, once, where the printer counts it, and not again when the interpreter exits. (The
    printers run on a thread of their own, `ThreadedSink`, so a blocking write holds up nothing else.)
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, text: str) -> int:
        """Write all of `text`; raises OSError when it cannot."""
        data = text.encode("utf-8")
        while data:
            data = data[os.write(self._fd, data) :]
        return len(text)

    def flush(self) -> None:
        """Nothing to do: nothing is buffered."""
