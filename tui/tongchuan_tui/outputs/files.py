"""Live subtitle files (`--live-srt`, `--live-vtt`, `--live-text`), rewritten whole as sentences finalise.

Each rewrite goes to a temporary file in the same directory, is fsynced, then renamed over the old one, so a
reader (OBS, a subtitle parser, `tail`) only ever sees a complete file. The writing happens on a thread of
its own: the sink only queues the event, so disk trouble never slows the session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tongchuan_tui.journal.export import build_cues, to_srt, to_vtt
from tongchuan_tui.outputs.address import OutputsError
from tongchuan_tui.pipeline.events import (
    Event,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    of_target,
)

log = logging.getLogger(__name__)

DEFAULT_TEXT_LINES = 2


@dataclass(frozen=True, slots=True)
class LiveFileOptions:
    """Which live files to keep, and how many lines the text file holds."""

    srt: Path | None = None
    vtt: Path | None = None
    text: Path | None = None
    text_lines: int = DEFAULT_TEXT_LINES

    @property
    def any(self) -> bool:
        """Whether any live file is asked for."""
        return any(p is not None for p in (self.srt, self.vtt, self.text))


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old file or the new one, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a subtitle file is meant to be read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def last_lines(sentences: list[Sentence], count: int) -> str:
    """The last `count` lines for a text source: the translations (or the source where there is none)."""
    lines = [s.target_text.strip() or s.source_text.strip() for s in sentences]
    lines = [line for line in lines if line]
    return "\n".join(lines[-count:]) + ("\n" if lines else "")


class LiveFiles:
    """Keeps the live files of one session (see the module docstring). `start`, `sink` events, `close`."""

    def __init__(self, options: LiveFileOptions, on_error: Callable[[str], None] | None = None) -> None:
        self.options = options
        self._on_error = on_error
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._finals: dict[str, Sentence] = {}
        self._order: dict[str, int] = {}
        self._first = ""
        """The session's first target language ("" until it started)."""
        self._thread: threading.Thread | None = None
        self._failing: set[Path] = set()
        self.writes = 0
        """Rewrites done so far (of all files)."""

    def _targets(self) -> list[tuple[str, Path]]:
        o = self.options
        return [(name, p) for name, p in (("srt", o.srt), ("vtt", o.vtt), ("text", o.text)) if p is not None]

    def start(self) -> None:
        """Write each file empty (but valid) now; raises OutputsError (one line) if one cannot be written."""
        for name, path in self._targets():
            flag = f"--live-{name}"
            if path.is_dir():
                raise OutputsError(f"{flag} {path}: is a directory; give a file path")
            if not path.parent.is_dir():
                raise OutputsError(f"{flag} {path}: the folder {path.parent} does not exist; create it first")
            try:
                write_atomically(path, self._render(name))
            except OSError as exc:
                reason = exc.strerror or exc.__class__.__name__
                message = f"{flag} {path}: cannot be written ({reason}); choose another path"
                raise OutputsError(message) from None
        self._thread = threading.Thread(target=self._run, name="live-files", daemon=True)
        self._thread.start()

    def sink(self, event: Event) -> None:
        """Queue a final sentence of the first target (or the end) for the writer thread; never blocks."""
        if isinstance(event, SessionStarted):
            self._first = event.all_targets[0]
        elif isinstance(event, SentenceRevised):
            # A multi-target session's files hold its first target (the one whose source text is shown).
            if event.sentence.final and of_target(event.sentence.target, self._first, self._first):
                self._queue.put(event)
        elif isinstance(event, SessionEnded):
            self._queue.put(event)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop the thread (bounded wait)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)

    # -- the writer thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        done = False
        while not done:
            batch = [self._queue.get()]
            # Everything already waiting goes into one rewrite.
            with contextlib.suppress(queue.Empty):
                while len(batch) < 10_000:
                    batch.append(self._queue.get_nowait())
            changed = False
            for event in batch:
                if event is None:
                    done = True
                elif isinstance(event, SentenceRevised):
                    sentence = event.sentence
                    self._order.setdefault(sentence.key, len(self._order))
                    changed = changed or self._finals.get(sentence.key) != sentence
                    self._finals[sentence.key] = sentence
            if changed:
                self._write_all()

    def _sentences(self) -> list[Sentence]:
        return sorted(self._finals.values(), key=lambda s: (s.start_ms, self._order[s.key]))

    def _render(self, name: str) -> str:
        sentences = self._sentences()
        if name == "srt":
            return to_srt(build_cues(sentences))
        if name == "vtt":
            return to_vtt(build_cues(sentences))
        return last_lines(sentences, self.options.text_lines)

    def _write_all(self) -> None:
        for name, path in self._targets():
            try:
                write_atomically(path, self._render(name))
                self.writes += 1
                self._failing.discard(path)
            except OSError as exc:
                log.warning("live file %s: %s", path, exc)
                if path not in self._failing and self._on_error is not None:
                    # Said once per failing spell; the next sentence tries again.
                    self._on_error(f"live file {path}: {exc.strerror or exc}")
                self._failing.add(path)
