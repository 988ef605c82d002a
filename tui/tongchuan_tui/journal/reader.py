"""Reads a journal back: header, typed events, the sentences (latest version of each), marks, gaps.

Reading never crashes on a damaged journal: a truncated, corrupt or ill-typed line is skipped and counted.
Only a missing file, a file that is not a journal, or a journal from a newer format version is refused.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongchuan_tui.journal.format import CLOSED_TYPE, FORMAT_VERSION, HEADER_TYPE, JournalHeader, utc_iso
from tongchuan_tui.pipeline import events as ev
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    Event,
    MarkAdded,
    RequestFailed,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    event_from_json,
)


class JournalError(Exception):
    """A journal cannot be read at all (missing, not a journal, newer format); the message is one line."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One journaled event and when it happened: `t` seconds (wall clock) after the session started."""

    t: float
    event: Event


@dataclass(slots=True)
class Journal:
    """A journal as read: everything a review, an export, the sessions list or a replay needs."""

    path: Path
    header: JournalHeader
    events: list[RecordedEvent] = field(default_factory=list)
    """In time order (stable for equal times); SessionStarted is not among them (it is the header)."""
    sentences: list[Sentence] = field(default_factory=list)
    """The latest version of every sentence, in timeline order; `final=False` ones were never finalized."""
    marks: list[MarkAdded] = field(default_factory=list)
    gaps: list[AudioDropped] = field(default_factory=list)
    errors: list[RequestFailed] = field(default_factory=list)
    ended: SessionEnded | None = None
    closed: bool = False
    """Whether the journal has its closing line (the session ended cleanly, not killed or crashed)."""
    duration_s: float = 0.0
    """Wall-clock length of the session: the closing line's time, else the last line's."""
    skipped_lines: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def unfinished(self) -> list[Sentence]:
        """Sentences never finalized (the session ended or crashed while they were still being revised)."""
        return [s for s in self.sentences if not s.final]

    def session_started(self) -> SessionStarted:
        """The SessionStarted event the header was written from."""
        h = self.header
        return SessionStarted(
            started_at_utc=h.started_at,
            input=h.input,
            source=h.source,
            target=h.target,
            mode=h.mode,
            chunk_ms=h.chunk_ms,
            endpoint_host=h.endpoint_host,
            emulated=h.emulated,
            settings=dict(h.settings),
        )


def read_journal(path: Path) -> Journal:
    """Read the journal at `path`; raises JournalError (one line) only if it cannot be read at all."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(f"{path}: no such journal file") from None
    except IsADirectoryError:
        raise JournalError(f"{path} is a directory, not a journal file") from None
    except OSError as exc:
        raise JournalError(f"{path} cannot be read: {exc.strerror or exc}") from None
    return parse_journal(raw, path)


def parse_journal(raw: bytes, path: Path) -> Journal:
    """Parse a journal's bytes (see `read_journal`)."""
    header: JournalHeader | None = None
    header_line = 0
    recorded: list[tuple[float, int, Event]] = []
    closed_t: float | None = None
    last_t = 0.0
    skipped = 0
    warnings: list[str] = []
    lines = [line for line in raw.split(b"\n") if line.strip()]
    for index, line in enumerate(lines):
        record = _decode(line)
        if record is None:
            skipped += 1
            continue
        kind = record.get("type")
        if kind == HEADER_TYPE:
            fmt = record.get("format")
            newer = isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT_VERSION
            # Refused only if it is the journal's header (the first one, shaped like one), not a stray line.
            if newer and header is None and isinstance(record.get("started_at_utc"), str):
                raise JournalError(
                    f"{path} was written by a newer tongchuan-tui (format {fmt}); upgrade to read it"
                )
            if header is not None:
                skipped += 1
                continue
            try:
                header = JournalHeader.from_json(record)
                header_line = index
            except (KeyError, TypeError, ValueError, OverflowError):
                skipped += 1
            continue
        t = _time_of(record)
        if t is None:
            skipped += 1
            continue
        if kind == CLOSED_TYPE:
            closed_t = t
            last_t = max(last_t, t)
            continue
        event = _event_of(record)
        if event is None or isinstance(event, SessionStarted):
            skipped += 1
            continue
        recorded.append((t, index, event))
        last_t = max(last_t, t)
    if header is None:
        if not recorded and closed_t is None:
            if not lines:
                raise JournalError(f"{path} is empty: the session wrote nothing before it ended")
            raise JournalError(f"{path} is not a tongchuan-tui journal (no line could be read as one)")
        header = _unknown_header()
        warnings.append(f"{path}: the header line is missing or damaged; session details are unknown")
    elif header_line != 0:
        warnings.append(f"{path}: the header is not the first line; the journal may have been edited")
    if skipped:
        warnings.append(f"{path}: skipped {skipped} damaged line{'s' if skipped != 1 else ''}")
    recorded.sort(key=lambda item: (item[0], item[1]))
    journal = Journal(
        path=path,
        header=header,
        events=[RecordedEvent(t, event) for t, _, event in recorded],
        closed=closed_t is not None,
        duration_s=closed_t if closed_t is not None else last_t,
        skipped_lines=skipped,
        warnings=warnings,
    )
    _collect(journal)
    if not journal.closed:
        warnings.append(
            f"{path}: the session did not end cleanly (killed or crashed); it is read up to its last line"
        )
    if journal.unfinished:
        count = len(journal.unfinished)
        warnings.append(
            f"{path}: {count} sentence{'s' if count != 1 else ''} never finalized; included as last known"
        )
    return journal


