"""`tongchuan-tui devices`: the capture devices `--input mic:<index or name>` can use."""

from __future__ import annotations

import click

from tongchuan_tui.audio.devices import (
    NO_DEVICE_HINT,
    NO_PYAUDIO,
    DeviceInfo,
    list_devices,
    pyaudio_available,
)

_PIPE_INSTEAD = NO_DEVICE_HINT[0].upper() + NO_DEVICE_HINT[1:]


def format_devices(devices: list[DeviceInfo]) -> str:
    """The device table (or the plain statement that there is none, with the piping alternative)."""
    if not devices:
        return f"No audio capture device found (the usual case over SSH).\n{_PIPE_INSTEAD}"
    width = max(len("name"), *(len(d.name) for d in devices))
    lines = [f"  {'index':>5}  {'name':<{width}}  {'channels':>8}  {'default rate':>12}"]
    for device in devices:
        marker = "*" if device.is_default else " "
        rate = f"{device.default_rate:.0f} Hz"
        lines.append(f"{marker} {device.index:>5}  {device.name:<{width}}  {device.channels:>8}  {rate:>12}")
    lines.append("")
    lines.append("* default (--input mic); choose another with --input mic:<index> or mic:<name>")
    return "\n".join(lines)


@click.command("devices")
def devices_command() -> None:
    """List the audio capture devices (index, name, channels, default rate), then the output devices.

    Exits 0 even when there is none: that is an answer, printed with the alternative of piping audio in.
    """
    if not pyaudio_available():
        from tongchuan_tui.audio.devices import pyaudio_problem

        # The problem names the system package to install here; NO_PYAUDIO if PyAudio appeared meanwhile.
        click.echo(f"No audio capture: {pyaudio_problem() or NO_PYAUDIO}.\n{_PIPE_INSTEAD}")
        return
    click.echo(format_devices(list_devices()))
    from tongchuan_tui.voice.devices import format_outputs, list_output_devices

    click.echo("\n" + format_outputs(list_output_devices()))
