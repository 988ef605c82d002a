"""Text helpers for the UI that need no Textual: terminal-cell wrapping and time formats."""

from __future__ import annotations

import math
import re

from rich.cells import cell_len, get_character_cell_size

# Break opportunities: runs of spaces, words of narrow characters, and each wide (CJK) character on its own.
# Closing punctuation sticks to what precedes it, so no line starts with "，" or ")".
_CLOSERS = "，。、；：！？）》」』】〕”’,.;:!?)\\]}%…"
_WIDE = "\u2e80-\U0010ffff"
_TOKEN = re.compile(rf"\s+|[{_WIDE}][{_CLOSERS}]*|[^\s{_WIDE}]+[{_CLOSERS}]*")


HOUR_MS = 3_600_000
"""From this session time on, a timestamp has an hours field (and takes two more cells)."""


def format_timestamp(ms: int) -> str:
    """A position on the session timeline: `MM:SS` under an hour, `H:MM:SS` from then on."""
    total = max(0, ms) // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def format_elapsed(seconds: float) -> str:
    """Wall time elapsed, always `H:MM:SS` so the header does not jump when the first hour passes."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def billable_minutes(audio_ms: int) -> int:
    """Minutes of audio as billed: every started minute counts."""
    return math.ceil(max(0, audio_ms) / 60_000)


def _hard_split(token: str, width: int) -> list[str]:
    """Cut a token wider than a line into pieces of at most `width` cells."""
    pieces: list[str] = []
    piece = ""
    piece_width = 0
    for char in token:
        size = get_character_cell_size(char)
        if piece and piece_width + size > width:
            pieces.append(piece)
            piece, piece_width = "", 0
        piece += char
        piece_width += size
    if piece:
        pieces.append(piece)
    return pieces


def wrap_cells(text: str, width: int) -> tuple[str, ...]:
    """Wrap `text` to lines of at most `width` terminal cells (CJK counts 2); always at least one line."""
    width = max(2, width)
    if "\n" not in text and cell_len(text) <= width:
        return (text.rstrip(),)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        line_width = 0
        for token in _TOKEN.findall(paragraph):
            token_width = cell_len(token)
            if token.isspace():
                if line and line_width + token_width <= width:
                    line += token
                    line_width += token_width
                continue
            if line and line_width + token_width > width:
                lines.append(line.rstrip())
                line, line_width = "", 0
            if token_width > width:
                *full, token = _hard_split(token, width)
                lines.extend(full)
                token_width = cell_len(token)
            line += token
            line_width += token_width
        lines.append(line.rstrip())
    return tuple(lines)
