"""The UI's state without Textual: the session sink updates it, a timer draws from it.

The sink runs on the event loop for every event (some arrive many times a second), so applying an event
only updates plain fields and bumps a generation counter; widgets redraw when a counter moved.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tongchuan_tui.pipeline.events import (
    AudioDropped,
    ChunkSent,
    Event,
    HealthChanged,
    InputChanged,
    LevelMeasured,
    MarkAdded,
    Paused,
    RequestFailed,
    RequestRetried,
    Resumed,
    Sentence,
    SentenceRevised,
    ServiceSessionOpened,
    SessionEnded,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
    TargetEnded,
    WarningRaised,
)
from tongchuan_tui.ui.text import format_timestamp

DEFAULT_SENTENCE_LIMIT = 2000
"""Sentences kept on screen; the journal keeps everything."""
CLIP_HOLD_S = 2.0
"""How long a clipping warning stays up after the last clipped block, so it can be read."""
SILENCE_WARNING_MS = 10_000
"""Silence longer than this is worth a warning (muted mic, wrong device)."""
NOTICE_INTERVAL_S = 5.0
"""At most one notification per kind of trouble in this interval; the rest are counted into it."""

STATE_STARTING = "starting"
STATE_LIVE = "live"
STATE_PAUSED = "paused"
STATE_ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to show once."""

    text: str
    severity: str = "information"
    """Textual's severities: information, warning, error."""


class TranscriptModel:
    """The newest sentences in order of first appearance, each at its highest revision, bounded.

    Sentences are numbered in order of first appearance (their ordinal): the oldest kept is `evicted`, the
    newest `admitted - 1`. With `changed_since` this lets a reader follow the transcript incrementally.
    """

    def __init__(self, limit: int = DEFAULT_SENTENCE_LIMIT) -> None:
        self.limit = max(1, limit)
        self._sentences: OrderedDict[str, Sentence] = OrderedDict()
        self._changed_at: OrderedDict[str, int] = OrderedDict()
        """The generation of each kept sentence's last change, oldest change first."""
        self.generation = 0
        """Bumped on every visible change."""
        self.evicted = 0

    def revise(self, sentence: Sentence) -> bool:
        """Take a new revision; returns whether anything changed (stale and repeated revisions do not)."""
        key = sentence.key
        current = self._sentences.get(key)
        if current is not None:
            if (
                sentence == current
                or sentence.se_ver < current.se_ver
                or (current.final and not sentence.final)
            ):
                return False
            self._sentences[key] = sentence
        else:
            self._sentences[key] = sentence
            while len(self._sentences) > self.limit:
                oldest, _ = self._sentences.popitem(last=False)
                self._changed_at.pop(oldest, None)
                self.evicted += 1
        self.generation += 1
        self._changed_at[key] = self.generation
        self._changed_at.move_to_end(key)
        return True

    def sentences(self) -> list[Sentence]:
        """The sentences kept, oldest first."""
        return list(self._sentences.values())

    @property
    def admitted(self) -> int:
        """How many distinct sentences were ever taken (the ordinal the next new one gets)."""
        return self.evicted + len(self._sentences)

    def newest(self, count: int) -> list[Sentence]:
        """The `count` newest sentences (by first appearance), oldest first; O(count)."""
        count = min(count, len(self._sentences))
        found: list[Sentence] = []
        for sentence in reversed(self._sentences.values()):
            if len(found) >= count:
                break
            found.append(sentence)
        found.reverse()
        return found

    def changed_since(self, generation: int) -> list[Sentence]:
        """The kept sentences revised or added after `generation`, in no particular order; O(changes)."""
        changed_at = self._changed_at
        found: list[Sentence] = []
        for key in reversed(changed_at):
            if changed_at[key] <= generation:
                break
            found.append(self._sentences[key])
        return found

    def __len__(self) -> int:
        return len(self._sentences)


@dataclass(frozen=True, slots=True)
class Trouble:
    """A recurring failure, shown as one status line until a packet gets through again."""

    code: str
    message: str
    count: int
    since: float
    """The UI clock's time of the first failure."""


class _Pending:
    """Notifications of one kind waiting for their interval to pass."""

    __slots__ = ("count", "severity", "text")

    def __init__(self, text: str, severity: str) -> None:
        self.text = text
        self.severity = severity
        self.count = 1


