"""Sentences laid out as screen lines, without Textual: wrapping, row alignment, and line lookup.

Side-by-side and stacked panes share one `TranscriptRows`: each sentence is wrapped to each pane's width
and both are padded to the taller, so row N starts on the same line in both panes and they scroll together.
A sentence's width depends only on the pane and on its own start (from the first hour on, the timestamp
column is wider), never on the other sentences: so no row is re-wrapped when a later one crosses the hour.

The rows follow a `TranscriptModel` incrementally (`sync`): a revision re-wraps only its own sentence, a new
sentence is appended, evicted ones are dropped from the front, and the line offsets after a changed row
move only when its height changed. Revisions are almost always of the newest sentence, so a redraw costs
O(changed sentences), not O(sentences kept). `sync` says which lines changed, so panes repaint only those.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.ui.model import TranscriptModel
from tongchuan_tui.ui.text import HOUR_MS, wrap_cells

KIND_ALIGNED = "aligned"
"""Source and translation in two panes, rows padded to the same height."""
KIND_INTERLEAVED = "interleaved"
"""One pane: each sentence's source lines, then its translation lines."""
KIND_LARGE = "large"
"""One pane: translations only, a blank line between them (the audience screen)."""

PLACEHOLDER = "…"
"""Shown for a translation held back until its sentence is final."""

COMPACT_AFTER = 256
"""Dropped rows are removed from the front of the lists in batches of at least this many (amortised O(1))."""


@dataclass(frozen=True, slots=True)
class Row:
    """One sentence's lines (its first line is `TranscriptRows.tops[i]`)."""

    sentence: Sentence
    source: tuple[str, ...]
    target: tuple[str, ...]
    height: int
    """0 for a sentence not shown at all (a draft on the audience screen while translations wait)."""
    tag: str
    """The revision tag appended to the source while the sentence is still revised (e.g. `v3`)."""
    source_text: str
    target_text: str
    """The texts as wrapped (tag and placeholder included), to reuse the wrapping when only one changes."""


@dataclass(frozen=True, slots=True)
class Damage:
    """The screen lines (in the rows' line numbers after a `sync`) that may show something new."""

    start: int
    stop: int | None
    """Exclusive end; None: everything from `start` on (heights changed, or rows were dropped in front)."""


def revision_tag(sentence: Sentence) -> str:
    """`vN` while a sentence may still change, empty once final, `cut` if a rollover left it incomplete."""
    if sentence.interrupted:
        return "cut"
    return "" if sentence.final else f"v{sentence.se_ver}"


def layout_row(
    sentence: Sentence, old: Row | None, kind: str, source_width: int, target_width: int, final_only: bool
) -> Row:
    """Wrap one sentence for a layout kind, reusing `old`'s wrapping of a text that did not change."""
    held_back = final_only and not sentence.final
    tag = revision_tag(sentence)
    if kind == KIND_LARGE and held_back:
        return Row(sentence, (), (), 0, tag, "", "")
    target_text = PLACEHOLDER if held_back else sentence.target_text
    # A wrapping always has at least one line: an empty one is a row that wrapped nothing (not shown).
    if old is not None and old.target and old.target_text == target_text:
        target = old.target
    else:
        target = wrap_cells(target_text, target_width)
    if kind == KIND_LARGE:
        return Row(sentence, (), target, len(target) + 1, tag, "", target_text)
    source_text = f"{sentence.source_text} {tag}" if tag else sentence.source_text
    if old is not None and old.source and old.source_text == source_text:
        source = old.source
    else:
        source = wrap_cells(source_text, source_width)
    height = len(source) + len(target) if kind == KIND_INTERLEAVED else max(len(source), len(target))
    return Row(sentence, source, target, height, tag, source_text, target_text)


