"""Live outputs, the pure parts: the serve address, its settings, and the feed's history and resync rules."""

from __future__ import annotations

import json

import pytest
from tests.functional.outputs_helpers import STARTED, revision

from tongchuan_tui.config import ConfigError, load_settings, settings_for_display
from tongchuan_tui.outputs import parse_serve_address
from tongchuan_tui.outputs.address import is_loopback
from tongchuan_tui.outputs.state import LiveTranscript
from tongchuan_tui.pipeline.events import HealthChanged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:8080", ("::1", 8080)),
    ],
)
def test_serve_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_serve_address(text) == expected


@pytest.mark.parametrize("text", ["", "http", ":80", "1.2.3.4:99999", "::1:80", "[::1]80"])
def test_bad_serve_addresses_say_what_is_wrong(text: str) -> None:
    with pytest.raises(ValueError, match=r"PORT|port|host"):
        parse_serve_address(text)


def test_only_this_machine_counts_as_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")


def test_serve_settings_are_validated_and_the_token_never_shown() -> None:
    with pytest.raises(ConfigError, match="serve must be") as info:
        load_settings(env={}, flags={"serve": "0.0.0.0:http"})
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="serve_token must be") as info:
        load_settings(env={}, flags={"serve_token": "short"})
    assert "short" not in str(info.value)
    loaded = load_settings(env={"TONGCHUAN_SERVE_TOKEN": "a-long-enough-token"}, flags={"serve": "8080"})
    assert loaded.settings.serve == "8080"
    assert loaded.settings.serve_token == "a-long-enough-token"
    assert "a-long-enough-token" not in repr(loaded.settings)
    assert "a-long-enough-token" not in str(settings_for_display(loaded.settings))


def test_the_feed_replays_what_followed_an_id_or_asks_for_a_snapshot() -> None:
    live = LiveTranscript(history=3)
    live.apply(STARTED)
    items = [live.apply(revision(1, v, f"v{v}")) for v in range(1, 5)]
    assert [i.id for i in items if i is not None] == [2, 3, 4, 5]
    assert live.since(5) == []
    assert [i.id for i in live.since(3) or []] == [4, 5]
    assert live.since(1) is None  # id 2 has left the ring
    assert live.since(99) is None  # not one of ours: the server restarted
    snapshot = live.snapshot()
    assert snapshot.id == 5
    assert '"v4"' in snapshot.data
    assert snapshot.encode().startswith(b"id: 5\nevent: snapshot\ndata: {")


def test_sentences_are_in_timeline_order_whatever_order_they_arrive_in() -> None:
    live = LiveTranscript()
    live.apply(revision(3, 1, "third", final=True))
    live.apply(revision(1, 1, "first", final=True))
    live.apply(revision(2, 1, "second"))
    assert [s.target_text for s in live.sentences()] == ["first", "second", "third"]
    assert [s.target_text for s in live.sentences(final_only=True)] == ["first", "third"]


def test_the_state_item_carries_the_health_state() -> None:
    live = LiveTranscript()
    live.apply(STARTED)
    item = live.apply(
        HealthChanged("reconnecting", "service unreachable", "NetworkError (×2)", 1_700_000_000.0)
    )
    assert item is not None
    assert item.kind == "state"
    data = json.loads(item.data)
    assert data["state"] == "started"
    assert data["health"] == {"state": "reconnecting", "reason": "service unreachable", "since_utc": 1.7e9}
    assert json.loads(live.snapshot().data)["status"]["health"]["state"] == "reconnecting"
