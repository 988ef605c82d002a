"""Exports a journal's sentences as subtitles (SRT, WebVTT), plain text, Markdown or JSON.

Cues sit on the session timeline (audio time since the input started), in time order and never
overlapping: a cue ends where the next begins, and lasts at least `MIN_CUE_MS` where that does not make it
overlap the next. Text is wrapped by `journal.wrap` (at most 2 lines of about 42 characters per language,
18 for CJK); a sentence too long for one cue becomes consecutive cues, its time shared by text length.
Bilingual cues (`text="both"`) hold the source line(s) then the target line(s). Sentences that were never
finalized (a crashed session) are exported as last known. A sentence with no text in the chosen language
(e.g. no translation) gives no subtitle cue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from tongchuan_tui.journal.reader import Journal
from tongchuan_tui.journal.wrap import clean, spread, text_width, wrap_blocks
from tongchuan_tui.pipeline.events import MarkAdded, Sentence

Format = Literal["srt", "vtt", "txt", "md", "json"]
TextChoice = Literal["target", "source", "both"]
FORMATS: tuple[str, ...] = ("srt", "vtt", "txt", "md", "json")
TEXT_CHOICES: tuple[str, ...] = ("target", "source", "both")

MIN_CUE_MS = 1000
"""A cue is shown at least this long, unless the next cue starts sooner."""
FLOOR_CUE_MS = 200
"""The shortest cue ever written; a next cue starting sooner than this is pushed back."""
MAX_LINES = 2


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle cue: a time span on the session timeline and its lines."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def export(journal: Journal, fmt: str, text: str = "target") -> str:
    """The journal's sentences in `fmt` (srt, vtt, txt, md, json), showing `text` (target, source, both)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if text not in TEXT_CHOICES:
        raise ValueError(f"unknown text choice {text!r}; use one of {', '.join(TEXT_CHOICES)}")
    if fmt == "srt":
        return to_srt(build_cues(journal.sentences, text))
    if fmt == "vtt":
        return to_vtt(build_cues(journal.sentences, text))
    if fmt == "txt":
        return to_txt(journal, text)
    if fmt == "md":
        return to_markdown(journal, text)
    return to_json(journal)


def _texts(sentence: Sentence, text: str) -> tuple[str, str]:
    source = clean(sentence.source_text) if text in ("source", "both") else ""
    target = clean(sentence.target_text) if text in ("target", "both") else ""
    return source, target


def build_cues(sentences: list[Sentence], text: str = "target") -> list[Cue]:
    """Subtitle cues for the sentences (see the module docstring for the rules)."""
    # `sentences` come in timeline order with ties in order of first appearance; a stable sort keeps those
    # ties (never ordered by SeId, which is opaque).
    chosen = [s for s in sentences if any(_texts(s, text))]
    chosen.sort(key=lambda s: s.start_ms)
    cues: list[Cue] = []
    prev_end = 0
    for i, sentence in enumerate(chosen):
        start = max(sentence.start_ms, prev_end, 0)
        end = max(sentence.end_ms, start + MIN_CUE_MS)
        if i + 1 < len(chosen):
            next_start = chosen[i + 1].start_ms
            end = min(end, next_start) if next_start >= start + FLOOR_CUE_MS else start + FLOOR_CUE_MS
        source, target = _texts(sentence, text)
        cues.extend(_split(start, end, _blocks(source, target)))
        prev_end = end
    return cues


def _blocks(source: str, target: str) -> list[tuple[str, ...]]:
    src = wrap_blocks(source, MAX_LINES)
    tgt = wrap_blocks(target, MAX_LINES)
    parts = max(len(src), len(tgt))
    if parts <= 1:
        return [tuple(line for block in (*src, *tgt) for line in block)]
    src_lines = [line for block in src for line in block]
    tgt_lines = [line for block in tgt for line in block]
    return [
        (*a, *b) for a, b in zip(spread(src_lines, parts), spread(tgt_lines, parts), strict=True) if a or b
    ]


def _split(start: int, end: int, blocks: list[tuple[str, ...]]) -> list[Cue]:
    """Consecutive cues sharing [start, end) in proportion to their text widths."""
    weights = [max(1.0, sum(text_width(line) for line in block)) for block in blocks]
    total = sum(weights)
    cues: list[Cue] = []
    at = start
    acc = 0.0
    for i, (block, weight) in enumerate(zip(blocks, weights, strict=True)):
        acc += weight
        stop = end if i == len(blocks) - 1 else max(at + 1, start + round((end - start) * acc / total))
        cues.append(Cue(at, stop, block))
        at = stop
    return cues


