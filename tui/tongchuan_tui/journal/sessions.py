"""The list of past sessions (the journals in the sessions directory) and pruning old ones.

Listing is fast: only the header is parsed in full; other lines are classified by a substring test and only
sentence lines are decoded, so a long session costs one pass over its file.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tongchuan_tui.journal.format import CLOSED_TYPE, FORMAT_VERSION, HEADER_TYPE, JournalHeader

JOURNAL_SUFFIX = ".jsonl"

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_HEADER_TAG = f'"{HEADER_TYPE}"'.encode()
_CLOSED_TAG = f'"{CLOSED_TYPE}"'.encode()
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One past session as the sessions list shows it."""

    path: Path
    started_at: datetime | None
    """UTC; None when the header is unreadable."""
    duration_s: float
    source: str
    target: str
    input: str
    sentences: int
    errors: int
    closed: bool
    """False for a session that was killed or crashed (no closing line)."""
    problem: str | None = None
    """Why the journal cannot be read (damaged header, newer format), if it cannot."""
    exit_code: int | None = None
    """The session's exit code (None when it did not close)."""
    failure: str = ""
    """Why it failed (SessionEnded's message), for a session that ended with a failure."""

    @property
    def failed(self) -> bool:
        """Whether it ended with a failure (not success, Ctrl-C or SIGTERM): e.g. it could not start."""
        return self.exit_code not in (None, 0, 130, 143)

    @property
    def status(self) -> str:
        """closed, failed, crashed or unreadable."""
        if self.problem is not None:
            return "unreadable"
        if self.failed:
            return "failed"
        return "closed" if self.closed else "crashed"

    def to_json(self) -> dict[str, Any]:
        """The summary as `sessions --json` prints it."""
        return {
            "path": str(self.path),
            "started_at_utc": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.started_at else None,
            "duration_s": round(self.duration_s, 3),
            "source": self.source,
            "target": self.target,
            "input": self.input,
            "sentences": self.sentences,
            "errors": self.errors,
            "closed": self.closed,
            "exit_code": self.exit_code,
            "failure": self.failure or None,
            "status": self.status,
            "problem": self.problem,
        }


def parse_age(text: str) -> timedelta:
    """An age such as 30d, 12h, 2w, 90m or 45s; raises ValueError with a one-line message otherwise."""
    match = _AGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an age; use a number and a unit, e.g. 30d, 12h, 2w, 90m")
    number, unit = float(match.group(1)), match.group(2).lower()
    return timedelta(**{_UNITS[unit]: number})


def journal_files(sessions_dir: Path) -> list[Path]:
    """The journal files in the sessions directory (none if it does not exist)."""
    try:
        return [p for p in Path(sessions_dir).iterdir() if p.suffix == JOURNAL_SUFFIX and p.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def summarize(path: Path) -> SessionSummary:
    """The summary of one journal; never raises for a damaged journal (see `problem`)."""
    header: JournalHeader | None = None
    problem: str | None = None
    all_keys: set[str] = set()
    errors = 0
    closed = False
    exit_code: int | None = None
    failure = ""
    last_t = 0.0
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if header is None and _HEADER_TAG in line:
                    header, problem = _header(line, problem)
                    if header is not None:
                        continue
                if b'"t":' in line:
                    last_t = max(last_t, _last_t(line))
                if b'"SentenceRevised"' in line:
                    sentence = _sentence(line)
                    if sentence is not None:
                        all_keys.add(str(sentence.get("key")))
                elif b'"RequestFailed"' in line:
                    errors += 1
                elif b'"SessionEnded"' in line:
                    failure = str(_record(line).get("message") or "")
                elif _CLOSED_TAG in line:
                    closed = True
                    code = _record(line).get("exit_code")
                    exit_code = code if isinstance(code, int) else None
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}"
    started = datetime.fromtimestamp(header.started_at, UTC) if header is not None else None
    if header is None and problem is None:
        problem = "no readable header"
    return SessionSummary(
        path=path,
        started_at=started,
        duration_s=last_t,
        source=header.source if header else "",
        target=",".join(header.all_targets) if header else "",
        input=header.input if header else "",
        sentences=len(all_keys),
        errors=errors,
        closed=closed,
        problem=problem,
        exit_code=exit_code,
        failure=failure if exit_code not in (None, 0, 130, 143) else "",
    )


def _record(line: bytes) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _header(line: bytes, problem: str | None) -> tuple[JournalHeader | None, str | None]:
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("type") != HEADER_TYPE:
            return None, problem
        header = JournalHeader.from_json(data)
    except (ValueError, TypeError, KeyError, OverflowError):
        return None, problem
    if header.format > FORMAT_VERSION:
        return None, f"written by a newer tongchuan-tui (format {header.format}); upgrade to read it"
    return header, None


def _last_t(line: bytes) -> float:
    # The writer puts "t" last; a cheap parse of the tail avoids decoding every packet line.
    tail = line.rstrip().rsplit(b'"t":', 1)[-1].rstrip(b"}")
    try:
        value = float(tail)
    except ValueError:
        return 0.0
    return value if 0 <= value < 1e9 else 0.0


def _sentence(line: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "SentenceRevised":
        return None
    sentence = data.get("sentence")
    return sentence if isinstance(sentence, dict) else None


def list_sessions(sessions_dir: Path) -> list[SessionSummary]:
    """Every journal in the sessions directory, newest first (unreadable ones by file time, last)."""
    summaries = [summarize(path) for path in journal_files(sessions_dir)]

    def newest_first(s: SessionSummary) -> tuple[int, float]:
        if s.started_at is not None:
            return (0, -s.started_at.timestamp())
        try:
            return (1, -s.path.stat().st_mtime)
        except OSError:
            return (1, 0.0)

    return sorted(summaries, key=newest_first)


def prune(sessions_dir: Path, older_than: timedelta, now: datetime, *, dry_run: bool = False) -> list[Path]:
    """Remove (unless `dry_run`) journals that started more than `older_than` before `now`; returns them.

    A journal without a readable start time is judged by its file's modification time.
    """
    cutoff = now - older_than
    if cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=UTC)
    removed: list[Path] = []
    for summary in list_sessions(sessions_dir):
        started = summary.started_at
        if started is None:
            try:
                started = datetime.fromtimestamp(summary.path.stat().st_mtime, UTC)
            except OSError:
                continue
        if started >= cutoff:
            continue
        if not dry_run:
            with contextlib.suppress(FileNotFoundError):
                summary.path.unlink()
        removed.append(summary.path)
    return removed
