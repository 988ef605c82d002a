"""Finding live sessions in the runtime dir: which answer, which are stale (cleaned up and reported)."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from tongchuan_tui.remote.client import RefusedError, StaleSocketError, probe
from tongchuan_tui.remote.paths import (
    DEFAULT_NAME_PREFIX,
    SessionPaths,
    UnsafePathError,
    runtime_dir,
    session_paths,
    socket_names,
)
from tongchuan_tui.remote.protocol import Hello


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A host that answered its socket."""

    paths: SessionPaths
    hello: Hello

    def running_s(self, now: float | None = None) -> float:
        """Seconds since the host started."""
        return max(0.0, (time.time() if now is None else now) - self.hello.started_at)


@dataclass(frozen=True, slots=True)
class Unusable:
    """A socket that is not a usable live session: stale (removed) or refused (left alone)."""

    name: str
    message: str
    stale: bool


def clean_stale(paths: SessionPaths) -> str:
    """Remove a dead host's socket and info file; the one-line report of it."""
    journal = None
    with contextlib.suppress(OSError, ValueError):
        journal = json.loads(paths.info.read_text(encoding="utf-8")).get("journal")
    for path in (paths.socket, paths.info):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    where = f"; its journal {journal} reads as crashed" if journal else ""
    return f"session {paths.name} is gone (its host died without ending it): removed its stale socket{where}"


def check(paths: SessionPaths) -> LiveSession | Unusable:
    """Probe one session's socket; a stale one is cleaned up."""
    try:
        return LiveSession(paths, probe(paths.socket))
    except (StaleSocketError, FileNotFoundError):
        return Unusable(paths.name, clean_stale(paths), stale=True)
    except (UnsafePathError, RefusedError) as exc:
        return Unusable(paths.name, str(exc), stale=False)
    except (TimeoutError, ValueError, OSError) as exc:
        return Unusable(paths.name, f"session {paths.name} does not answer properly: {exc}", stale=False)


def scan(directory: Path | None = None) -> tuple[list[LiveSession], list[Unusable]]:
    """Every live session (by name) and every unusable socket in the runtime dir."""
    base = directory if directory is not None else runtime_dir(create=False)
    live: list[LiveSession] = []
    unusable: list[Unusable] = []
    for name in socket_names(base):
        found = check(session_paths(name, base))
        (live if isinstance(found, LiveSession) else unusable).append(found)  # type: ignore[arg-type]
    return live, unusable


def next_default_name(directory: Path | None = None) -> str:
    """The first `talk-N` no live session uses (stale sockets of that name are cleaned up)."""
    base = directory if directory is not None else runtime_dir()
    taken = set()
    for name in socket_names(base):
        if isinstance(check(session_paths(name, base)), LiveSession):
            taken.add(name)
    n = 1
    while f"{DEFAULT_NAME_PREFIX}{n}" in taken:
        n += 1
    return f"{DEFAULT_NAME_PREFIX}{n}"


class ChoiceError(Exception):
    """No session, or not one, matches what the user asked; carries the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def choose(name: str | None) -> tuple[LiveSession, list[str]]:
    """The live session called `name`, or the only one; with the reports of stale sockets cleaned on the way.

    Raises ChoiceError with a one-line message and an exit code.
    """
    from tongchuan_tui import exitcodes

    try:
        base = runtime_dir(create=False)
    except UnsafePathError as exc:
        raise ChoiceError(str(exc), exitcodes.SESSION_REFUSED) from exc
    if name is not None:
        try:
            paths = session_paths(name, base)
        except UnsafePathError as exc:
            raise ChoiceError(str(exc), exitcodes.USAGE) from exc
        if not paths.socket.exists() and not paths.socket.is_symlink():
            live, _ = scan(base)
            running = ", ".join(s.paths.name for s in live) or "none"
            raise ChoiceError(f"no live session named {name} (running: {running})", exitcodes.NO_SESSION)
        found = check(paths)
        if isinstance(found, Unusable):
            code = exitcodes.NO_SESSION if found.stale else exitcodes.SESSION_REFUSED
            raise ChoiceError(found.message, code)
        return found, []
    live, unusable = scan(base)
    reports = [u.message for u in unusable]
    if not live:
        refused = [u for u in unusable if not u.stale]
        if refused:
            raise ChoiceError("; ".join(u.message for u in refused), exitcodes.SESSION_REFUSED)
        hint = "; start one with `tongchuan-tui --detach --input ...`"
        raise ChoiceError("; ".join([*reports, "no live session" + hint]), exitcodes.NO_SESSION)
    if len(live) > 1:
        names = ", ".join(s.paths.name for s in live)
        raise ChoiceError(f"several sessions are running ({names}): name one", exitcodes.USAGE)
    return live[0], reports


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(session: LiveSession, now: float | None = None) -> str:
    """One line for `sessions`: name, state, languages, running time, viewers, input."""
    hello = session.hello
    viewers = "1 viewer" if hello.viewers == 1 else f"{hello.viewers} viewers"
    return (
        f"{hello.name:<12} {hello.state:<8} {hello.source}→{hello.target:<4} "
        f"{_duration(session.running_s(now)):>8}  {viewers:<10} pid {hello.pid}  {hello.input}"
    )


def to_json(session: LiveSession, now: float | None = None) -> dict[str, object]:
    """A live session as `sessions --json` shows it (under "live")."""
    hello = session.hello
    return {
        "name": hello.name,
        "state": hello.state,
        "input": hello.input,
        "source": hello.source,
        "target": hello.target,
        "running_s": round(session.running_s(now), 1),
        "viewers": hello.viewers,
        "pid": hello.pid,
        "journal": hello.journal,
    }


def safe_scan() -> tuple[list[LiveSession], list[str]]:
    """`scan`, with an unsafe runtime dir reported rather than raised: (live sessions, one-line reports)."""
    try:
        live, unusable = scan()
    except UnsafePathError as exc:
        return [], [str(exc)]
    return live, [u.message for u in unusable]