def timestamp(ms: int, sep: str = ".") -> str:
    """HH:MM:SS.mmm (SRT uses sep=",")."""
    ms = max(0, ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def clock(ms: int) -> str:
    """HH:MM:SS on the session timeline, for reading."""
    return timestamp(ms)[:8]


def to_srt(cues: list[Cue]) -> str:
    """SubRip: numbered cues, comma milliseconds."""
    out = []
    for n, cue in enumerate(cues, 1):
        # "-->" inside text would read as a timing line.
        lines = "\n".join(line.replace("-->", "->") for line in cue.lines)
        out.append(f"{n}\n{timestamp(cue.start_ms, ',')} --> {timestamp(cue.end_ms, ',')}\n{lines}\n")
    return "\n".join(out)


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT: the header, then cues with dot milliseconds and escaped text."""
    out = ["WEBVTT\n"]
    for cue in cues:
        lines = "\n".join(_vtt_escape(line) for line in cue.lines)
        out.append(f"{timestamp(cue.start_ms)} --> {timestamp(cue.end_ms)}\n{lines}\n")
    return "\n".join(out)


def _timeline(journal: Journal) -> list[Sentence | MarkAdded]:
    items: list[tuple[int, int, Sentence | MarkAdded]] = [(s.start_ms, 0, s) for s in journal.sentences]
    items += [(m.at_ms, 1, m) for m in journal.marks]
    items.sort(key=lambda item: (item[0], item[1]))
    return [item for _, _, item in items]


def _languages(journal: Journal) -> str:
    h = journal.header
    return f"{h.source or '?'} → {h.target or '?'}"


def to_txt(journal: Journal, text: str = "target") -> str:
    """Plain text: a title line, then `[HH:MM:SS] text` per sentence and mark, in time order."""
    h = journal.header
    out = [f"Session {h.started_at_utc} · {_languages(journal)} · input: {h.input}"]
    if not journal.closed:
        out.append("(the session did not end cleanly; sentences are as last known)")
    out.append("")
    for item in _timeline(journal):
        if isinstance(item, MarkAdded):
            out.append(f"[{clock(item.at_ms)}] * mark{': ' + item.label if item.label else ''}")
            continue
        source, target = _texts(item, text)
        lines = [t for t in (source, target) if t]
        if not lines:
            continue
        flag = "" if item.final else " (not final)"
        out.append(f"[{clock(item.start_ms)}] {lines[0]}{flag if len(lines) == 1 else ''}")
        out.extend(f"{' ' * 11}{line}{flag}" for line in lines[1:])
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|~" else ch for ch in text)


def to_markdown(journal: Journal, text: str = "target") -> str:
    """A Markdown document: a title, a table of the session's details, then the transcript."""
    h = journal.header
    started = h.started_at_utc.replace("T", " ").replace("Z", " UTC")
    minutes, seconds = divmod(round(journal.duration_s), 60)
    out = [
        f"# Interpretation session {started}",
        "",
        "| Start | Languages | Input | Duration | Sentences |",
        "|---|---|---|---|---|",
        f"| {started} | {_languages(journal)} | {_md_escape(h.input)} | {minutes}:{seconds:02d} "
        f"| {len(journal.sentences)} |",
        "",
    ]
    if not journal.closed:
        out += ["> The session did not end cleanly (killed or crashed); sentences are as last known.", ""]
    out += ["## Transcript", ""]
    for item in _timeline(journal):
        if isinstance(item, MarkAdded):
            label = f": {_md_escape(item.label)}" if item.label else ""
            out += [f"— *mark at {clock(item.at_ms)}{label}* —", ""]
            continue
        source, target = _texts(item, text)
        if not (source or target):
            continue
        flag = "" if item.final else " *(not final)*"
        lines = [_md_escape(source)] if source else []
        if target:
            lines.append(f"*{_md_escape(target)}*" if source else _md_escape(target))
        first = f"**{clock(item.start_ms)}** {lines[0]}"
        out += ["  \n".join([first, *lines[1:]]) + flag, ""]
    return "\n".join(out)


def to_json(journal: Journal) -> str:
    """JSON: the header, then every sentence (both texts, times, whether final), marks and gaps."""
    header: dict[str, Any] = journal.header.to_json()
    header.pop("type", None)
    document = {
        "header": header,
        "closed": journal.closed,
        "duration_s": journal.duration_s,
        "skipped_lines": journal.skipped_lines,
        "sentences": [
            {
                "key": s.key,
                "se_id": s.se_id,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "start": timestamp(s.start_ms),
                "end": timestamp(s.end_ms),
                "source": s.source_text,
                "target": s.target_text,
                "final": s.final,
            }
            for s in journal.sentences
        ],
        "marks": [{"at_ms": m.at_ms, "label": m.label} for m in journal.marks],
        "gaps": [{"at_ms": g.at_ms, "duration_ms": g.duration_ms, "reason": g.reason} for g in journal.gaps],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
