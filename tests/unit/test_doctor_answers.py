"""The doctor's reading of raw answers: what SeId, List and the time fields looked like."""

from __future__ import annotations

from typing import Any

import pytest

from tongchuan_tui.doctor.answers import describe, list_behaviour, se_id_shape, time_unit_guess


def answer(*sentences: dict[str, Any], absent: bool = False) -> dict[str, Any]:
    return {"RequestId": "r"} if absent else {"RequestId": "r", "List": list(sentences)}


def sentence(se_id: Any, end: Any = 900, **extra: Any) -> dict[str, Any]:
    return {
        "SeId": se_id,
        "SeVer": 1,
        "SourceText": "x",
        "StartTime": 0,
        "EndTime": end,
        "IsEnd": True,
        **extra,
    }


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([], "no sentences"),
        ([3, 4], "JSON numbers"),
        (["3", "4"], "numeric strings"),
        (["0c4641e341e5", "ab"], "opaque strings"),
    ],
)
def test_se_id_shape(ids: list[Any], expected: str) -> None:
    assert se_id_shape([answer(*(sentence(i) for i in ids))]) == expected


def test_list_behaviour_counts_absent_empty_and_sizes() -> None:
    responses = [answer(absent=True), answer(), answer(), answer(sentence("a"), sentence("b"))]
    assert list_behaviour(responses) == "absent or null in 1, [] in 2, 2 sentences in 1 of 4"
    assert list_behaviour([{"RequestId": "r", "List": None}]) == "absent or null in 1 of 1"


@pytest.mark.parametrize(
    ("end", "unit"),
    [(950, "ms"), ("95", "10 ms"), (1, "s")],
)
def test_time_unit_guess_fits_the_audio_sent(end: Any, unit: str) -> None:
    assert time_unit_guess([answer(sentence("a", end=end))], sent_ms=1000).startswith(f"{unit} (")


def test_silence_gives_no_unit_guess_and_unknown_fields_are_listed() -> None:
    assert time_unit_guess([answer()], sent_ms=1000).startswith("not observable")
    found = describe([{**answer(sentence("a", Extra=1)), "Trace": "t"}], sent_ms=1000)
    assert found["extra_fields"] == {"response": ["Trace"], "sentence": ["Extra"]}
