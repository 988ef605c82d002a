"""The rollover stitcher on its own: what the sinks see when a service session is cut mid-sentence."""

from __future__ import annotations

import dataclasses

from tongchuan_tui.pipeline.events import (
    Event,
    Sentence,
    SentenceRevised,
    ServiceSessionOpened,
    event_from_json,
    event_to_json,
)
from tongchuan_tui.pipeline.stitch import Stitcher
from tongchuan_tui.ui.rows import revision_tag


def sentence(index: int, se_id: str, ver: int, text: str, start: int, end: int, final: bool) -> Sentence:
    return Sentence(
        key=f"{index}:{se_id}",
        service_session=index,
        se_id=se_id,
        se_ver=ver,
        source_text=text,
        target_text=text.lower(),
        start_ms=start,
        end_ms=end,
        final=final,
    )


class Seen:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def last(self) -> dict[str, Sentence]:
        out: dict[str, Sentence] = {}
        for e in self.events:
            if isinstance(e, SentenceRevised):
                out[e.sentence.key] = e.sentence
        return out


def test_the_resent_sentence_takes_over_the_cut_one_and_a_repeat_is_dropped() -> None:
    seen = Seen()
    stitch = Stitcher(seen)
    stitch.feed(ServiceSessionOpened("u0", 0, 0, "start"))
    stitch.feed(SentenceRevised(sentence(0, "a", 3, "A", 100, 800, True)))
    cut = sentence(0, "b", 2, "B~", 1100, 1500, False)
    stitch.feed(SentenceRevised(cut))
    resend_from = stitch.abandon(0, [cut], kept_from_ms=0, sent_ms=1600)
    assert resend_from == 1100
    # The abandoned session's forced final of the cut sentence never reaches the sinks.
    stitch.feed(SentenceRevised(dataclasses.replace(cut, final=True)))
    stitch.feed(ServiceSessionOpened("u1", 1, 1100, "rollover"))
    stitch.feed(SentenceRevised(sentence(1, "x", 1, "B", 1100, 1300, False)))
    stitch.feed(SentenceRevised(sentence(1, "x", 2, "B", 1100, 1800, True)))
    stitch.feed(SentenceRevised(sentence(1, "y", 1, "C", 2100, 2800, True)))
    stitch.finish()
    last = seen.last()
    assert sorted(last) == ["0:a", "0:b", "1:y"]
    b = last["0:b"]
    assert (b.source_text, b.start_ms, b.end_ms, b.final, b.interrupted) == ("B", 1100, 1800, True, False)
    revisions = [
        e.sentence.se_ver for e in seen.events if isinstance(e, SentenceRevised) and e.sentence.key == "0:b"
    ]
    # One key, ever newer revisions: every consumer takes each one.
    assert revisions == sorted(set(revisions)), revisions
    assert not any(
        isinstance(e, SentenceRevised) and e.sentence.final and e.sentence.source_text == "B~"
        for e in seen.events
    )


def test_a_cut_sentence_nothing_completes_is_final_and_interrupted() -> None:
    seen = Seen()
    stitch = Stitcher(seen)
    stitch.feed(ServiceSessionOpened("u0", 0, 0, "start"))
    cut = sentence(0, "b", 2, "B~", 1100, 1500, False)
    stitch.feed(SentenceRevised(cut))
    stitch.abandon(0, [cut], kept_from_ms=0, sent_ms=1600)
    stitch.feed(ServiceSessionOpened("u1", 1, 1100, "rollover"))
    # The new session hears nothing where B was and goes on past it: B can no longer be completed.
    stitch.feed(SentenceRevised(sentence(1, "y", 1, "C", 2100, 2800, True)))
    b = seen.last()["0:b"]
    assert (b.source_text, b.final, b.interrupted, b.se_ver) == ("B~", True, True, 3)
    assert revision_tag(b) == "cut"
    # The journal keeps the mark.
    again = event_from_json(event_to_json(SentenceRevised(b)))
    assert isinstance(again, SentenceRevised)
    assert again.sentence.interrupted


def test_audio_no_longer_kept_cannot_be_resent() -> None:
    seen = Seen()
    stitch = Stitcher(seen)
    cut = sentence(0, "b", 2, "B~", 1100, 1500, False)
    stitch.feed(SentenceRevised(cut))
    assert stitch.abandon(0, [cut], kept_from_ms=1400, sent_ms=1600) == 1400
    assert seen.last()["0:b"].interrupted