class UiModel:
    """Everything the screen shows about a session, updated by `apply` (the session's sink)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sentence_limit: int = DEFAULT_SENTENCE_LIMIT,
        notice_interval_s: float = NOTICE_INTERVAL_S,
    ) -> None:
        self.clock = clock
        self.transcript = TranscriptModel(sentence_limit)
        """The sentences of the target shown large (the first, until `cycle_target`)."""
        self.targets: tuple[str, ...] = ()
        """The session's target languages, the first one first (several: a multi-target session)."""
        self.large = ""
        """The target language whose translation the main panes show."""
        self.transcripts: dict[str, TranscriptModel] = {}
        """Every target's sentences (the large one is also `transcript`)."""
        self.target_stats: dict[str, StatsSnapshot] = {}
        """Of a multi-target session, each target's own stats."""
        self.target_ended: dict[str, TargetEnded] = {}
        """Targets that stopped early, while the others went on."""
        self.others_generation = 0
        """Bumped when a target not shown large changes."""
        self._sentence_limit = sentence_limit
        self.generation = 0
        """Bumped when anything but the transcript changes (header, stats, level)."""
        self.started: SessionStarted | None = None
        self.ended: SessionEnded | None = None
        self.fatal: RequestFailed | None = None
        """The first final failure: the session cannot go on."""
        self.stats = StatsSnapshot()
        self.level: LevelMeasured | None = None
        self.input_description: str | None = None
        self.paused = False
        self.marks = 0
        self.mark_list: list[MarkAdded] = []
        self.service_sessions = 0
        self.health: HealthChanged | None = None
        """The session's last health state (None from sessions that do not say it: old journals)."""
        self.health_since: float | None = None
        """The UI clock's time the health state was last changed."""
        self.trouble: Trouble | None = None
        self.replay = False
        """A replay: marks are shown, not saved (it writes no journal)."""
        self.timeline_ms = 0
        """The furthest point of the session timeline events spoke of (a replay's duration)."""
        self._started_clock: float | None = None
        self._started_early_s = 0.0
        self._ended_clock: float | None = None
        self._clipped_at: float | None = None
        self._notice_interval_s = notice_interval_s
        self._ready: list[Notice] = []
        self._pending: dict[str, _Pending] = {}
        self._last_notice_at: dict[str, float] = {}

    # -- applying events -------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Take one event from the session; cheap, never touches the screen."""
        if isinstance(event, SentenceRevised):
            target = event.sentence.target or (self.targets[0] if self.targets else "")
            model = self.transcripts.get(target, self.transcript)
            if model.revise(event.sentence) and model is not self.transcript:
                self.others_generation += 1
            self.timeline_ms = max(self.timeline_ms, event.sentence.end_ms)
            return
        at_ms = getattr(event, "at_ms", None)
        if isinstance(at_ms, int):
            self.timeline_ms = max(self.timeline_ms, at_ms)
        self.generation += 1
        if isinstance(event, LevelMeasured):
            self.level = event
            if event.clipped:
                self._clipped_at = self.clock()
        elif isinstance(event, StatsUpdated):
            if event.target:
                self.target_stats[event.target] = event.stats
            else:
                self.stats = event.stats
        elif isinstance(event, SessionStarted):
            self.started = event
            self.targets = event.all_targets
            self.large = self.targets[0]
            self.transcripts = {t: TranscriptModel(self._sentence_limit) for t in self.targets}
            self.transcripts[self.large] = self.transcript
            self.input_description = event.input
            self._started_clock = self.clock()
        elif isinstance(event, ServiceSessionOpened):
            self.service_sessions = max(self.service_sessions, event.index + 1)
        elif isinstance(event, Paused):
            self.paused = True
        elif isinstance(event, Resumed):
            self.paused = False
        elif isinstance(event, HealthChanged):
            self.health = event
            self.health_since = self.clock()
        elif isinstance(event, ChunkSent):
            if self.trouble is not None:
                trouble, self.trouble = self.trouble, None
                self._ready.append(
                    Notice(f"Recovered after {trouble.count} failed attempts ({trouble.code}).")
                )
        elif isinstance(event, MarkAdded):
            self.marks += 1
            self.mark_list.append(event)
            label = f" “{event.label}”" if event.label else ""
            saved = " (shown only: a replay saves no marks)" if self.replay else ""
            self._ready.append(Notice(f"Marked {format_timestamp(event.at_ms)}{label}{saved}"))
        elif isinstance(event, InputChanged):
            self.input_description = event.input
            self._ready.append(Notice(f"Input is now {event.input}"))
        elif isinstance(event, RequestRetried):
            self._failed(event.code, event.message)
        elif isinstance(event, TargetEnded):
            self.target_ended[event.target] = event
            self._ready.append(Notice(f"Translation into {event.target} stopped: {event.message}", "error"))
        elif isinstance(event, RequestFailed):
            if event.final and event.target and len(self.targets) > 1:
                # One target of several: the others go on (TargetEnded says so), nothing fatal.
                self._limited(f"failed:{event.target}", f"{event.target}: {event.action} failed", "warning")
            elif event.final:
                if self.fatal is None:
                    self.fatal = event
            else:
                self._failed(event.code, event.message)
        elif isinstance(event, AudioDropped):
            self._limited("dropped", f"Audio dropped: {event.reason}", "warning")
        elif isinstance(event, WarningRaised):
            self._limited(f"warning:{event.code}", event.message, "warning")
        elif isinstance(event, SessionEnded):
            self.ended = event
            self._ended_clock = self.clock()
            if event.exit_code == 0 and event.reason == "input-ended":
                self._ready.append(Notice("The input has ended — press q to quit"))

    def _failed(self, code: str, message: str) -> None:
        """A failed attempt: the first of a run of them is a notification, the rest only count on the
        status line (a toast per retry would stack up into a wall of the same text)."""
        trouble = self.trouble
        if trouble is None:
            self.trouble = Trouble(code, message, 1, self.clock())
            self._ready.append(Notice(f"{code}: retrying — {message}", "warning"))
        else:
            self.trouble = Trouble(code, message, trouble.count + 1, trouble.since)

    def _limited(self, key: str, text: str, severity: str) -> None:
        """Queue a notification of a kind that may repeat fast; `take_notices` rate-limits it."""
        pending = self._pending.get(key)
        if pending is None:
            self._pending[key] = _Pending(text, severity)
        else:
            pending.text = text
            pending.count += 1

    def take_notices(self) -> list[Notice]:
        """The notifications due now, each kind at most once per interval (repeats counted in)."""
        now = self.clock()
        due = self._ready
        self._ready = []
        for key in list(self._pending):
            last = self._last_notice_at.get(key)
            if last is not None and now - last < self._notice_interval_s:
                continue
            pending = self._pending.pop(key)
            suffix = f" (×{pending.count})" if pending.count > 1 else ""
            due.append(Notice(pending.text + suffix, pending.severity))
            self._last_notice_at[key] = now
        return due

    def cycle_target(self) -> str:
        """Show the next target language large (the main panes); returns it."""
        if len(self.targets) > 1:
            self.large = self.targets[(self.targets.index(self.large) + 1) % len(self.targets)]
            self.transcript = self.transcripts[self.large]
            self.generation += 1
            self.others_generation += 1
        return self.large

    @property
    def others(self) -> list[str]:
        """The target languages not shown large, in cycle order after the large one."""
        if len(self.targets) < 2:
            return []
        at = self.targets.index(self.large)
        return [*self.targets[at + 1 :], *self.targets[:at]]

    # -- derived state ---------------------------------------------------------------------------------

    @property
    def health_state(self) -> tuple[str, str]:
        """(state, reason) for the header: the session's health, or the plain state of sessions that do
        not report health (journals recorded before it existed)."""
        if self.ended is not None:
            health = self.health
            if health is not None and health.state in ("ended", "failed"):
                return health.state, health.reason
            failed = self.ended.exit_code != 0 and self.ended.reason == "failed"
            return ("failed" if failed else STATE_ENDED), self.ended.reason
        if self.paused:
            return STATE_PAUSED, ""  # said at once, whether or not the session reports health
        if self.health is not None:
            return self.health.state, self.health.reason
        return self.state, ""

    @property
    def state(self) -> str:
        """starting, live, paused or ended."""
        if self.ended is not None:
            return STATE_ENDED
        if self.started is None:
            return STATE_STARTING
        return STATE_PAUSED if self.paused else STATE_LIVE

    def started_ago(self, seconds: float) -> None:
        """The session started `seconds` before its SessionStarted reached us (a viewer attaching late)."""
        self._started_early_s = max(0.0, seconds)

    def marked_keys(self) -> frozenset[str]:
        """The kept sentences a mark fell in (or after, if it fell between sentences): shown in the gutter."""
        sentences = self.transcript.sentences()
        keys: set[str] = set()
        for mark in self.mark_list:
            best: Sentence | None = None
            for sentence in sentences:
                if sentence.start_ms <= mark.at_ms and (best is None or sentence.start_ms >= best.start_ms):
                    best = sentence
            if best is not None:
                keys.add(best.key)
        return frozenset(keys)

    def elapsed_s(self) -> float:
        """Wall time since the session started (frozen once it ended)."""
        if self._started_clock is None:
            return 0.0
        end = self._ended_clock if self._ended_clock is not None else self.clock()
        return max(0.0, end - self._started_clock + self._started_early_s)

    def clipping(self) -> bool:
        """Whether the input clipped recently."""
        return self._clipped_at is not None and self.clock() - self._clipped_at < CLIP_HOLD_S

    def long_silence(self) -> bool:
        """Whether the input has been silent long enough to suspect a muted or wrong device."""
        return self.level is not None and self.level.silent_for_ms >= SILENCE_WARNING_MS
