"""The transcript area: source and translation panes arranged by layout, kept in step, following the tail."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message

from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.ui.rows import KIND_ALIGNED, KIND_INTERLEAVED, KIND_LARGE, TranscriptRows
from tongchuan_tui.ui.widgets.transcript import (
    ROLE_INTERLEAVED,
    ROLE_LARGE,
    ROLE_SOURCE,
    ROLE_TARGET,
    TranscriptPane,
)

LAYOUTS = ("side", "stacked", "interleaved", "translation")
"""What `l` cycles through: side by side, stacked, interleaved bilingual, translation only (large)."""


class TranscriptPanes(Container):
    """Two `TranscriptPane`s sharing one `TranscriptRows`; the layout is a CSS class of this container."""

    class FollowingChanged(Message):
        """The user scrolled away from the live tail, or back to it."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, source_lang: str, target_lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.rows = TranscriptRows()
        self.following = True
        self.layout_name = ""
        self._last_geometry: tuple[object, ...] = ()
        self._built_geometry: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield TranscriptPane(ROLE_SOURCE, id="source-pane")
        yield TranscriptPane(ROLE_TARGET, id="target-pane")

    def on_mount(self) -> None:
        for pane in self.query(TranscriptPane):
            pane.scrolled_callback = self._pane_scrolled

    @property
    def source_pane(self) -> TranscriptPane:
        return self.query_one("#source-pane", TranscriptPane)

    @property
    def target_pane(self) -> TranscriptPane:
        return self.query_one("#target-pane", TranscriptPane)

    def visible_panes(self) -> list[TranscriptPane]:
        """The panes the layout shows."""
        if self.layout_name in ("side", "stacked"):
            return [self.source_pane, self.target_pane]
        return [self.source_pane]

    def set_layout(self, layout: str) -> None:
        """Arrange the panes for one of LAYOUTS (and go back to the live tail)."""
        if layout == self.layout_name:
            return
        self.layout_name = layout
        self.set_classes(layout)
        source, target = self.source_pane, self.target_pane
        source.role = {"interleaved": ROLE_INTERLEAVED, "translation": ROLE_LARGE}.get(layout, ROLE_SOURCE)
        target.show_time = layout == "stacked"
        target.border_title = f"translation · {self.target_lang}"
        source.border_title = {
            "translation": f"translation · {self.target_lang}",
            "interleaved": f"{self.source_lang} / {self.target_lang}",
        }.get(layout, f"source · {self.source_lang}")
        if target.has_focus and layout not in ("side", "stacked"):
            source.focus()
        self.rows.signature = ()
        self._set_following(True)

    def show(self, sentences: Sequence[Sentence], generation: int, *, final_only: bool) -> None:
        """Lay out the sentences again if anything changed (their revisions, the size, the layout)."""
        source, target = self.source_pane, self.target_pane
        if self.layout_name in ("side", "stacked"):
            kind, source_width, target_width = KIND_ALIGNED, source.text_width(), target.text_width()
        else:
            kind = KIND_INTERLEAVED if self.layout_name == "interleaved" else KIND_LARGE
            source_width = target_width = source.text_width()
        geometry = (source_width, target_width, source.size)
        signature = (generation, kind, final_only, *geometry)
        if signature == self.rows.signature:
            return
        if self._built_geometry and geometry != self._built_geometry:
            # While a terminal is being resized, re-wrapping everything on every frame would stall the loop
            # (and the packets it sends): wait until the size holds for one frame.
            settled = geometry == self._last_geometry
            self._last_geometry = geometry
            if not settled:
                return
        self._built_geometry = geometry
        self.rows.rebuild(
            sentences,
            kind=kind,
            source_width=source_width,
            target_width=target_width,
            final_only=final_only,
            signature=signature,
        )
        for pane in self.visible_panes():
            pane.show_rows(self.rows, follow=self.following)

    def go_live(self) -> None:
        """Follow the newest sentences again."""
        self._set_following(True)
        for pane in self.visible_panes():
            pane.scroll_to_tail()

    def _pane_scrolled(self, pane: TranscriptPane, y: int) -> None:
        """Keep aligned panes in step, and stop following the tail when the user scrolls away from it."""
        for other in self.visible_panes():
            if other is not pane and round(other.scroll_y) != y:
                other.syncing = True
                try:
                    other.scroll_y = y
                finally:
                    other.syncing = False
        self._set_following(pane.at_tail())

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            self.post_message(self.FollowingChanged(following))
