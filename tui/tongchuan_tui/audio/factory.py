"""Turning an `--input` value into an audio source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from tongchuan_tui.audio.source import AudioInputError, AudioSource

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def redact_url(url: str) -> str:
    """The URL without what may be a secret: user info, query, fragment, and an RTMP stream key."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    path = parts.path
    if parts.scheme.lower().startswith("rtmp") and path.count("/") >= 2:
        path = path.rsplit("/", 1)[0] + "/…"  # the last segment of an RTMP path is the stream key
    return f"{parts.scheme}://{host}{path}"


def redact_input(spec: str) -> str:
    """An `--input` value fit to show or journal: a URL redacted (`redact_url`), anything else as given."""
    return redact_url(spec.strip()) if _URL.match(spec.strip()) else spec


def open_source(
    spec: str,
    *,
    loop: bool = False,
    stdin: IO[bytes] | None = None,
    stdin_live: bool | None = None,
    url_give_up_s: float | None = None,
) -> AudioSource:
    """The source for `spec` (not yet started): "mic", "mic:<index>", "mic:<name>", "-", a URL or a file.

    `loop` repeats a file (for demos); `stdin` replaces sys.stdin for "-", and `stdin_live` overrides
    whether it is live (None: live unless a regular file); `url_give_up_s` is how long a URL may stay
    unreachable before the input fails. Raises AudioInputError for a spec that cannot be right whatever
    the machine (e.g. "mic:"); everything else is checked by `start`.
    """
    spec = spec.strip()
    if not spec:
        raise AudioInputError("empty --input; give mic, mic:<index or name>, -, a file or a URL")
    if spec == "mic" or spec.startswith("mic:"):
        from tongchuan_tui.audio.mic import MicSource

        selector = spec[4:].strip() if spec.startswith("mic:") else None
        if selector == "":
            raise AudioInputError(
                "--input mic: needs a device index or name, e.g. mic:1 (see tongchuan-tui devices)"
            )
        return MicSource(selector)
    if spec == "-":
        from tongchuan_tui.audio.stdin import StdinSource

        return StdinSource(stdin, live=stdin_live)
    from tongchuan_tui.audio.file import FileSource

    if _URL.match(spec):
        parts = urlsplit(spec)
        if parts.scheme.lower() == "file":
            return FileSource(Path(unquote(parts.path)), loop=loop)
        from tongchuan_tui.audio.url import UrlSource

        if url_give_up_s is None:
            return UrlSource(spec)
        return UrlSource(spec, give_up_after_s=url_give_up_s)
    return FileSource(Path(spec).expanduser(), loop=loop)
