"""Turning an `--input` value into an audio source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from tongchuan_tui.audio.source import AudioInputError, AudioSource

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def open_source(spec: str, *, loop: bool = False, stdin: IO[bytes] | None = None) -> AudioSource:
    """The source for `spec` (not yet started): "mic", "mic:<index>", "mic:<name>", "-", a URL or a file.

    `loop` repeats a file (for demos); `stdin` replaces sys.stdin.buffer for "-". Raises AudioInputError for
    a spec that cannot be right whatever the machine (e.g. "mic:"); everything else is checked by `start`.
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

        return StdinSource(stdin)
    from tongchuan_tui.audio.file import FileSource

    if _URL.match(spec):
        parts = urlsplit(spec)
        if parts.scheme.lower() == "file":
            return FileSource(Path(unquote(parts.path)), loop=loop)
        from tongchuan_tui.audio.url import UrlSource

        return UrlSource(spec)
    return FileSource(Path(spec).expanduser(), loop=loop)
