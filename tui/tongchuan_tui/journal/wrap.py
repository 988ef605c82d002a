"""Subtitle line wrapping for mixed Latin and CJK text.

Conventions: at most 42 characters per line for Latin-script text; full-width (CJK) characters are wider and
denser, so a line holds at most 18 of them (Netflix uses 16 for Chinese and Korean, broadcasters up to 20).
Both are one budget: a line is 42 units wide, a narrow character is 1 unit, a wide one 42/18 units, so mixed
text ("我们用 Python 写") wraps sensibly. Latin text breaks at spaces; CJK text may break between any two
characters (Korean breaks at spaces), never before closing punctuation (，。！？)
nor after opening punctuation (「《).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

LINE_WIDTH = 42
"""Units (narrow characters) per subtitle line."""
CJK_CHARS_PER_LINE = 18
WIDE_UNITS = LINE_WIDTH / CJK_CHARS_PER_LINE

_NO_BREAK_BEFORE = set("，。！？、；：）」』》〉】〕”’…,.!?;:)]}%·ー～")
_NO_BREAK_AFTER = set("（「『《〈【〔“‘([{")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    space_before: bool
    width: float


def char_width(ch: str) -> float:
    """The width of one character in line units."""
    return WIDE_UNITS if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0


def _is_hangul(ch: str) -> bool:
    code = ord(ch)
    return 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def text_width(text: str) -> float:
    """The width of a string in line units."""
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """Text on one line: all whitespace runs (newlines included) collapsed to one space."""
    return " ".join(text.split())


def _tokens(text: str, width: float) -> list[_Token]:
    tokens: list[_Token] = []
    word = ""
    word_space = False
    space = False
    prefix = ""

    def push(piece: str, space_before: bool) -> None:
        nonlocal prefix
        piece = prefix + piece
        prefix = ""
        tokens.append(_Token(piece, space_before, text_width(piece)))

    for ch in clean(text):
        if ch == " ":
            if word:
                push(word, word_space)
                word = ""
            space = True
            continue
        # Han and kana may break anywhere; Hangul, like Latin, breaks at spaces.
        wide = char_width(ch) > 1.0 and not _is_hangul(ch)
        if ch in _NO_BREAK_BEFORE and not space and (word or tokens) and not prefix:
            if word:
                word += ch
            else:
                last = tokens[-1]
                tokens[-1] = _Token(last.text + ch, last.space_before, last.width + char_width(ch))
            continue
        if ch in _NO_BREAK_AFTER:
            if word:
                push(word, word_space)
                word = ""
            if not prefix:
                word_space = space
            prefix += ch
            space = False
            continue
        if wide:
            if word:
                push(word, word_space)
                word = ""
            push(ch, space if not prefix else word_space)
        else:
            if not word:
                word_space = space if not prefix else word_space
            word += ch
        space = False
    if word or prefix:
        push(word, word_space)
    # A token wider than a line is cut into line-sized pieces.
    result: list[_Token] = []
    for token in tokens:
        if token.width <= width:
            result.append(token)
            continue
        piece = ""
        first = True
        for ch in token.text:
            if piece and text_width(piece + ch) > width:
                result.append(_Token(piece, token.space_before and first, text_width(piece)))
                piece, first = "", False
            piece += ch
        if piece:
            result.append(_Token(piece, token.space_before and first, text_width(piece)))
    return result


def _join(tokens: list[_Token]) -> str:
    out = ""
    for i, token in enumerate(tokens):
        out += (" " if token.space_before and i > 0 else "") + token.text
    return out


def _line_width(tokens: list[_Token]) -> float:
    return sum(t.width for t in tokens) + sum(1 for i, t in enumerate(tokens) if i > 0 and t.space_before)


def wrap(text: str, width: float = LINE_WIDTH) -> list[str]:
    """Greedy-wrap text into lines of at most `width` units (see the module docstring)."""
    lines: list[list[_Token]] = []
    for token in _tokens(text, width):
        if lines and _line_width([*lines[-1], token]) <= width + 1e-9:
            lines[-1].append(token)
        else:
            lines.append([token])
    return [_join(line) for line in lines]


def _balanced_pair(text: str, width: float) -> list[str]:
    """Two lines of similar width (subtitle convention) when the text needs exactly two."""
    tokens = _tokens(text, width)
    best: tuple[float, int] | None = None
    for cut in range(1, len(tokens)):
        a, b = _line_width(tokens[:cut]), _line_width(tokens[cut:])
        if a <= width + 1e-9 and b <= width + 1e-9 and (best is None or max(a, b) < best[0]):
            best = (max(a, b), cut)
    if best is None:
        return wrap(text, width)
    cut = best[1]
    return [_join(tokens[:cut]), _join(tokens[cut:])]


def wrap_blocks(text: str, max_lines: int = 2, width: float = LINE_WIDTH) -> list[list[str]]:
    """Wrap text into blocks of at most `max_lines` lines each (one block per subtitle cue)."""
    lines = wrap(text, width)
    if not lines:
        return []
    if len(lines) == 2 and max_lines >= 2:
        return [_balanced_pair(text, width)]
    return [lines[i : i + max_lines] for i in range(0, len(lines), max_lines)]


def spread(lines: list[str], parts: int) -> list[list[str]]:
    """`lines` divided into `parts` consecutive groups as evenly as possible (earlier groups take extras)."""
    total = len(lines)
    bounds = [math.ceil(i * total / parts) for i in range(parts + 1)]
    return [lines[bounds[i] : bounds[i + 1]] for i in range(parts)]
