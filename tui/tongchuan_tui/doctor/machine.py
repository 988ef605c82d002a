"""The doctor's checks of this machine: credentials, audio capture, the journal directory, the terminal, and
a port for --serve. Each returns a `Check`; none needs the network."""

from __future__ import annotations

import locale
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tongchuan_tui import exitcodes
from tongchuan_tui.api.credentials import Credentials, CredentialsError, mask
from tongchuan_tui.doctor.report import FAIL, INFO, OK, WARN, Check

MIN_FREE_BYTES = 200 * 1024 * 1024
"""Below this the journal directory is flagged: a day of journals and a recording fit comfortably above."""
MIN_COLUMNS = 80


def credentials_check(found: Credentials | CredentialsError) -> Check:
    """Where the keys came from, masked; a failure says how to set them."""
    if isinstance(found, CredentialsError):
        return Check("credentials", FAIL, "none found", action=str(found), exit_code=exitcodes.NO_CREDENTIALS)
    token = ", with a session token (temporary key)" if found.token else ""
    warning = "; ".join(found.warnings)
    return Check(
        "credentials",
        WARN if warning else OK,
        f"SecretId {mask(found.secret_id)} from {found.origin}{token}",
        action=warning or None,
        details={"secret_id": mask(found.secret_id), "origin": found.origin, "token": bool(found.token)},
    )


def audio_check() -> Check:
    """The capture devices PortAudio sees; without PyAudio, which system package to install for it."""
    from tongchuan_tui.audio.devices import NO_DEVICE_HINT, list_devices, pyaudio_problem

    problem = pyaudio_problem()
    if problem is not None:
        return Check(
            "audio",
            WARN,
            "no microphone capture (PyAudio/PortAudio missing); files, URLs and --input - still work",
            action=problem,
            details={"pyaudio": False, "devices": []},
        )
    devices = list_devices()
    names = [f"{d.index}: {d.name}" for d in devices]
    if not devices:
        return Check(
            "audio",
            WARN,
            "no capture device",
            action=NO_DEVICE_HINT,
            details={"pyaudio": True, "devices": []},
        )
    default = next((d.name for d in devices if d.is_default), None)
    summary = f"{len(devices)} capture device{'s' if len(devices) != 1 else ''}"
    summary += f", default {default!r}" if default else ", no default (use --input mic:INDEX)"
    return Check("audio", OK, summary, details={"pyaudio": True, "devices": names, "default": default})


def _existing_parent(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def journal_check(directory: Path | None) -> Check:
    """Whether journals can be written where they go, and the free space there (None: journaling is off)."""
    if directory is None:
        return Check("journal", INFO, "journaling is off (--no-log / journal = false)")
    where = _existing_parent(directory)
    try:
        # The directory is made on the first session; a temporary file proves it (or its parent) writable.
        with tempfile.NamedTemporaryFile(dir=where, prefix=".doctor-", delete=True):
            pass
    except OSError as exc:
        return Check(
            "journal",
            FAIL,
            f"{directory} is not writable ({exc.strerror or exc})",
            action="fix its permissions, or choose another directory with journal_dir (config) or --log PATH",
            exit_code=exitcodes.JOURNAL_ERROR,
            details={"directory": str(directory)},
        )
    free = shutil.disk_usage(where).free
    details = {"directory": str(directory), "free_bytes": free, "exists": directory.exists()}
    summary = f"{directory} writable, {free / 1e9:.1f} GB free"
    if free < MIN_FREE_BYTES:
        return Check(
            "journal",
            WARN,
            summary,
            action="free some space: journals stop when the disk is full",
            details=details,
        )
    return Check("journal", OK, summary, details=details)


def terminal_check() -> Check:
    """Terminal size, colours and whether the locale is UTF-8 (the UI draws CJK text and box lines)."""
    from rich.console import Console

    encoding = locale.getpreferredencoding(False)
    utf8 = encoding.replace("-", "").lower() == "utf8"
    tty = sys.stdout.isatty()
    size = shutil.get_terminal_size(fallback=(0, 0))
    colours = Console().color_system if tty else None
    details = {
        "tty": tty,
        "columns": size.columns,
        "lines": size.lines,
        "colours": colours,
        "encoding": encoding,
        "term": os.environ.get("TERM"),
    }
    if not utf8:
        return Check(
            "terminal",
            WARN,
            f"locale encoding is {encoding}, not UTF-8: Chinese text cannot be shown",
            action="set a UTF-8 locale, e.g. export LANG=C.UTF-8",
            details=details,
        )
    if not tty:
        return Check(
            "terminal",
            INFO,
            "not a terminal (fine for --plain, --jsonl and a service); UTF-8",
            details=details,
        )
    summary = f"{size.columns}×{size.lines}, colours: {colours or 'none'}, UTF-8"
    if size.columns < MIN_COLUMNS:
        return Check(
            "terminal", WARN, summary, action=f"the UI wants at least {MIN_COLUMNS} columns", details=details
        )
    return Check("terminal", OK, summary, details=details)


def port_check(host: str, port: int) -> Check:
    """Whether `--serve HOST:PORT` could listen now, bound as the live server binds (and released at once)."""
    from tongchuan_tui.outputs.address import port_is_free, url_host

    where = f"{url_host(host)}:{port}"
    details = {"host": host, "port": port}
    if not port_is_free(host, port):
        return Check(
            "serve",
            FAIL,
            f"cannot listen on {where} (taken, or not an address of this machine)",
            action="choose another port (or stop what holds it), or a host address of this machine",
            exit_code=exitcodes.USAGE,
            details=details,
        )
    return Check("serve", OK, f"{where} is free" if port else f"{where}: any free port", details=details)
