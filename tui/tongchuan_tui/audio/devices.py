"""Capture devices as PortAudio sees them, without the noise ALSA and JACK print while probing."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal

from tongchuan_tui.audio.source import AudioInputError

logger = logging.getLogger(__name__)

PIPE_ALTERNATIVE = "arecord -f S16_LE -r 16000 -c 1 -t raw | ssh HOST tongchuan-tui --input - --plain"
NO_DEVICE_HINT = f"over SSH pipe audio from the machine with the microphone instead: {PIPE_ALTERNATIVE}"
NO_PYAUDIO = "microphone capture needs PyAudio: pip install 'tongchuan-tui[mic]'"

Direction = Literal["input", "output"]
"""Capture or playback, as PortAudio counts a device's channels."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A capture device as PortAudio lists it."""

    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool = False


_ALSA_HANDLER = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)
_JACK_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
_silencers: list[object] = []  # the C callbacks must outlive every call into the libraries
_silence_lock = threading.Lock()


def _ignore_alsa(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    return None


def _ignore_jack(message: bytes | None) -> None:
    return None


def silence_native_audio_logs() -> None:
    """Stop ALSA and JACK printing their probing errors to the terminal (idempotent).

    PortAudio's initialisation makes ALSA and JACK report every PCM and server they cannot open, straight to
    file descriptor 2. Their own error hooks are replaced instead of redirecting fd 2, because Textual draws
    the screen on fd 2 and a redirect would swallow frames.
    """
    with _silence_lock:
        if _silencers:
            return
        alsa_handler, jack_handler = _ALSA_HANDLER(_ignore_alsa), _JACK_HANDLER(_ignore_jack)
        _silencers.extend((alsa_handler, jack_handler))
        for name, setters, handler in (
            ("asound", ("snd_lib_error_set_handler",), alsa_handler),
            ("jack", ("jack_set_error_function", "jack_set_info_function"), jack_handler),
        ):
            path = ctypes.util.find_library(name)
            if path is None:
                continue
            try:
                library = ctypes.CDLL(path)
                for setter in setters:
                    getattr(library, setter)(handler)
            except (OSError, AttributeError) as exc:
                logger.debug("cannot silence %s: %s", name, exc)


def no_pyaudio_message(error: ImportError | None = None) -> str:
    """Why the microphone cannot work without PyAudio, and which system package to install for it here.

    `error` is the ImportError seen: a PyAudio that is installed but cannot load the PortAudio library is
    told apart from a missing PyAudio.
    """
    from tongchuan_tui.audio.system import portaudio_hint  # reads /etc/os-release: only when needed

    hint = portaudio_hint().text()
    if error is not None and "portaudio" in str(error).lower():
        return f"PyAudio is installed but cannot load the PortAudio library ({error}): {hint}"
    return f"microphone capture needs PyAudio (the mic extra), which is built against PortAudio: {hint}"


def import_pyaudio() -> Any:
    """The pyaudio module; AudioInputError when the optional dependency or its PortAudio is missing."""
    try:
        import pyaudio
    except ImportError as exc:
        raise AudioInputError(f"{no_pyaudio_message(exc)}; or {NO_DEVICE_HINT}") from exc
    return pyaudio


def pyaudio_problem() -> str | None:
    """Why PyAudio cannot be used here (with the system package to install), or None when it can."""
    try:
        import pyaudio  # noqa: F401
    except ImportError as exc:
        return no_pyaudio_message(exc)
    return None


def pyaudio_available() -> bool:
    """True when PyAudio (and so PortAudio) can be imported."""
    return pyaudio_problem() is None


def portaudio_devices(pa: Any, direction: Direction) -> list[DeviceInfo]:
    """The capture ("input") or playback ("output") devices of an initialised PyAudio instance."""
    default_info = (
        pa.get_default_input_device_info if direction == "input" else pa.get_default_output_device_info
    )
    try:
        default: int | None = int(default_info()["index"])
    except (OSError, KeyError):
        default = None
    channels_key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    found = []
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        channels = int(info.get(channels_key, 0))
        if channels <= 0:
            continue
        found.append(
            DeviceInfo(
                index=index,
                name=str(info.get("name", f"device {index}")),
                channels=channels,
                default_rate=float(info.get("defaultSampleRate", 0.0)),
                is_default=index == default,
            )
        )
    return found


def list_portaudio_devices(direction: Direction) -> list[DeviceInfo]:
    """The devices PortAudio can open in `direction`; [] when there are none or PyAudio is not installed."""
    try:
        pyaudio = import_pyaudio()
    except AudioInputError:
        logger.info("PyAudio is not installed: no %s devices", direction)
        return []
    silence_native_audio_logs()
    pa = pyaudio.PyAudio()
    try:
        return portaudio_devices(pa, direction)
    finally:
        pa.terminate()


def input_devices(pa: Any) -> list[DeviceInfo]:
    """The capture devices of an initialised PyAudio instance."""
    return portaudio_devices(pa, "input")


def list_devices() -> list[DeviceInfo]:
    """The capture devices PortAudio can open; [] when there are none or PyAudio is not installed."""
    return list_portaudio_devices("input")


LISTING = "see `tongchuan-tui devices`"


@dataclass(frozen=True, slots=True)
class DeviceWords:
    """How one option words a selector that names no single device (the rest of each message is shared).

    `noun` is the kind of device ("capture"); `no_devices` the whole message when there is none at all;
    `choose` how to name one when there is no default; `choose_index` how to name one of several that match.
    """

    noun: str
    no_devices: str
    choose: str
    choose_index: str


class NoSuchDevice(LookupError):
    """No single device answers a selector; the message is one line, worded by the caller's DeviceWords."""


def find_device(devices: list[DeviceInfo], selector: str | None, words: DeviceWords) -> DeviceInfo:
    """The device `selector` names: None the default, digits an index, else a name (case-insensitive).

    An exact name wins; otherwise the one name containing `selector`. Raises NoSuchDevice.
    """
    if not devices:
        raise NoSuchDevice(words.no_devices)
    noun = words.noun
    if selector is None:
        for device in devices:
            if device.is_default:
                return device
        raise NoSuchDevice(f"no default {noun} device; {words.choose} ({LISTING})")
    if selector.isdigit():
        for device in devices:
            if device.index == int(selector):
                return device
        raise NoSuchDevice(f"no {noun} device with index {int(selector)}; {LISTING} for the list")
    wanted = selector.casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    matches = exact[:1] or [d for d in devices if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NoSuchDevice(f"no {noun} device named like {selector!r}; {LISTING} for the list")
    names = ", ".join(f"{d.index} ({d.name})" for d in matches)
    raise NoSuchDevice(f"{selector!r} matches several {noun} devices: {names}; {words.choose_index}")


_CAPTURE = DeviceWords(
    noun="capture",
    no_devices=f"no capture device found; {NO_DEVICE_HINT}",
    choose="choose one with --input mic:<index>",
    choose_index="use --input mic:<index>",
)


def resolve_device(devices: list[DeviceInfo], selector: str | None) -> DeviceInfo:
    """The device for `mic` (None: the default), `mic:<index>` or `mic:<name substring>`."""
    try:
        return find_device(devices, selector, _CAPTURE)
    except NoSuchDevice as exc:
        raise AudioInputError(str(exc)) from None
