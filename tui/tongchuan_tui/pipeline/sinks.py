"""Headless outputs: `--plain` (each final sentence once) and `--jsonl` (every event as a JSON line)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from tongchuan_tui.pipeline.events import Event, SentenceRevised, event_to_json


def format_timestamp(ms: int) -> str:
    """`H:MM:SS` or `MM:SS` of a timeline position."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class PlainSink:
    """Prints each sentence once, when it is final: its time, the source text, then the translation."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
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
        # A sentence a rollover cut says so: its text may stop short.
        cut = " [interrupted]" if sentence.interrupted else ""
        self._stream.write(f"[{format_timestamp(sentence.start_ms)}] {sentence.source_text}{cut}\n")
        if sentence.target_text:
            self._stream.write(f"           {sentence.target_text}\n")
        self._stream.flush()


class JsonlSink:
    """Every event as one JSON object per line (`event_to_json`), flushed per line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout

    def __call__(self, event: Event) -> None:
        self._stream.write(json.dumps(event_to_json(event), ensure_ascii=False, default=str) + "\n")
        self._stream.flush()
