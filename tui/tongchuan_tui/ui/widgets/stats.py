"""The stats pane: input level meter, request health, round-trip sparkline, audio accounting, last error."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from tongchuan_tui.pipeline.events import StatsSnapshot
from tongchuan_tui.ui.model import UiModel
from tongchuan_tui.ui.text import billable_minutes, format_timestamp

SHORT_ACTIONS = {"TongChuanSync": "Sync", "TongChuanRecognize": "Rec", "TongChuanDisplay": "Disp"}
"""Action names short enough for three to share the pane's line."""
ACTION_ORDER = {"TongChuanSync": 0, "TongChuanRecognize": 1, "TongChuanDisplay": 2}
FLOOR_DBFS = -60.0
"""The bottom of the meter's scale; quieter input shows an empty bar."""


BACKLOG_WARN_FRACTION = 0.75
"""A live backlog this full of its bound is about to drop audio (a file's read-ahead never is)."""


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _s(value: int | None) -> str:
    return "–" if value is None else f"{value / 1000:.1f} s"


def backlog_near_loss(stats: StatsSnapshot) -> bool:
    """Whether loss is near: a live backlog close to its bound (a file's read-ahead is normal)."""
    return stats.backlog_limit_ms > 0 and stats.backlog_ms >= BACKLOG_WARN_FRACTION * stats.backlog_limit_ms


def summary_text(model: UiModel) -> Text:
    """The stats in one line, for terminals too narrow for the pane: warnings first, then figures."""
    stats = model.stats
    text = Text()
    if model.clipping():
        text.append(" ⚠ CLIPPING ", style="bold red")
    if model.long_silence() and model.level is not None:
        text.append(f" ⚠ silent {model.level.silent_for_ms // 1000} s ", style="bold yellow")
    if backlog_near_loss(stats):
        text.append(f" ⚠ backlog {stats.backlog_ms / 1000:.1f} s ", style="bold yellow")
    if stats.dropped_ms:
        text.append(f" dropped {stats.dropped_ms / 1000:.1f} s ", style="bold red")
    text.append(f" rt now {_ms(stats.rtt_now_ms)} ms · p95 {_ms(stats.rtt_p95_ms)}")
    text.append(f" · {stats.requests_per_s:.1f} req/s · retried {stats.requests_retried}")
    text.append(f" · behind {stats.behind_live_ms / 1000:.1f} s")
    return text


def meter_fill(dbfs: float, width: int) -> int:
    """How many of `width` cells a level fills on the meter's FLOOR_DBFS..0 scale."""
    fraction = (min(0.0, max(FLOOR_DBFS, dbfs)) - FLOOR_DBFS) / -FLOOR_DBFS
    return round(fraction * width)


class LevelMeter(Widget):
    """A one-line input level bar in dBFS, green/yellow/red by loudness, with the peak marked."""

    DEFAULT_CSS = """
    LevelMeter { height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.dbfs: float | None = None
        self.peak_dbfs: float | None = None

    def set_level(self, dbfs: float | None, peak_dbfs: float | None) -> None:
        """Show a new level (None: no audio yet)."""
        if (dbfs, peak_dbfs) != (self.dbfs, self.peak_dbfs):
            self.dbfs, self.peak_dbfs = dbfs, peak_dbfs
            self.refresh()

    def render(self) -> Text:
        if self.dbfs is None:
            return Text("no audio yet", style="dim")
        label = f"{self.dbfs:6.1f} dBFS "
        width = max(4, self.size.width - len(label))
        filled = meter_fill(self.dbfs, width)
        peak = meter_fill(self.peak_dbfs, width) if self.peak_dbfs is not None else 0
        colour = "red" if self.dbfs > -3 else "yellow" if self.dbfs > -12 else "green"
        text = Text(label)
        text.append("█" * filled, style=colour)
        empty = width - filled
        if peak > filled:
            text.append("░" * (peak - filled - 1), style="dim")
            text.append("▏", style=colour)
            empty = width - peak
        text.append("░" * max(0, empty), style="dim")
        return text


def stats_text(model: UiModel) -> Text:
    """The pane's text below the level meter and above the sparkline."""
    stats: StatsSnapshot = model.stats
    text = Text()
    if model.clipping():
        text.append("⚠ CLIPPING — lower the input gain\n", style="bold red")
    if model.long_silence() and model.level is not None:
        seconds = model.level.silent_for_ms // 1000
        text.append(f"⚠ silent for {seconds} s — muted or wrong input?\n", style="bold yellow")
    text.append("Requests\n", style="bold")
    text.append(
        f" ok {stats.requests_ok}  retried {stats.requests_retried}  failed {stats.requests_failed}\n"
    )
    text.append(f" {stats.requests_per_s:.1f} req/s  in flight {stats.in_flight}\n")
    text.append("Speaker to screen\n", style="bold")
    text.append(f" first text {_s(stats.lag_first_ms)}  final {_s(stats.lag_final_ms)}\n")
    text.append("Round trip ms\n", style="bold")
    text.append(f" now {_ms(stats.rtt_now_ms)} (last 10 s)\n")
    text.append(f" p50 {_ms(stats.rtt_p50_ms)}  p95 {_ms(stats.rtt_p95_ms)}  p99 {_ms(stats.rtt_p99_ms)}")
    if model.target_stats:
        text.append("\nPer target\n", style="bold")
        for target in model.targets:
            one = model.target_stats.get(target)
            if one is None:
                continue
            stopped = target in model.target_ended
            health = "stopped" if stopped else ("lagging" if one.behind_live_ms >= 2000 else "ok")
            style = "red" if stopped else ("yellow" if one.behind_live_ms >= 2000 else "")
            text.append(
                f" {target:<3} {health:<8} lag {one.behind_live_ms / 1000:.1f} s  p50 {_ms(one.rtt_p50_ms)}\n"
                f"     ok {one.requests_ok} retried {one.requests_retried} failed {one.requests_failed}\n",
                style=style,
            )
        text.rstrip()
    return text


