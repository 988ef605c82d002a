"""Validation of the actions' parameters with the service's error codes, into typed requests."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tongchuan_tui.emulator import codes
from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.wire import AUDIO_FORMAT_PCM, LANGUAGE_PAIRS, LANGUAGES, TRANSLATE_TIMES

MAX_SESSION_UUID_LEN = 128
TTS_CODECS = ("wav", "mp3", "pcm")
TTS_SAMPLE_RATES = (16000, 8000)


@dataclass(frozen=True, slots=True)
class TtsParams:
    """The validated TTS object of an upload."""

    codec: str
    sample_rate: int
    speed: float = 0.0


@dataclass(frozen=True, slots=True)
class Upload:
    """A validated TongChuanSync / TongChuanRecognize request."""

    session_uuid: str
    source: str
    target: str
    seq: int
    utc: int
    is_end: bool
    translate_time: int
    data: bytes
    tts: TtsParams | None = None


@dataclass(frozen=True, slots=True)
class Display:
    """A validated TongChuanDisplay request."""

    session_uuid: str


def _bad_value(name: str, detail: str) -> ApiFailure:
    return ApiFailure(codes.INVALID_PARAMETER_VALUE, f"The value of parameter `{name}` is invalid: {detail}.")


def _get(params: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in params or params[name] is None:
        raise codes.missing(name)
    value = params[name]
    # JSON true/false are not integers to the service.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiFailure(
            codes.INVALID_PARAMETER, f"The type of parameter `{name}` is invalid: expected {kind.__name__}."
        )
    return value


def _session_uuid(params: Mapping[str, Any]) -> str:
    value: str = _get(params, "SessionUuid", str)
    if not value.strip() or len(value) > MAX_SESSION_UUID_LEN:
        raise _bad_value("SessionUuid", f"must be 1..{MAX_SESSION_UUID_LEN} characters")
    return value


def _tts(params: Mapping[str, Any]) -> TtsParams | None:
    raw = params.get("TTS")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ApiFailure(codes.INVALID_PARAMETER, "The type of parameter `TTS` is invalid: expected object.")
    codec = raw.get("Codec", "pcm")
    if codec not in TTS_CODECS:
        raise _bad_value("TTS.Codec", f"must be one of {', '.join(TTS_CODECS)}")
    for name, low, high in (("Volume", -10, 10), ("Speed", -2, 6)):
        value = raw.get(name, 0)
        if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
            raise _bad_value(f"TTS.{name}", f"must be a number from {low} to {high}")
    rate = raw.get("SampleRate", 16000)
    if rate not in TTS_SAMPLE_RATES:
        raise _bad_value("TTS.SampleRate", "must be 16000 or 8000")
    return TtsParams(codec=str(codec), sample_rate=int(rate), speed=float(raw.get("Speed", 0)))


def parse_upload(params: Mapping[str, Any]) -> Upload:
    """The upload request in `params`; raises ApiFailure in the service's order of checks."""
    session_uuid = _session_uuid(params)
    source: str = _get(params, "Source", str)
    target: str = _get(params, "Target", str)
    audio_format: int = _get(params, "AudioFormat", int)
    seq: int = _get(params, "Seq", int)
    utc: int = _get(params, "Utc", int)
    is_end: int = _get(params, "IsEnd", int)
    translate_time: int = _get(params, "TranslateTime", int)
    data: str = _get(params, "Data", str)
    if source not in LANGUAGES:
        raise _bad_value("Source", f"{source!r} is not one of {', '.join(LANGUAGES)}")
    if target not in LANGUAGE_PAIRS[source]:
        allowed = ", ".join(LANGUAGE_PAIRS[source])
        raise _bad_value("Target", f"{source} can be interpreted into {allowed}, not {target!r}")
    if audio_format != AUDIO_FORMAT_PCM:
        raise ApiFailure(
            codes.UNSUPPORTED_AUDIO_FORMAT, "Unsupported AudioFormat: only 1 (PCM) is supported."
        )
    if translate_time not in TRANSLATE_TIMES:
        raise ApiFailure(codes.UNSUPPORTED_TRANSLATE_TIME, "Unsupported TranslateTime: use 0, 1 or 2.")
    if is_end not in (0, 1):
        raise ApiFailure(codes.UNSUPPORTED_IS_END, "Unsupported IsEnd: use 0 or 1.")
    if seq < 0:
        raise _bad_value("Seq", "must not be negative")
    if utc < 0:
        raise _bad_value("Utc", "must not be negative")
    try:
        audio = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _bad_value("Data", "not valid base64") from None
    return Upload(
        session_uuid=session_uuid,
        source=source,
        target=target,
        seq=seq,
        utc=utc,
        is_end=is_end == 1,
        translate_time=translate_time,
        data=audio,
        tts=_tts(params),
    )


def parse_display(params: Mapping[str, Any]) -> Display:
    """The display request in `params`; IsNew must be 1 and SeMax 5, the only values the service supports."""
    session_uuid = _session_uuid(params)
    is_new: int = _get(params, "IsNew", int)
    se_max: int = _get(params, "SeMax", int)
    if is_new != 1:
        raise ApiFailure(codes.UNSUPPORTED_IS_NEW, "Unsupported IsNew: only 1 (newest first) is supported.")
    if se_max != 5:
        raise ApiFailure(codes.UNSUPPORTED_SE_MAX, "Unsupported SeMax: only 5 is supported.")
    return Display(session_uuid=session_uuid)