def _collect(journal: Journal) -> None:
    latest: dict[str, tuple[tuple[int, bool, int], Sentence]] = {}
    first: dict[str, int] = {}
    """Where each sentence first appears in the journal: ties on the timeline go to the earlier one."""
    for order, item in enumerate(journal.events):
        event = item.event
        if isinstance(event, SentenceRevised):
            s = event.sentence
            first.setdefault(s.key, order)
            rank = (s.se_ver, s.final, order)
            known = latest.get(s.key)
            if known is None or rank > known[0]:
                latest[s.key] = (rank, s)
        elif isinstance(event, MarkAdded):
            journal.marks.append(event)
        elif isinstance(event, AudioDropped):
            journal.gaps.append(event)
        elif isinstance(event, RequestFailed):
            journal.errors.append(event)
        elif isinstance(event, SessionEnded):
            journal.ended = event
    journal.sentences = sorted((s for _, s in latest.values()), key=lambda s: (s.start_ms, first[s.key]))


def _decode(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _time_of(record: dict[str, Any]) -> float | None:
    t = record.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or not (0 <= t < 1e9):
        return None
    return float(t)


def _event_of(record: dict[str, Any]) -> Event | None:
    data = _upgraded({k: v for k, v in record.items() if k != "t"})
    cls = ev.EVENT_TYPES.get(str(data.get("type")))
    if cls is None or not _matches(data, cls, ignore={"type"}):
        return None
    try:
        return event_from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def _upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """A record of an older format in today's form: format 1 wrote a sentence's SeId as a number."""
    sentence = data.get("sentence")
    if data.get("type") == "SentenceRevised" and isinstance(sentence, dict):
        se_id = sentence.get("se_id")
        if isinstance(se_id, int) and not isinstance(se_id, bool):
            data["sentence"] = {**sentence, "se_id": str(se_id)}
    return data


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(ev))
    return _HINTS[cls]


def _matches(data: dict[str, Any], cls: type[Any], ignore: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether `data` has exactly the fields of dataclass `cls`, each of the declared type (JSON forms)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if any(k not in fields and k not in ignore for k in data):
        return False
    hints = _hints(cls)
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                return False
            continue
        if not _is_instance(data[name], hints[name]):
            return False
    return True


def _is_instance(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_instance(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300
    if hint is str:
        return isinstance(value, str)
    if origin is dict:
        _, value_hint = typing.get_args(hint)
        return isinstance(value, dict) and all(_is_instance(v, value_hint) for v in value.values())
    if origin is tuple:
        (item_hint, *_) = typing.get_args(hint)
        return isinstance(value, list | tuple) and all(_is_instance(v, item_hint) for v in value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return isinstance(value, dict) and _matches(value, hint)
    return False


def _unknown_header() -> JournalHeader:
    return JournalHeader(
        format=FORMAT_VERSION,
        app_version="",
        started_at_utc=utc_iso(0),
        started_at=0.0,
        input="(unknown)",
        source="",
        target="",
        mode="",
        chunk_ms=0,
        endpoint_host="",
        emulated=False,
    )
