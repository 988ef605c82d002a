"""The official SDK as the reference peer for every wire variant: its response models take our emulator's
answers field by field, and its TsiClient runs whole sessions to the same transcript in each variant."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.tsi.v20210325 import models
from tests.functional.emulator_helpers import (
    display_request,
    final_texts,
    keep_newest,
    sdk_client,
    signed_post,
    upload_request,
)

from tongchuan_tui.emulator.testing import EmulatorHandle, OffsetClock, run_emulator_in_thread
from tongchuan_tui.emulator.variants import WireVariant

PACKET_BYTES = 6400
PACKETS = 11
CUES = [
    {"start_ms": 100, "end_ms": 900, "source": "早上好。", "target": "Good morning."},
    {"start_ms": 1100, "end_ms": 1900, "source": "开始吧。", "target": "Let's begin."},
]
EXPECTED = [(c["source"], c["target"]) for c in CUES]
FIELDS = ("SeId", "SeVer", "SourceText", "TargetText", "StartTime", "EndTime", "IsEnd", "Audio")
EXTRA = {"Confidence", "SpeakerId", "Words"}
#: Variants inside what the reference allows (SeId a String, the rest Integers and Booleans as declared).
ALLOWED = {
    "default": WireVariant(),
    "opaque-changed-seconds-extra": WireVariant(
        se_id="opaque", sync_list="changed", time_unit="s", extra_fields=True
    ),
    "opaque-all-10ms-null-sparse": WireVariant(
        se_id="opaque", sync_list="all", time_unit="10ms", empty_list="null", omit_empty=True
    ),
    "missing-empty-list-refuse-duplicates": WireVariant(empty_list="missing", duplicate_seq="refuse"),
    "sync-list-always-empty": WireVariant(sync_list="empty", se_id="opaque"),
}


def packet(seq: int) -> bytes:
    return bytes([seq % 251 + 1, 0]) * (PACKET_BYTES // 2)


@pytest.fixture(params=list(ALLOWED), ids=list(ALLOWED))
def variant(request: pytest.FixtureRequest) -> WireVariant:
    return ALLOWED[request.param]


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
def emu(variant: WireVariant, clock: OffsetClock) -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=CUES, clock=clock, variant=variant) as handle:
        yield handle


def deserialized(model: Any, response: dict[str, Any]) -> list[str]:
    """Fill an SDK response model from the raw `Response` object; the SDK's warnings, as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model._deserialize(response)
    return [str(w.message) for w in caught]


def check_fields(model: Any, response: dict[str, Any], variant: WireVariant) -> None:
    """Every field the SDK model holds is the one we sent, with the type the reference declares."""
    assert model.RequestId == response["RequestId"]
    items = response.get("List")
    if items is None:
        assert model.List is None
        return
    assert len(model.List) == len(items)
    for sentence, item in zip(model.List, items, strict=True):
        for name in FIELDS:
            assert getattr(sentence, name) == item.get(name), name
        assert isinstance(sentence.SeId, str)
        assert all(isinstance(getattr(sentence, n), int) for n in ("SeVer", "StartTime", "EndTime"))
        assert isinstance(sentence.IsEnd, bool)
        for name in ("SourceText", "TargetText"):
            assert isinstance(getattr(sentence, name), str) or (
                variant.omit_empty and getattr(sentence, name) is None
            )


def test_the_sdk_models_take_every_field_of_sync_and_display(
    emu: EmulatorHandle, clock: OffsetClock, variant: WireVariant
) -> None:
    listed = 0
    for seq in range(PACKETS):
        params = upload_request("Sync", "fields", seq, packet(seq), is_end=seq == PACKETS - 1)
        _, body = signed_post(
            emu.url, "TongChuanSync", json_of(params), secret_id=emu.secret_id, secret_key=emu.secret_key
        )
        response = body["Response"]
        assert "Error" not in response, response
        sync = models.TongChuanSyncResponse()
        said = deserialized(sync, response)
        check_fields(sync, response, variant)
        _, shown = signed_post(
            emu.url,
            "TongChuanDisplay",
            json_of(display_request("fields")),
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
        )
        display = models.TongChuanDisplayResponse()
        said += deserialized(display, shown["Response"])
        check_fields(display, shown["Response"], variant)
        listed += len(sync.List or ())
        # The SDK reports fields it does not know, and ignores them: exactly our extras, nothing else.
        assert all(set(w.split(" ")[0].split(",")) == EXTRA for w in said)
        assert bool(said) == (variant.extra_fields and bool(sync.List or display.List))
        clock.advance(0.2)
    assert (listed == 0) == (variant.sync_list == "empty")


def test_the_sdk_client_gets_the_same_transcript_in_every_variant(
    emu: EmulatorHandle, clock: OffsetClock
) -> None:
    client = sdk_client(emu)
    best: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's notes on unknown fields (checked above)
        for seq in range(PACKETS):
            request = upload_request("Sync", "sdk", seq, packet(seq), is_end=seq == PACKETS - 1)
            keep_newest(best, client.TongChuanSync(request).List)
            keep_newest(best, client.TongChuanDisplay(display_request("sdk")).List)
            clock.advance(0.2)
    assert final_texts(best) == EXPECTED
    assert emu.state.session("sdk").seqs == list(range(PACKETS))


def json_of(model: Any) -> dict[str, Any]:
    """An SDK request model's parameters, as it would serialise them."""
    return dict(json.loads(model.to_json_string()))
