"""Cue scripts: the sentences the emulator "recognises", laid on the audio time it receives.

A cue script is JSON: a list of cues `{"start_ms", "end_ms", "source", "target"}`, or an object
`{"cues": [...], "duration_ms": N, "source": "zh", "target": "en", "description": "..."}` (all but cues
optional; duration_ms is where the timeline wraps with --loop-cues; source/target name the pair it is for).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongchuan_tui.emulator.sentences import Draft
from tongchuan_tui.emulator.wire import LANGUAGE_PAIRS

#: Gap added after the last cue when a script gives no duration_ms, so a looped script pauses between rounds.
DEFAULT_TAIL_MS = 1000
#: With TranslateTime 2 the translation trails the recognised source by this much audio.
TRANSLATION_LAG_MS = 600
CUE_KEYS = frozenset({"start_ms", "end_ms", "source", "target"})
SCRIPT_KEYS = frozenset({"duration_ms", "cues", "description", "source", "target"})

_CJK_OR_WORD = re.compile(r"\S+\s*|\s+")


class CueError(ValueError):
    """A cue script that cannot be used; the message names the file, the cue and what is wrong."""


@dataclass(frozen=True, slots=True)
class Cue:
    """One sentence of the script: spoken from start_ms to end_ms of the timeline."""

    start_ms: int
    end_ms: int
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A cue placed on the absolute (per-credential) timeline; `round` counts loops."""

    start_ms: int
    end_ms: int
    cue: Cue
    round: int


@dataclass(frozen=True, slots=True)
class CueScript:
    """A validated cue script."""

    cues: tuple[Cue, ...]
    duration_ms: int
    source_language: str | None = None
    target_language: str | None = None

    @classmethod
    def from_json(cls, obj: Any, where: str = "cue script") -> CueScript:
        """Validate a parsed cue script; raises CueError naming what is wrong."""
        duration: Any = None
        languages: list[Any] = [None, None]
        if isinstance(obj, dict):
            unknown = sorted(set(obj) - SCRIPT_KEYS)
            if unknown:
                raise CueError(
                    f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(SCRIPT_KEYS))})"
                )
            duration = obj.get("duration_ms")
            languages = [obj.get("source"), obj.get("target")]
            if not all(lang is None or lang in LANGUAGE_PAIRS for lang in languages):
                raise CueError(f"{where}: source and target must be one of {', '.join(LANGUAGE_PAIRS)}")
            obj = obj.get("cues")
        if not isinstance(obj, list) or not obj:
            raise CueError(f"{where}: expected a non-empty list of cues, or an object with a 'cues' list")
        cues = tuple(_cue(item, f"{where}: cue {i}") for i, item in enumerate(obj))
        for i, (a, b) in enumerate(itertools.pairwise(cues), start=1):
            if b.start_ms < a.end_ms:
                raise CueError(f"{where}: cue {i} starts at {b.start_ms} ms, before cue {i - 1} ends")
        last_end = cues[-1].end_ms
        if duration is None:
            duration = last_end + DEFAULT_TAIL_MS
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < last_end:
            raise CueError(f"{where}: duration_ms must be an integer >= the last cue's end_ms ({last_end})")
        return cls(
            cues=cues, duration_ms=duration, source_language=languages[0], target_language=languages[1]
        )

    @classmethod
    def load(cls, path: Path) -> CueScript:
        """Read and validate a cue script file."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CueError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        return cls.from_json(obj, str(path))

    def occurrences(self, start_ms: int, end_ms: int, *, loop: bool) -> Iterator[Occurrence]:
        """Cues whose start falls in [start_ms, end_ms) of the absolute timeline (repeating when `loop`)."""
        if end_ms <= start_ms:
            return
        rounds = (
            range(start_ms // self.duration_ms, (end_ms - 1) // self.duration_ms + 1) if loop else range(1)
        )
        for n in rounds:
            base = n * self.duration_ms
            for cue in self.cues:
                at = base + cue.start_ms
                if start_ms <= at < end_ms:
                    yield Occurrence(at, base + cue.end_ms, cue, n)


def _cue(item: Any, where: str) -> Cue:
    if not isinstance(item, dict):
        raise CueError(f"{where}: expected an object with start_ms, end_ms, source, target")
    unknown = sorted(set(item) - CUE_KEYS)
    if unknown:
        raise CueError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(CUE_KEYS))})")
    missing = sorted(CUE_KEYS - set(item))
    if missing:
        raise CueError(f"{where}: missing {missing[0]!r}")
    start, end, source, target = item["start_ms"], item["end_ms"], item["source"], item["target"]
    for name, value in (("start_ms", start), ("end_ms", end)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CueError(f"{where}: {name} must be a non-negative integer")
    if end <= start:
        raise CueError(f"{where}: end_ms ({end}) must be greater than start_ms ({start})")
    if not isinstance(source, str) or not source.strip():
        raise CueError(f"{where}: source must be non-empty text")
    if not isinstance(target, str):
        raise CueError(f"{where}: target must be text")
    return Cue(start, end, source, target)


def text_units(text: str) -> list[str]:
    """The pieces a sentence grows by: words (with their trailing space) when spaced, else characters."""
    if " " in text.strip():
        return _CJK_OR_WORD.findall(text)
    return list(text)


def text_prefix(text: str, fraction: float) -> str:
    """The part of `text` heard after `fraction` (0..1) of its duration; at least one unit once started."""
    if fraction >= 1.0:
        return text
    if fraction <= 0.0:
        return ""
    units = text_units(text)
    count = max(1, math.ceil(len(units) * fraction))
    return "".join(units[:count]).rstrip() if count < len(units) else text


def render_cue(
    cue: Cue, start_ms: int, end_ms: int, position_ms: int, *, translate_time: int, closed: bool
) -> Draft:
    """The sentence of `cue` (placed at start_ms..end_ms of the session) once `position_ms` of audio arrived.

    `closed` means the session ended: a sentence still growing becomes final with what was heard.
    """
    span = end_ms - start_ms
    heard = min(1.0, (position_ms - start_ms) / span)
    final = heard >= 1.0 or closed
    source = text_prefix(cue.source, heard)
    if translate_time == 0:
        target = ""
    elif final:
        target = text_prefix(cue.target, heard)
    elif translate_time == 1:
        target = ""
    else:
        target = text_prefix(cue.target, (position_ms - start_ms - TRANSLATION_LAG_MS) / span)
    return Draft(start_ms, min(end_ms, position_ms), source, target, final)
