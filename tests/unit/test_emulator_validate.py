"""Parameter validation of the three actions, with the service's error codes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.validate import parse_display, parse_upload

GOOD: dict[str, Any] = {
    "SessionUuid": "s-1",
    "Source": "zh",
    "Target": "en",
    "AudioFormat": 1,
    "Seq": 0,
    "Utc": 1_764_000_000,
    "IsEnd": 0,
    "TranslateTime": 2,
    "Data": base64.b64encode(b"\x00\x01" * 3200).decode(),
}


def code(params: dict[str, Any]) -> str:
    with pytest.raises(ApiFailure) as info:
        parse_upload(params)
    return info.value.code


def test_a_good_upload_parses() -> None:
    upload = parse_upload({**GOOD, "IsEnd": 1})
    assert (upload.session_uuid, upload.seq, upload.is_end, len(upload.data)) == ("s-1", 0, True, 6400)


@pytest.mark.parametrize(
    "name", ["SessionUuid", "Source", "Target", "AudioFormat", "Seq", "Utc", "IsEnd", "Data"]
)
def test_each_required_field_is_missing_parameter(name: str) -> None:
    assert code({k: v for k, v in GOOD.items() if k != name}) == "MissingParameter"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Seq": "0"}, "InvalidParameter"),
        ({"IsEnd": True}, "InvalidParameter"),
        ({"Source": "zh", "Target": "zh"}, "InvalidParameterValue"),
        ({"Source": "en", "Target": "ja"}, "InvalidParameterValue"),
        ({"Source": "fr", "Target": "zh"}, "InvalidParameterValue"),
        ({"AudioFormat": 2}, "UnsupportedOperation.AudioFormat"),
        ({"TranslateTime": 3}, "UnsupportedOperation.TranslateTime"),
        ({"IsEnd": 2}, "UnsupportedOperation.IsEnd"),
        ({"Seq": -1}, "InvalidParameterValue"),
        ({"Data": "not base64!"}, "InvalidParameterValue"),
        ({"SessionUuid": ""}, "InvalidParameterValue"),
        ({"TTS": {"Codec": "ogg"}}, "InvalidParameterValue"),
        ({"TTS": {"Volume": 11}}, "InvalidParameterValue"),
    ],
)
def test_bad_values_get_the_services_codes(changes: dict[str, Any], expected: str) -> None:
    assert code({**GOOD, **changes}) == expected


@pytest.mark.parametrize(
    ("source", "target"), [("zh", "en"), ("zh", "ja"), ("zh", "ko"), ("zh", "yue"), ("yue", "zh")]
)
def test_every_supported_pair_is_accepted(source: str, target: str) -> None:
    assert parse_upload({**GOOD, "Source": source, "Target": target}).target == target


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"SessionUuid": "s", "IsNew": 0, "SeMax": 5}, "UnsupportedOperation.IsNew"),
        ({"SessionUuid": "s", "IsNew": 1, "SeMax": 10}, "UnsupportedOperation.SeMax"),
        ({"SessionUuid": "s", "IsNew": 1}, "MissingParameter"),
    ],
)
def test_display_supports_only_newest_first_and_five(params: dict[str, Any], expected: str) -> None:
    assert parse_display({"SessionUuid": "s", "IsNew": 1, "SeMax": 5}).session_uuid == "s"
    with pytest.raises(ApiFailure) as info:
        parse_display(params)
    assert info.value.code == expected
