"""Sentences laid out as screen lines, without Textual: wrapping, row alignment, and line lookup.

Side-by-side and stacked panes share one `TranscriptRows`: each sentence is wrapped to each pane's width
and both are padded to the taller, so row N starts on the same line in both panes and they scroll together.
Wrapped text is cached per sentence revision, so a redraw only re-wraps what changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.ui.text import wrap_cells

KIND_ALIGNED = "aligned"
"""Source and translation in two panes, rows padded to the same height."""
KIND_INTERLEAVED = "interleaved"
"""One pane: each sentence's source lines, then its translation lines."""
KIND_LARGE = "large"
"""One pane: translations only, a blank line between them (the audience screen)."""

PLACEHOLDER = "…"
"""Shown for a translation held back until its sentence is final."""


@dataclass(frozen=True, slots=True)
class Row:
    """One sentence's lines, starting at screen line `top`."""

    sentence: Sentence
    source: tuple[str, ...]
    target: tuple[str, ...]
    height: int
    top: int
    tag: str
    """The revision tag appended to the source while the sentence is still revised (e.g. `v3`)."""


def revision_tag(sentence: Sentence) -> str:
    """`vN` while a sentence may still change, empty once final."""
    return "" if sentence.final else f"v{sentence.se_ver}"


class TranscriptRows:
    """The rows of the sentences kept on screen, for one layout kind and two text widths."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.total_lines = 0
        self._tops: list[int] = []
        self._cache: dict[tuple[str, str], tuple[str, int, tuple[str, ...]]] = {}
        self.signature: tuple[object, ...] = ()
        """What the rows were built from (generation, widths, kind, final-only); rebuild when it changes."""

    def _wrap(self, cache: dict[tuple[str, str], tuple[str, int, tuple[str, ...]]], key: str, column: str,
              text: str, width: int) -> tuple[str, ...]:
        cached = self._cache.get((key, column))
        if cached is not None and cached[0] == text and cached[1] == width:
            lines = cached[2]
        else:
            lines = wrap_cells(text, width)
        cache[(key, column)] = (text, width, lines)
        return lines

    def rebuild(
        self,
        sentences: Sequence[Sentence],
        *,
        kind: str,
        source_width: int,
        target_width: int,
        final_only: bool,
        signature: tuple[object, ...] = (),
    ) -> None:
        """Lay the sentences out again (cheap for unchanged sentences: their wrapping is cached)."""
        cache: dict[tuple[str, str], tuple[str, int, tuple[str, ...]]] = {}
        rows: list[Row] = []
        tops: list[int] = []
        top = 0
        for sentence in sentences:
            held_back = final_only and not sentence.final
            if kind == KIND_LARGE and held_back:
                continue
            tag = revision_tag(sentence)
            target_text = PLACEHOLDER if held_back else sentence.target_text
            target = self._wrap(cache, sentence.key, "target", target_text, target_width)
            if kind == KIND_LARGE:
                source: tuple[str, ...] = ()
                height = len(target) + 1
            else:
                source_text = f"{sentence.source_text} {tag}" if tag else sentence.source_text
                source = self._wrap(cache, sentence.key, "source", source_text, source_width)
                height = len(source) + len(target) if kind == KIND_INTERLEAVED else max(len(source), len(target))
            rows.append(Row(sentence, source, target, height, top, tag))
            tops.append(top)
            top += height
        self._cache = cache
        self.rows = rows
        self._tops = tops
        self.total_lines = top
        self.signature = signature

    def locate(self, line: int) -> tuple[Row, int] | None:
        """The row holding screen line `line` and the line's index within the row, or None past the end."""
        if line < 0 or line >= self.total_lines:
            return None
        index = bisect_right(self._tops, line) - 1
        row = self.rows[index]
        return row, line - row.top
