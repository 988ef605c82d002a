"""Output devices as PortAudio sees them, chosen with the syntax of inputs: `default`, an index or a name."""

from __future__ import annotations

import logging
from typing import Any

from tongchuan_tui.audio.devices import (
    DeviceWords,
    NoSuchDevice,
    find_device,
    import_pyaudio,
    list_portaudio_devices,
    portaudio_devices,
    silence_native_audio_logs,
)
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.services import DeviceInfo
from tongchuan_tui.voice import VoiceError

log = logging.getLogger(__name__)


def output_devices(pa: Any) -> list[DeviceInfo]:
    """The playback devices of an initialised PyAudio instance."""
    return portaudio_devices(pa, "output")


def list_output_devices() -> list[DeviceInfo]:
    """The playback devices PortAudio can open; [] when there are none or PyAudio is not installed."""
    return list_portaudio_devices("output")


_OUTPUT = DeviceWords(
    noun="output",
    no_devices="no audio output device found; write the voice to a file with --voice-out",
    choose="give an index or a name",
    choose_index="give the index",
)


def resolve_output(devices: list[DeviceInfo], spec: str) -> DeviceInfo:
    """The device for `default` (or empty), `INDEX` or a `NAME` substring (case-insensitive)."""
    selector = spec.strip()
    if selector.startswith("out:"):
        selector = selector[4:].strip()
    try:
        return find_device(devices, None if selector in ("", "default") else selector, _OUTPUT)
    except NoSuchDevice as exc:
        raise VoiceError(f"--voice-device: {exc}") from None


def open_output_stream(spec: str, rate: int) -> tuple[Any, Any, str]:
    """(PyAudio, an open s16 mono output stream at `rate`, the device's name); raises VoiceError."""
    try:
        pyaudio = import_pyaudio()
    except AudioInputError as exc:
        raise VoiceError(f"--voice-device needs PyAudio: {exc}") from None
    silence_native_audio_logs()
    pa = pyaudio.PyAudio()
    try:
        device = resolve_output(output_devices(pa), spec)
        stream = pa.open(
            format=pyaudio.paInt16,
            channels=1,
            rate=rate,
            output=True,
            output_device_index=device.index,
            frames_per_buffer=rate // 50,
        )
    except VoiceError:
        pa.terminate()
        raise
    except Exception as exc:  # PortAudio's OSError: the device refuses the format
        pa.terminate()
        raise VoiceError(f"--voice-device {spec}: cannot be opened at {rate} Hz mono ({exc})") from None
    return pa, stream, device.name


def format_outputs(devices: list[DeviceInfo]) -> str:
    """The output device table for `devices` (or the plain statement that there is none)."""
    if not devices:
        return "No audio output device found: write the voice to a file instead (--voice-out FILE.wav)."
    width = max(len("name"), *(len(d.name) for d in devices))
    lines = [
        "Output devices (--voice-device):",
        f"  {'index':>5}  {'name':<{width}}  {'channels':>8}  {'default rate':>12}",
    ]
    for device in devices:
        marker = "*" if device.is_default else " "
        rate = f"{device.default_rate:.0f} Hz"
        lines.append(f"{marker} {device.index:>5}  {device.name:<{width}}  {device.channels:>8}  {rate:>12}")
    lines.append("")
    lines.append("* default (--voice-device default); choose another with --voice-device <index> or <name>")
    return "\n".join(lines)
