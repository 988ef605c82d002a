"""Choosing a voice output device with `--voice-device`: the lookup of `--input mic:`, in its own words."""

from __future__ import annotations

import pytest

from tongchuan_tui.services import DeviceInfo
from tongchuan_tui.voice import VoiceError
from tongchuan_tui.voice.devices import resolve_output

NAMES = {
    0: "HDA Intel PCH: ALC3246 Analog (hw:0,0)",
    2: "HDA Intel PCH: HDMI 0 (hw:0,3)",
    4: "pulse",
    7: "default",
}
OUTPUTS = [
    DeviceInfo(index, name, 2, 48_000.0, is_default=name == "default") for index, name in NAMES.items()
]


@pytest.mark.parametrize(
    ("spec", "index"),
    [("default", 7), ("", 7), (" out:2 ", 2), ("hdmi", 2), ("PULSE", 4), ("out:default", 7)],
)
def test_output_selection(spec: str, index: int) -> None:
    assert resolve_output(OUTPUTS, spec).index == index


@pytest.mark.parametrize(
    ("devices", "spec", "message"),
    [
        (
            [],
            "default",
            "--voice-device: no audio output device found; write the voice to a file with --voice-out",
        ),
        (OUTPUTS[:3], "default", "--voice-device: no default output device; give an index or a name (see `"),
        (
            OUTPUTS,
            "9",
            "--voice-device: no output device with index 9; see `tongchuan-tui devices` for the list",
        ),
        (
            OUTPUTS,
            "usb",
            "--voice-device: no output device named like 'usb'; see `tongchuan-tui devices` for",
        ),
        (OUTPUTS, "hw:0", "--voice-device: 'hw:0' matches several output devices: 0 (HDA Intel PCH: ALC3246"),
    ],
)
def test_an_output_that_cannot_be_chosen_says_what_to_give(
    devices: list[DeviceInfo], spec: str, message: str
) -> None:
    with pytest.raises(VoiceError) as caught:
        resolve_output(devices, spec)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_several_matches_end_with_how_to_choose_one() -> None:
    with pytest.raises(
        VoiceError, match=r"0 \(.*\), 2 \(HDA Intel PCH: HDMI 0 \(hw:0,3\)\); give the index$"
    ):
        resolve_output(OUTPUTS, "hw:0")
