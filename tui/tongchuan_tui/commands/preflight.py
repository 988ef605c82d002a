"""Start-up checks of a run, before anything starts: each gives the one-line reason it cannot go on, or None.

The terminal the UI needs, a microphone or file input that cannot work, a journal or recording that cannot be
written: said at once, rather than found when the session (or the UI over it) is already running.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from tongchuan_tui.runtime import RunPlan


def terminal_problem(headless: bool) -> str | None:
    """Why the full-screen UI cannot run here (no terminal to draw on or read keys from), if it cannot.

    The UI reads keys from stdin and draws on stderr; under cron, systemd, `ssh host cmd` or a pipe it would
    write escape codes into a log and wait for keys that never come.
    """
    if headless:
        return None
    for name, stream in (("stdin", sys.__stdin__), ("stderr", sys.__stderr__)):
        try:
            is_tty = stream is not None and os.isatty(stream.fileno())
        except (OSError, ValueError):
            is_tty = False
        if not is_tty:
            return (
                f"no terminal for the UI ({name} is not a terminal): add --plain or --jsonl to run "
                "headless, or run it in a terminal (ssh -t)"
            )
    return None


def preflight_input(spec: str) -> str | None:
    """Before the UI takes the terminal: the one-line reason a microphone or file input cannot work, if any.

    (Headless runs find the same problems when the source starts; the UI would show them in a dialog
    over an empty transcript, so the cheap checks are made first.)
    """
    from tongchuan_tui.audio.source import AudioInputError

    spec = spec.strip()
    try:
        if spec == "mic" or spec.startswith("mic:"):
            from tongchuan_tui.audio.devices import list_devices, resolve_device

            resolve_device(list_devices(), spec[4:].strip() or None if spec.startswith("mic:") else None)
        elif spec != "-" and "://" not in spec:
            from tongchuan_tui.audio.decode import open_audio

            path = Path(spec).expanduser()
            if not path.is_file():
                return f"{spec}: no such file; check the path given to --input"
            container, _ = open_audio(str(path), what=spec)
            container.close()
    except AudioInputError as exc:
        return str(exc)
    return None


def output_paths_problem(plan: RunPlan, *, from_flag: bool) -> str | None:
    """Before anything starts: the one-line reason the journal or the audio recording cannot be written."""
    if plan.journal_path is not None:
        if from_flag:
            what, fix = "--log", "give another path, or --no-log"
        else:
            what, fix = "journal_dir", "set journal_dir to a folder you can write, or give --no-log"
        problem = writable_problem(plan.journal_path, what, fix)
        if problem is not None:
            return problem
    if plan.record_audio is not None:
        return writable_problem(plan.record_audio.expanduser(), "--record-audio", "give another path")
    return None


def writable_problem(path: Path, what: str, fix: str) -> str | None:
    """Why a file cannot be created (or appended to) at `path`, naming `what` gave it; None if it can.

    Tried for real (the folder made, the file opened for appending and removed again if it was new), as
    permissions alone do not tell (root, read-only mounts, /proc).
    """
    if path.is_dir():
        return f"{what}: {path} is a folder, not a file; give a file name, {fix}"
    folder = path.parent
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        return f"{what}: {blocker} is a file, not a folder; {fix}"
    existed = path.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
    except OSError as exc:
        return f"{what}: {path} cannot be written ({exc.strerror or exc}); {fix}"
    if not existed:
        with contextlib.suppress(OSError):
            path.unlink()
    return None
