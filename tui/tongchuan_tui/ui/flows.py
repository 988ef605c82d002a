"""The two conversations behind `d` and `e`: pick from a list, do the (blocking) work off the loop, say how
it went. Run as workers of the app; failures end as one-line notifications, never as tracebacks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.app import App

from tongchuan_tui.audio.devices import DeviceInfo
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.config import log_file
from tongchuan_tui.ui.screens.pickers import device_picker, export_picker

log = logging.getLogger(__name__)


async def pick_device(
    app: App[Any],
    list_devices: Callable[[], list[DeviceInfo]],
    switch_device: Callable[[str], Awaitable[None]],
    current: str | None,
) -> None:
    """List the capture devices (PortAudio may block, so in a thread), let the user pick one, switch live."""
    try:
        devices = await asyncio.to_thread(list_devices)
    except Exception as error:
        log.warning("listing capture devices failed: %s", error)
        app.notify(f"Cannot list devices: {error}", severity="error", markup=False)
        return
    if not devices:
        app.notify("No capture devices found.", severity="warning")
        return
    choice = await app.push_screen_wait(device_picker(devices, current))
    if choice is None:
        return
    try:
        await switch_device(choice)
    except AudioInputError as error:
        app.notify(str(error), title="Input not switched", severity="error", markup=False)
    except Exception:
        log.exception("switching the input to %s failed", choice)
        app.notify(
            f"Could not switch the input (details in the log file {log_file()}).",
            severity="error",
            markup=False,
        )


async def export_transcript(app: App[Any], export: Callable[[str, Path | None], Path]) -> None:
    """Let the user pick a format, export the journal in it (file I/O, so in a thread), say where."""
    fmt = await app.push_screen_wait(export_picker())
    if fmt is None:
        return
    try:
        path = await asyncio.to_thread(export, fmt, None)
    except Exception as error:
        log.warning("export to %s failed: %s", fmt, error)
        app.notify(f"Export failed: {error}", severity="error", markup=False)
        return
    app.notify(f"Exported to {path}", title="Export", timeout=10, markup=False)
