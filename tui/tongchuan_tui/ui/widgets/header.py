"""The header (what is interpreted, where, and whether it is the real service) and the live status line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

EMULATOR_BADGE = " EMULATOR — not the real service "
REPLAY_BADGE = " REPLAY "

STATE_STYLES = {
    "live": "bold green",
    "playing": "bold magenta",
    "paused": "bold yellow",
    "stopping": "bold yellow",
    "ended": "bold",
    "starting": "dim",
}


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """Everything the header shows."""

    source: str
    target: str
    input: str
    endpoint_host: str
    emulated: bool
    replay: bool
    state: str
    elapsed: str


def header_text(info: HeaderInfo, width: int) -> Text:
    """The header line: badges first (never cut), then languages, input, host; state and elapsed right."""
    left = Text()
    if info.replay:
        left.append(REPLAY_BADGE, style="bold reverse magenta")
        left.append(" ")
    if info.emulated:
        left.append(EMULATOR_BADGE, style="bold reverse yellow")
        left.append(" ")
    left.append(f"{info.source} → {info.target}", style="bold")
    left.append(f" · {info.input} · {info.endpoint_host}")
    right = Text()
    right.append(f"● {info.state}", style=STATE_STYLES.get(info.state, "bold"))
    right.append(f" {info.elapsed} ")
    room = max(0, width - cell_len(right.plain) - 1)
    if cell_len(left.plain) > room:
        left.truncate(max(0, room - 1))
        left.append("…")
    left.pad_right(max(0, width - cell_len(left.plain) - cell_len(right.plain)))
    return left + right


class SessionHeader(Widget):
    """One line at the top: badges, languages, input, endpoint host, state, elapsed time."""

    DEFAULT_CSS = """
    SessionHeader { height: 1; background: $panel; }
    """

    def __init__(self, info: HeaderInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info

    def set_info(self, info: HeaderInfo) -> None:
        """Show new information (redraws only when it changed)."""
        if info != self.info:
            self.info = info
            self.refresh()

    def render(self) -> Text:
        return header_text(self.info, self.size.width)


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """Everything the status line shows."""

    following: bool
    layout: str
    final_only: bool
    sentences: int
    marks: int
    serving: str = ""
    """The live server's line (address, clients), when serving."""


def status_text(info: StatusInfo) -> Text:
    """The status line: live or scrolled (and how to return), layout, final-only, counts."""
    text = Text()
    if info.following:
        text.append(" ▼ live ", style="bold")
    else:
        text.append(" ▲ scrolled — End to return to live ", style="bold reverse yellow")
    text.append(f" layout {info.layout}")
    if info.final_only:
        text.append(" · final translations only", style="bold")
    text.append(f" · {info.sentences} sentence" + ("" if info.sentences == 1 else "s"))
    if info.marks:
        text.append(f" · {info.marks} mark" + ("" if info.marks == 1 else "s"))
    if info.serving:
        text.append(f" · {info.serving}", style="bold cyan")
    text.append(" · ? help", style="dim")
    return text


class LiveStatus(Widget):
    """One line above the footer saying whether the panes follow the live tail."""

    DEFAULT_CSS = """
    LiveStatus { height: 1; background: $panel; }
    """

    def __init__(self, info: StatusInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info

    def set_info(self, info: StatusInfo) -> None:
        """Show new information (redraws only when it changed)."""
        if info != self.info:
            self.info = info
            self.refresh()

    def render(self) -> Text:
        return status_text(self.info)
