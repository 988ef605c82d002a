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
    """One sentence's lines (its first line is `TranscriptRows.tops[i]`)."""

    sentence: Sentence
    source: tuple[str, ...]
    target: tuple[str, ...]
    height: int
    tag: str
    """The revision tag appended to the source while the sentence is still revised (e.g. `v3`)."""
    source_text: str
    target_text: str
    """The texts as wrapped (tag and placeholder included), to reuse the wrapping when only one changes."""


def revision_tag(sentence: Sentence) -> str:
    """`vN` while a sentence may still change, empty once final."""
    return "" if sentence.final else f"v{sentence.se_ver}"


class TranscriptRows:
    """The rows of the sentences kept on screen, for one layout kind and two text widths.

    Rebuilding is incremental: a sentence whose revision has not changed keeps its row, and a revision that
    changed only one text keeps the other's wrapping, so a redraw costs a pass over the rows, not a re-wrap.
    """

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.tops: list[int] = []
        self.total_lines = 0
        self.signature: tuple[object, ...] = ()
        """What the rows were built from (generation, widths, kind, final-only); rebuild when it changes."""
        self._by_key: dict[str, Row] = {}
        self._params: tuple[object, ...] = ("", 0, 0, False)

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
        """Lay the sentences out again (cheap for unchanged sentences: their rows are kept)."""
        params = (kind, source_width, target_width, final_only)
        unchanged = params == self._params
        # Wrapping depends only on text and width: after a layout or final-only change, reuse what still fits.
        previous = self._by_key if self._params[1:3] == params[1:3] else {}
        by_key: dict[str, Row] = {}
        rows: list[Row] = []
        tops: list[int] = []
        top = 0
        for sentence in sentences:
            old = previous.get(sentence.key)
            if unchanged and old is not None and old.sentence is sentence:
                row: Row | None = old
            else:
                row = self._layout(sentence, old, kind, source_width, target_width, final_only)
            if row is None:
                continue
            by_key[sentence.key] = row
            rows.append(row)
            tops.append(top)
            top += row.height
        self._by_key = by_key
        self._params = params
        self.rows = rows
        self.tops = tops
        self.total_lines = top
        self.signature = signature

    @staticmethod
    def _layout(
        sentence: Sentence, old: Row | None, kind: str, source_width: int, target_width: int, final_only: bool
    ) -> Row | None:
        held_back = final_only and not sentence.final
        if kind == KIND_LARGE and held_back:
            return None
        tag = revision_tag(sentence)
        target_text = PLACEHOLDER if held_back else sentence.target_text
        if old is not None and old.target_text == target_text:
            target = old.target
        else:
            target = wrap_cells(target_text, target_width)
        if kind == KIND_LARGE:
            return Row(sentence, (), target, len(target) + 1, tag, "", target_text)
        source_text = f"{sentence.source_text} {tag}" if tag else sentence.source_text
        if old is not None and old.source_text == source_text:
            source = old.source
        else:
            source = wrap_cells(source_text, source_width)
        height = len(source) + len(target) if kind == KIND_INTERLEAVED else max(len(source), len(target))
        return Row(sentence, source, target, height, tag, source_text, target_text)

    def locate(self, line: int) -> tuple[Row, int] | None:
        """The row holding screen line `line` and the line's index within the row, or None past the end."""
        if line < 0 or line >= self.total_lines:
            return None
        index = bisect_right(self.tops, line) - 1
        return self.rows[index], line - self.tops[index]