def audio_text(model: UiModel, voice: str = "") -> Text:
    """The pane's text below the sparkline: audio accounting, sessions, headroom, voice, last error."""
    stats = model.stats
    text = Text()
    text.append("Audio\n", style="bold")
    sent = format_timestamp(stats.audio_sent_ms)
    text.append(f" sent {sent}  billable {billable_minutes(stats.audio_sent_ms)} min\n")
    backlog_style = "yellow" if backlog_near_loss(stats) else ""
    text.append(f" backlog {stats.backlog_ms} ms", style=backlog_style)
    text.append(f"  dropped {stats.dropped_ms} ms\n", style="red" if stats.dropped_ms else "")
    behind_style = "yellow" if stats.behind_live_ms >= 2000 else ""
    text.append(f" behind live {stats.behind_live_ms / 1000:.1f} s\n", style=behind_style)
    sessions = max(stats.service_sessions, model.service_sessions)
    text.append(f" service sessions {sessions}  rolled over {stats.rollovers}\n")
    if stats.rate_headroom:
        text.append("Rate headroom\n", style="bold")
        for action, fraction in sorted(
            stats.rate_headroom.items(), key=lambda item: ACTION_ORDER.get(item[0], 9)
        ):
            name = SHORT_ACTIONS.get(action, action)
            text.append(f" {name} {fraction * 100:.0f}%", style="yellow" if fraction < 0.2 else "")
        text.append("\n")
    if voice:
        text.append("Voice\n", style="bold")
        text.append(f" {voice.removeprefix('voice ')}\n")
    text.append("Last error\n", style="bold")
    if stats.last_error_code:
        text.append(f" {stats.last_error_code}", style="red")
        if stats.last_error_message:
            text.append(f": {stats.last_error_message}")
    else:
        text.append(" none", style="dim")
    return text


def _update_text(widget: Static, text: Text, shown: dict[str, Text]) -> None:
    """Show `text` in `widget` unless it already does; lay the screen out again only if its height changed."""
    key = widget.id or ""
    old = shown.get(key)
    if old is not None and old == text:
        return
    shown[key] = text
    # A layout pass re-arranges the whole screen: only needed when the text's height may have changed (other
    # line count, or a line long enough to wrap).
    width = widget.content_region.width
    lines = text.plain.splitlines()
    old_lines = [] if old is None else old.plain.splitlines()
    same_height = (
        old is not None
        and width > 0
        and len(lines) == len(old_lines)
        and all(cell_len(line) <= width for line in (*lines, *old_lines))
    )
    widget.update(text, layout=not same_height)


class StatsPane(VerticalScroll):
    """The health of the stream; `show` redraws it from the model (only the parts that changed)."""

    DEFAULT_CSS = """
    StatsPane { height: 1fr; }
    StatsPane > .stats-title { text-style: bold; }
    StatsPane > Sparkline { height: 2; margin: 0 1 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, Text] = {}
        self._rtt: list[float] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Input level", style="bold"), classes="stats-title")
        yield LevelMeter(id="level-meter")
        yield Static(id="stats-requests")
        yield Sparkline([], id="rtt-sparkline")
        yield Static(id="stats-audio")

    def show(self, model: UiModel, *, voice: str = "") -> None:
        """Redraw from the model (`voice`: the voice's line, if there is a voice output)."""
        level = model.level
        self.query_one(LevelMeter).set_level(
            None if level is None else level.dbfs, None if level is None else level.peak_dbfs
        )
        _update_text(self.query_one("#stats-requests", Static), stats_text(model), self._shown)
        rtt = list(model.stats.rtt_recent_ms)
        if rtt != self._rtt:
            self._rtt = rtt
            self.query_one(Sparkline).data = rtt
        _update_text(self.query_one("#stats-audio", Static), audio_text(model, voice), self._shown)
