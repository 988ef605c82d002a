"""Headless outputs: `--plain` (each final sentence once) and `--jsonl` (every event as a JSON line, each
sentence tagged with its target language in a multi-target session)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from tongchuan_tui.pipeline.events import Event, SentenceRevised, SessionStarted, TargetEnded, event_to_json


def format_timestamp(ms: int) -> str:
    """`H:MM:SS` or `MM:SS` of a timeline position."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class PlainSink:
    """Prints each sentence once, when it is final: its time, the source text, then the translation.

    With several targets, the first target's sentences print as above with the translation tagged
    (`[en] …`); the other targets' print one line each, time and tagged translation (their source text is
    the same speech, shown once). If the first target stops early, the next one's source text is shown.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
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
                self._stream.write(f"{at} [{target}] {sentence.target_text}{cut}\n")
                self._stream.flush()
            return
        self._stream.write(f"{at} {sentence.source_text}{cut}\n")
        if sentence.target_text:
            tag = f"[{target}] " if self._multi else ""
            self._stream.write(f"           {tag}{sentence.target_text}\n")
        self._stream.flush()


class JsonlSink:
    """Every event as one JSON object per line (`event_to_json`), flushed per line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout

    def __call__(self, event: Event) -> None:
        self._stream.write(json.dumps(event_to_json(event), ensure_ascii=False, default=str) + "\n")
        self._stream.flush()