class TranscriptRows:
    """The rows of the sentences kept on screen, for one layout kind and two text widths.

    Internally there is one entry per sentence kept (hidden ones with height 0), numbered by the
    transcript's ordinals, with absolute line offsets; entries dropped from the front are removed lazily.
    """

    def __init__(self) -> None:
        self._rows: list[Row] = []
        self._tops: list[int] = []
        """Absolute first line of each entry; a row's line number is its top minus the first live top."""
        self._start = 0
        """Index of the first live entry (those before it were dropped and await compaction)."""
        self._base = 0
        """The ordinal of `_rows[0]`."""
        self._end = 0
        """The absolute line after the last row."""
        self._ordinals: dict[str, int] = {}
        self.params: tuple[str, int, int, bool, int, int] | None = None
        """(kind, source width, target width, final-only, source and target width of sentences starting from
        the first hour on) the rows were laid out for; None before."""
        self.generation = -1
        """The transcript generation the rows show."""

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def _origin(self) -> int:
        return self._tops[self._start] if self._start < len(self._rows) else self._end

    @property
    def total_lines(self) -> int:
        """Lines of all rows together."""
        return self._end - self._origin

    @property
    def rows(self) -> list[Row]:
        """The rows shown, oldest first (O(rows): for tests and tools, not for drawing)."""
        return [row for row in self._rows[self._start :] if row.height]

    @property
    def tops(self) -> list[int]:
        """The first line of each of `rows` (O(rows))."""
        origin = self._origin
        live = zip(self._rows[self._start :], self._tops[self._start :], strict=True)
        return [top - origin for row, top in live if row.height]

    def locate(self, line: int) -> tuple[Row, int] | None:
        """The row holding screen line `line` and the line's index within the row, or None past the end."""
        origin = self._origin
        if line < 0 or line >= self._end - origin:
            return None
        wanted = origin + line
        # Hidden rows share their top with the next row, so the last top <= wanted is never a hidden row.
        index = bisect_right(self._tops, wanted, lo=self._start) - 1
        return self._rows[index], wanted - self._tops[index]

    # -- laying out --------------------------------------------------------------------------------------

    def rebuild(
        self,
        sentences: Sequence[Sentence],
        *,
        kind: str,
        source_width: int,
        target_width: int,
        final_only: bool,
        source_width_late: int | None = None,
        target_width_late: int | None = None,
        generation: int = -1,
        first_ordinal: int = 0,
    ) -> None:
        """Lay all the sentences out again (a text whose wrapping width did not change is not re-wrapped).

        `*_width_late` are the widths for sentences that start from the first hour on (None: the same).
        `generation` and `first_ordinal` say which transcript state `sentences` is, for later `sync`s.
        """
        params = (
            kind,
            source_width,
            target_width,
            final_only,
            source_width if source_width_late is None else source_width_late,
            target_width if target_width_late is None else target_width_late,
        )
        # Wrapping depends only on text and width: after a layout or final-only change, reuse what still fits.
        old = self.params
        reuse = old is not None and old[1:3] + old[4:] == params[1:3] + params[4:]
        previous = {row.sentence.key: row for row in self._rows[self._start :]} if reuse else {}
        self._rows, self._tops, self._ordinals = [], [], {}
        self._start, self._end, self._base = 0, 0, first_ordinal
        self.params = params
        for sentence in sentences:
            self._append(self._layout(params, sentence, previous.get(sentence.key)))
        self.generation = generation

    def sync(self, transcript: TranscriptModel) -> Damage | None:
        """Catch up with `transcript` since the last `rebuild`/`sync`; the lines that changed, or None.

        Needs a `rebuild` first (for the layout parameters).
        """
        if self.params is None:
            raise RuntimeError("TranscriptRows.sync before rebuild")
        if transcript.generation == self.generation:
            return None
        old_origin = self._origin
        dropped = self._drop_before(transcript.evicted)
        first: int | None = None
        """The first absolute line that changed, and the end of the changed lines (None: to the end)."""
        stop: int | None = 0
        for sentence in transcript.changed_since(self.generation):
            ordinal = self._ordinals.get(sentence.key)
            if ordinal is None:
                continue  # new: appended below
            index = ordinal - self._base
            old = self._rows[index]
            if old.sentence is sentence:
                continue
            row = self._layout(self.params, sentence, old)
            self._rows[index] = row
            top = self._tops[index]
            first = top if first is None else min(first, top)
            delta = row.height - old.height
            if delta:
                tops = self._tops
                for later in range(index + 1, len(tops)):
                    tops[later] += delta
                self._end += delta
                stop = None
            elif stop is not None:
                stop = max(stop, top + row.height)
        next_ordinal = self._base + len(self._rows)
        new = transcript.admitted - max(next_ordinal, transcript.evicted)
        if new > 0:
            if not self._ordinals:
                # Everything shown was evicted (or nothing was): number from the transcript's first again.
                self._rows, self._tops, self._start = [], [], 0
                self._base = transcript.admitted - new
            first = self._end if first is None else min(first, self._end)
            stop = None
            for sentence in transcript.newest(new):
                self._append(self._layout(self.params, sentence, None))
        self.generation = transcript.generation
        if dropped or self._origin != old_origin:
            return Damage(0, None)
        if first is None:
            return None
        origin = self._origin
        return Damage(first - origin, None if stop is None else stop - origin)

    @staticmethod
    def _layout(params: tuple[str, int, int, bool, int, int], sentence: Sentence, old: Row | None) -> Row:
        """Lay one sentence out at the widths for its start (reusing `old`'s wrapping where it still fits)."""
        kind, source_width, target_width, final_only, source_late, target_late = params
        late = sentence.start_ms >= HOUR_MS
        if late:
            source_width, target_width = source_late, target_late
        if old is not None and (old.sentence.start_ms >= HOUR_MS) != late:
            old = None  # a revision moved its start across the hour: wrapped for another width
        return layout_row(sentence, old, kind, source_width, target_width, final_only)

    def _append(self, row: Row) -> None:
        self._ordinals[row.sentence.key] = self._base + len(self._rows)
        self._rows.append(row)
        self._tops.append(self._end)
        self._end += row.height

    def _drop_before(self, ordinal: int) -> bool:
        """Drop the rows of sentences numbered below `ordinal` (evicted from the transcript)."""
        dropped = False
        while self._start < len(self._rows) and self._base + self._start < ordinal:
            key = self._rows[self._start].sentence.key
            if self._ordinals.get(key) == self._base + self._start:
                del self._ordinals[key]
            self._rows[self._start] = self._rows[-1]  # let the dropped row go now, not at compaction
            self._start += 1
            dropped = True
        if self._start >= COMPACT_AFTER and self._start * 2 >= len(self._rows):
            del self._rows[: self._start]
            del self._tops[: self._start]
            self._base += self._start
            self._start = 0
        return dropped
