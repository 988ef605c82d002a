"""Stitching across a rollover: the sentence a service session was cut in is completed by the next one.

When a service session is abandoned (FailedOperation, a stall past the gap rule), the scheduler re-sends the
next one the audio from the start of the sentence being spoken (`Backlog.rewind`). This filter sits between
the transcript and the sinks and makes that invisible to them:

- the abandoned session's open sentences are held ("pending"), not finalised with their partial text;
- the first sentence of the new session that overlaps a pending one on the timeline takes over its identity
  (key, service session and SeId; its SeVer counted on from the pending one's), so every consumer sees a
  newer revision of the same sentence;
- a sentence of the re-sent stretch that repeats one already final is dropped (nothing said twice);
- a pending sentence nothing took over — the new session went past it, the audio to re-send was no longer
  kept, or the session ended — is finalised with `interrupted=True`, never as a clean final.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised

MAX_RESENDS = 2
"""A sentence is re-sent after at most this many rollovers; cut again, it is interrupted (so that a session
failing at the same point every time still moves on)."""
RECENT_FINALS = 64
"""Final sentences remembered to recognise a repeat in a re-sent stretch (a stretch holds a few at most)."""


@dataclass
class _Pending:
    sentence: Sentence
    """As last emitted, under its emitted key."""
    from_index: int
    """The first service session that may complete it."""
    resends: int = 0


@dataclass(frozen=True)
class _Resend:
    start_ms: int
    end_ms: int


class Stitcher:
    """Rewrites the sentence events of the sessions after a rollover, then hands every event to `out`."""

    def __init__(self, out: Callable[[Event], None]) -> None:
        self._out = out
        self._pending: dict[str, _Pending] = {}
        self._held: set[str] = set()
        """Transcript keys of abandoned sessions: their later revisions (the forced final) are swallowed."""
        self._dropped: set[str] = set()
        self._alias: dict[str, Sentence] = {}
        """Transcript key → the pending sentence it took over (whose identity it keeps)."""
        self._emitted: dict[str, Sentence] = {}
        self._finals: deque[Sentence] = deque(maxlen=RECENT_FINALS)
        self._resends: dict[int, _Resend] = {}
        self.interrupted = 0
        """How many sentences were finalised as interrupted."""

    # ----- the scheduler's side -----

    def abandon(
        self, index: int, open_sentences: Iterable[Sentence], *, kept_from_ms: int, sent_ms: int
    ) -> int:
        """Service session `index` is abandoned with `open_sentences` (transcript form) unfinished.

        Returns the timeline ms from which the next session should be re-sent: the start of the earliest
        sentence still to complete (`sent_ms`, nothing again, if none); never before `kept_from_ms`, the
        oldest audio still kept. Sentences that begin before that are interrupted now.
        """
        for sentence in open_sentences:
            if sentence.key in self._dropped:
                continue  # a repeat of a sentence already final: nothing to complete
            self._held.add(sentence.key)
            taken = self._alias.get(sentence.key)
            emitted_key = sentence.key if taken is None else taken.key
            last = self._emitted.get(emitted_key, sentence)
            self._pending[emitted_key] = _Pending(last, index + 1)
        for key, pending in list(self._pending.items()):
            pending.from_index = index + 1
            pending.resends += 1
            if pending.resends > MAX_RESENDS:
                self._interrupt(key)
        # Only sentences the service reported are re-sent: silence between sentences is not (it would only
        # add lag), nor the first words of one it had not reported yet.
        start = min((p.sentence.start_ms for p in self._pending.values()), default=sent_ms)
        start = min(max(start, kept_from_ms), sent_ms)
        for key, pending in list(self._pending.items()):
            if pending.sentence.start_ms < start:
                self._interrupt(key)
        self._resends[index + 1] = _Resend(start, sent_ms)
        return start

    def finish(self) -> None:
        """The interpreter session ends: what is still pending could not be completed."""
        for key in list(self._pending):
            self._interrupt(key)

    # ----- the event stream -----

    def feed(self, event: Event) -> None:
        """Take one event of the session; pass it on, rewritten, held or dropped as the rules say."""
        if not isinstance(event, SentenceRevised):
            self._out(event)
            return
        sentence = event.sentence
        key = sentence.key
        if key in self._held or key in self._dropped:
            return
        taken = self._alias.get(key)
        emitted = _as(sentence, taken) if taken is not None else self._take_over(sentence)
        if emitted is None:
            return
        self._send(emitted)
        if emitted.final:
            self._settle(sentence)

    def _take_over(self, sentence: Sentence) -> Sentence | None:
        """A sentence seen for the first time (or not yet stitched): its place after a rollover, if any."""
        resend = self._resends.get(sentence.service_session)
        if resend is None or sentence.start_ms >= resend.end_ms:
            return sentence
        candidates = [
            p
            for p in self._pending.values()
            if p.from_index <= sentence.service_session
            and sentence.start_ms <= p.sentence.end_ms
            and sentence.end_ms >= p.sentence.start_ms
        ]
        if candidates:
            pending = min(candidates, key=lambda p: p.sentence.start_ms)
            old = pending.sentence
            del self._pending[old.key]
            self._alias[sentence.key] = old
            return _as(sentence, old)
        if any(_mostly_within(sentence, final) for final in self._finals):
            self._dropped.add(sentence.key)
            return None
        return sentence

    def _settle(self, sentence: Sentence) -> None:
        """A final sentence of a later session begins after a pending one ends: nothing will complete it."""
        for key, pending in list(self._pending.items()):
            if (
                pending.from_index <= sentence.service_session
                and sentence.start_ms >= pending.sentence.end_ms
            ):
                self._interrupt(key)

    def _interrupt(self, key: str) -> None:
        pending = self._pending.pop(key)
        old = pending.sentence
        self.interrupted += 1
        self._send(dataclasses.replace(old, se_ver=old.se_ver + 1, final=True, interrupted=True))

    def _send(self, sentence: Sentence) -> None:
        self._emitted[sentence.key] = sentence
        if sentence.final:
            if not sentence.interrupted:
                self._finals.append(sentence)
            if len(self._emitted) > 4 * RECENT_FINALS:
                # Only open sentences and recent finals can still matter.
                for key in [k for k, s in self._emitted.items() if s.final][: 2 * RECENT_FINALS]:
                    del self._emitted[key]
        self._out(SentenceRevised(sentence))


def _as(sentence: Sentence, taken: Sentence) -> Sentence:
    """`sentence` under the identity of the cut one it completes (key, service session, SeId; SeVer counted on
    from its last), so every consumer sees it as a newer revision of the same sentence."""
    return dataclasses.replace(
        sentence,
        key=taken.key,
        service_session=taken.service_session,
        se_id=taken.se_id,
        se_ver=sentence.se_ver + taken.se_ver,
    )


def _mostly_within(sentence: Sentence, final: Sentence) -> bool:
    """Whether most of `sentence` lies inside `final` (a repeat of it from re-sent audio)."""
    if sentence.end_ms <= sentence.start_ms:
        return final.start_ms <= sentence.start_ms < final.end_ms
    overlap = min(sentence.end_ms, final.end_ms) - max(sentence.start_ms, final.start_ms)
    return overlap * 2 > sentence.end_ms - sentence.start_ms
