"""What the client accepts in a DisplayInfo: everything the API reference leaves open, nothing it forbids."""

from __future__ import annotations

from typing import Any

import pytest

from tongchuan_tui.api.models import DisplayInfo, TtsOptions

BASE: dict[str, Any] = {
    "SeId": "0c4641e341e5",
    "SeVer": 2,
    "SourceText": "大家好",
    "TargetText": "Hello everyone",
    "StartTime": 122,
    "EndTime": 126,
    "IsEnd": True,
}


@pytest.mark.parametrize(
    ("se_id", "expected"),
    [
        ("0c4641e341e5", "0c4641e341e5"),  # opaque, as the reference's String type allows
        ("xxx", "xxx"),  # the reference's own example value
        ("12", "12"),
        ("007", "007"),  # text, not a number: leading zeros are part of the id
        ("a:b:c", "a:b:c"),
        ("句子-1", "句子-1"),
        (12, "12"),  # a JSON number (some peers send one) becomes its decimal text
        (12.0, "12"),
    ],
)
def test_se_id_is_kept_as_text(se_id: object, expected: str) -> None:
    assert DisplayInfo.from_json(BASE | {"SeId": se_id}).se_id == expected


@pytest.mark.parametrize("se_id", [None, True, 1.5, [1], {"id": 1}])
def test_a_se_id_that_is_not_a_string_or_a_whole_number_is_malformed(se_id: object) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        DisplayInfo.from_json(BASE | {"SeId": se_id})


def test_a_missing_se_id_is_malformed() -> None:
    with pytest.raises(KeyError, match="SeId"):
        DisplayInfo.from_json({k: v for k, v in BASE.items() if k != "SeId"})


def test_unknown_fields_are_ignored() -> None:
    parsed = DisplayInfo.from_json(BASE | {"Confidence": 0.9, "Speaker": {"Id": 3}, "Words": []})
    assert parsed == DisplayInfo.from_json(BASE)


def test_optional_fields_may_be_missing() -> None:
    parsed = DisplayInfo.from_json({"SeId": "s"})
    assert parsed == DisplayInfo("s", None, "", "", 0, 0, False)


def test_integers_may_arrive_as_numeric_strings() -> None:
    parsed = DisplayInfo.from_json(BASE | {"SeVer": "12", "StartTime": "122", "EndTime": " 126 "})
    assert (parsed.se_ver, parsed.start_time, parsed.end_time) == (12, 122, 126)


@pytest.mark.parametrize(
    ("is_end", "final"), [(True, True), (False, False), (1, True), (0, False), ("1", True), ("false", False)]
)
def test_is_end_accepts_a_boolean_or_its_integer_forms(is_end: object, final: bool) -> None:
    assert DisplayInfo.from_json(BASE | {"IsEnd": is_end}).is_end is final


@pytest.mark.parametrize(
    "bad",
    [{"SeVer": "two"}, {"StartTime": "soon"}, {"EndTime": [1]}, {"IsEnd": "maybe"}, {"SourceText": 3}],
)
def test_a_field_of_the_wrong_type_is_malformed(bad: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        DisplayInfo.from_json(BASE | bad)


def test_tts_volume_and_speed_are_floats_as_the_reference_declares() -> None:
    body = TtsOptions(codec="pcm", voice_type=101001, volume=-2.5, speed=1.25).to_json()
    assert (body["Volume"], body["Speed"]) == (-2.5, 1.25)
