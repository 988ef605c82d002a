"""Microphone capture through PyAudio/PortAudio, converted to 16 kHz mono when the device cannot do it."""

from __future__ import annotations

import logging
from typing import Any

from tongchuan_tui.audio.devices import (
    DeviceInfo,
    import_pyaudio,
    input_devices,
    resolve_device,
    silence_native_audio_logs,
)
from tongchuan_tui.audio.format import CHANNELS, SAMPLE_RATE
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.resample import ToServiceFormat
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)

WATCH_INTERVAL_S = 0.5
"""How often the capture thread checks that the device is still delivering."""


class MicSource(ThreadedSource):
    """A capture device (`selector`: None for the default, an index or a name substring).

    PortAudio's callback thread converts and queues each buffer; the source's own thread owns the stream
    (start, watch, stop). Input overflows (the OS dropped audio because we were late) are counted in
    `overflows`, never fatal.
    """

    live = True

    def __init__(self, selector: str | None = None, *, buffer_ms: int = 100) -> None:
        super().__init__()
        self.selector = selector
        self.description = "mic" if selector is None else f"mic:{selector}"
        self.device: DeviceInfo | None = None
        self.rate = SAMPLE_RATE
        self.channels = CHANNELS
        self.overflows = 0
        self._buffer_ms = buffer_ms
        self._pyaudio: Any = None
        self._pa: Any = None
        self._stream: Any = None
        self._convert = ToServiceFormat()
        self._feed: PcmPipe | None = None

    def _open(self) -> None:
        self._pyaudio = import_pyaudio()
        silence_native_audio_logs()
        self._pa = self._pyaudio.PyAudio()
        device = resolve_device(input_devices(self._pa), self.selector)
        self.device = device
        self.description = f"mic:{device.name}"
        self.rate, self.channels = self._choose_format(device)
        frames = max(1, self.rate * self._buffer_ms // 1000)
        try:
            self._stream = self._pa.open(
                format=self._pyaudio.paInt16,
                channels=self.channels,
                rate=self.rate,
                input=True,
                input_device_index=device.index,
                frames_per_buffer=frames,
                stream_callback=self._callback,
                start=False,
            )
        except (OSError, ValueError) as exc:
            raise AudioInputError(
                f"capture device {device.index} ({device.name}) cannot be opened ({_reason(exc)}); "
                "is another program using it? Close it or choose another with --input mic:<index>"
            ) from exc
        if (self.rate, self.channels) != (SAMPLE_RATE, CHANNELS):
            logger.info(
                "%s: capturing %d Hz × %d, converting to 16 kHz mono", device.name, self.rate, self.channels
            )

    def _choose_format(self, device: DeviceInfo) -> tuple[int, int]:
        """16 kHz mono if the device takes it, else its default rate, mono or its own channel count."""
        native = int(device.default_rate) or 48_000
        candidates = [(SAMPLE_RATE, CHANNELS), (native, 1), (native, min(2, device.channels))]
        candidates.append((native, device.channels))
        for rate, channels in candidates:
            try:
                supported = self._pa.is_format_supported(
                    rate,
                    input_device=device.index,
                    input_channels=channels,
                    input_format=self._pyaudio.paInt16,
                )
            except ValueError:
                continue
            if supported:
                return rate, channels
        raise AudioInputError(
            f"capture device {device.index} ({device.name}) takes no 16-bit format we can use; "
            "choose another with --input mic:<index>"
        )

    def _callback(
        self, data: bytes | None, frame_count: int, time_info: Any, status: int
    ) -> tuple[None, int]:
        pyaudio = self._pyaudio
        pipe = self._feed
        if status & pyaudio.paInputOverflow:
            self.overflows += 1
        if pipe is None or pipe.closed:
            return None, pyaudio.paComplete
        if data:
            pcm = self._convert.pcm(data, self.rate, self.channels)
            if pcm:
                pipe.put(pcm)
        return None, pyaudio.paContinue

    def _produce(self, pipe: PcmPipe) -> None:
        self._feed = pipe
        self._stream.start_stream()
        while not pipe.wait_closed(WATCH_INTERVAL_S):
            if not self._stream.is_active():
                raise AudioInputError(
                    f"{self.description}: the capture device stopped delivering audio (unplugged?); "
                    "choose another with --input mic:<index>"
                )

    def _release(self) -> None:
        stream, self._stream = self._stream, None
        pa, self._pa = self._pa, None
        if stream is not None:
            try:
                stream.stop_stream()
            finally:
                stream.close()
        if pa is not None:
            pa.terminate()


def _reason(exc: BaseException) -> str:
    # PyAudio errors are (errno, "text") pairs.
    args = exc.args
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(exc)
