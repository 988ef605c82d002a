"""Property: whatever the SeIds look like, whatever Sync's List holds, whatever unit StartTime counts in, and
in whatever order a List comes, the transcript ends the same — every sentence final once, whole, in spoken
order, placed within a second of when it was said."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.pipeline.transcript import Transcript

STEP_MS = 200
LATENCY_MS = 600
"""The simulated service reports speech this long (service-side audio) after it was said."""
SETTLE_MS = 400
"""...and makes a sentence final this long after its last word."""
LISTS = ("newest5", "changed", "all", "empty", "null")


@dataclass(frozen=True)
class Spoken:
    """A sentence as it was said: its id, words and service-side audio span (ms)."""

    se_id: str
    words: tuple[str, ...]
    start_ms: int
    end_ms: int

    def state(self, heard_ms: int) -> tuple[int, bool] | None:
        """(words recognized, final) once `heard_ms` of audio was heard, or None if not yet reported."""
        if heard_ms < self.start_ms + LATENCY_MS:
            return None
        done = (heard_ms - LATENCY_MS - self.start_ms) / max(1, self.end_ms - self.start_ms)
        count = max(1, min(len(self.words), round(len(self.words) * done)))
        return count, heard_ms >= self.end_ms + LATENCY_MS + SETTLE_MS


ids = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789abcdef:", min_size=1, max_size=16),
    st.integers(0, 10**6).map(str),
    st.sampled_from(["句子", "😀:😀", "a:b", ":", "0", "00", "xxx"]),
)


@st.composite
def talks(draw: st.DrawFn) -> list[Spoken]:
    n = draw(st.integers(1, 12))
    se_ids = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    out: list[Spoken] = []
    at = draw(st.integers(0, 3000))
    for k, se_id in enumerate(se_ids):
        length = draw(st.integers(1000, 3500))
        words = tuple(f"w{k}.{j}" for j in range(draw(st.integers(1, 6))))
        out.append(Spoken(se_id, words, at, at + length))
        at += length + draw(st.integers(0, 2500))
    return out


class Service:
    """One service session saying `talk`: Sync answers per `lists` (in `order`), Display as documented."""

    def __init__(self, talk: list[Spoken], unit_ms: int, lists: str, order: str, seed: int) -> None:
        self.talk, self.unit_ms, self.lists, self.order = talk, unit_ms, lists, order
        self.rng = random.Random(seed)
        self.versions: dict[str, tuple[int, tuple[int, bool]]] = {}
        self.told: dict[str, int] = {}

    def current(self, heard_ms: int) -> list[DisplayInfo]:
        """Every sentence reported so far, oldest first."""
        out = []
        for spoken in self.talk:
            state = spoken.state(heard_ms)
            if state is None:
                break
            ver, old = self.versions.get(spoken.se_id, (0, (0, False)))
            if old != state:
                ver += 1
                self.versions[spoken.se_id] = (ver, state)
            count, final = state
            heard_end = min(spoken.end_ms, heard_ms - LATENCY_MS)
            out.append(
                DisplayInfo(
                    spoken.se_id,
                    ver,
                    " ".join(spoken.words[:count]),
                    " ".join(w.upper() for w in spoken.words[:count]),
                    spoken.start_ms // self.unit_ms,
                    max(spoken.start_ms, heard_end) // self.unit_ms,
                    final,
                )
            )
        return out

    def sync(self, heard_ms: int) -> list[DisplayInfo]:
        every = self.current(heard_ms)
        if self.lists == "newest5":
            listed = every[::-1][:5]
        elif self.lists == "all":
            listed = every
        elif self.lists == "changed":
            listed = [s for s in every if self.told.get(s.se_id) != s.se_ver]
            self.told.update({s.se_id: s.se_ver or 0 for s in listed})
        else:
            listed = []  # "empty"; "null" reaches the transcript as no sentence at all
        if self.order == "shuffled":
            self.rng.shuffle(listed)
        elif self.order == "reversed":
            listed.reverse()
        return listed

    def display(self, heard_ms: int) -> list[DisplayInfo]:
        return self.current(heard_ms)[::-1][:5]


def interpret(
    talk: list[Spoken], unit_ms: int, lists: str, order: str, polls: list[int], seed: int, offset_ms: int
) -> list[Sentence]:
    """What the client makes of it: one Sync answer per packet, Display every few packets, then close."""
    service = Service(talk, unit_ms, lists, order, seed)
    transcript = Transcript()
    timeline = transcript.open_session(0, offset_ms)
    finalized: set[str] = set()

    def take(changed: list[Sentence]) -> None:
        for sentence in changed:
            assert sentence.key not in finalized, "a final sentence changed again"
            if sentence.final:
                finalized.add(sentence.key)

    total_ms = talk[-1].end_ms + LATENCY_MS + SETTLE_MS + 2 * STEP_MS
    steps = total_ms // STEP_MS + 1
    next_poll = polls[0]
    for step in range(steps):
        timeline.add(step * STEP_MS, offset_ms + step * STEP_MS)
        heard = (step + 1) * STEP_MS
        take(transcript.apply(0, service.sync(heard)))
        if step >= next_poll or step == steps - 1:
            take(transcript.apply(0, service.display(heard), polled=True))
            next_poll = step + polls[step % len(polls)]
    take(transcript.close_session(0))
    return transcript.sentences()


@settings(max_examples=300, deadline=None)
@given(
    talk=talks(),
    unit_ms=st.sampled_from([1, 10, 1000]),
    lists=st.sampled_from(LISTS),
    order=st.sampled_from(["as-is", "reversed", "shuffled"]),
    polls=st.lists(st.integers(1, 4), min_size=1, max_size=8),
    seed=st.integers(0, 2**16),
    offset_ms=st.sampled_from([0, 61_000]),
)
def test_the_final_transcript_is_the_same_whatever_the_service_leaves_open(
    talk: list[Spoken], unit_ms: int, lists: str, order: str, polls: list[int], seed: int, offset_ms: int
) -> None:
    got = interpret(talk, unit_ms, lists, order, polls, seed, offset_ms)
    assert [s.se_id for s in got] == [s.se_id for s in talk], "each sentence once, in spoken order"
    assert all(s.final for s in got)
    assert [s.source_text for s in got] == [" ".join(s.words) for s in talk], "each one whole"
    for sentence, spoken in zip(got, talk, strict=True):
        assert abs(sentence.start_ms - (offset_ms + spoken.start_ms)) < 1000
        assert sentence.raw_start == spoken.start_ms // unit_ms


@settings(max_examples=100, deadline=None)
@given(talk=talks(), a=st.sampled_from(LISTS), b=st.sampled_from(LISTS), seed=st.integers(0, 2**16))
def test_two_list_semantics_give_identical_transcripts(talk: list[Spoken], a: str, b: str, seed: int) -> None:
    def view(lists: str) -> list[tuple[str, str, str, int, int, bool]]:
        return [
            (s.key, s.source_text, s.target_text, s.start_ms, s.end_ms, s.final)
            for s in interpret(talk, 10, lists, "shuffled", [3], seed, 0)
        ]

    assert view(a) == view(b)
