"""The header (what is interpreted, where, and whether it is the real service) and the live status line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

EMULATOR_BADGE = " EMULATOR — not the real service "
EMULATOR_BADGE_SHORT = " EMULATOR "
REPLAY_BADGE = " REPLAY "

STATE_STYLES = {
    "live": "bold #5fd75f",
    "playing": "bold #d75fd7",
    "starting": "bold",
    "degraded": "bold #000000 on #ffd75f",
    "stalled": "bold #000000 on #ffd75f",
    "reconnecting": "bold #ffffff on #d70000",
    "paused": "bold #ffd75f",
    "stopping": "bold #ffd75f",
    "ended": "bold",
    "failed": "bold #ffffff on #d70000",
}
"""How each health state's badge looks; the words say it too (a colour alone says nothing to some). Hex
colours that keep their hue on 16 colours (named ANSI ones go through the theme: its yellow is orange, which a
16-colour terminal shows as red)."""
EMULATOR_STYLE = "bold #000000 on #ffd75f"
REPLAY_STYLE = "bold #000000 on #d75fd7"
STATE_SYMBOLS = {
    "live": "●",
    "playing": "▶",
    "starting": "…",
    "degraded": "▲",
    "stalled": "◌",
    "reconnecting": "✖",
    "paused": "‖",
    "stopping": "■",
    "ended": "■",
    "failed": "✖",
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
    reason: str = ""
    """Why the state is what it is (service unreachable, rollover, silence...), empty when all is well."""


def state_badge(state: str, reason: str) -> Text:
    """The health badge: symbol, state and reason in words, coloured by state."""
    words = f" {STATE_SYMBOLS.get(state, '●')} {state}" + (f" · {reason} " if reason else " ")
    return Text(words, style=STATE_STYLES.get(state, "bold"))


def header_text(info: HeaderInfo, width: int) -> Text:
    """The header line: badges first, then languages, input, host; health badge and elapsed right.

    Badges are never cut: at narrow widths the emulator badge takes its short form, the reason and the
    elapsed time go, and the languages, input and host are cut first.
    """

    def badges(emulator: str) -> Text:
        text = Text()
        if info.replay:
            text.append(REPLAY_BADGE, style=REPLAY_STYLE)
            text.append(" ")
        if info.emulated:
            text.append(emulator, style=EMULATOR_STYLE)
            text.append(" ")
        return text

    elapsed = Text(f"{info.elapsed} ")
    rights = (
        state_badge(info.state, info.reason) + elapsed,
        state_badge(info.state, info.reason),
        state_badge(info.state, "") + elapsed,
        state_badge(info.state, ""),
    )
    combos = [(EMULATOR_BADGE, rights[0]), (EMULATOR_BADGE, rights[1])]
    combos += [(EMULATOR_BADGE_SHORT, right) for right in rights]
    left, right = badges(EMULATOR_BADGE_SHORT), rights[-1]
    for emulator, option in combos:
        candidate = badges(emulator)
        if cell_len(candidate.plain) + cell_len(option.plain) + 8 <= width:
            left, right = candidate, option
            break
    badge_cells = cell_len(left.plain)
    left.append(f"{info.source} → {info.target}", style="bold")
    left.append(f" · {info.input} · {info.endpoint_host}")
    room = max(badge_cells, width - cell_len(right.plain) - 1)
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
    lag_first_ms: int | None = None
    lag_final_ms: int | None = None
    """Speaker to screen: the newest sentence's first text, and the newest final (see StatsSnapshot)."""
    trouble: str = ""
    """A recurring failure in a few words (code, count, for how long); empty when none."""
    new_below: int = 0
    """Sentences that arrived below while scrolled up."""


def format_lag(ms: int | None) -> str:
    """A lag in seconds, one decimal (– when not known yet)."""
    return "–" if ms is None else f"{ms / 1000:.1f} s"


def status_text(info: StatusInfo) -> Text:
    """The status line, most important first (a narrow terminal cuts the end): live or scrolled (and how to
    return), the lag behind the speaker, a recurring failure, layout, final-only, counts."""
    text = Text()
    if info.following:
        text.append(" ▼ live ", style="bold")
    else:
        text.append(" ▲ scrolled — End to return to live ", style="bold reverse yellow")
        if info.new_below:
            text.append(f" {info.new_below} new below ", style="bold")
    text.append(f" lag {format_lag(info.lag_first_ms)}")
    if info.lag_final_ms is not None:
        text.append(f" (final {format_lag(info.lag_final_ms)})")
    if info.trouble:
        text.append(f" · ⚠ {info.trouble}", style="bold")
    text.append(f" · layout {info.layout}")
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
