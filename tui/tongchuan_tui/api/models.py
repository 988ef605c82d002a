"""Typed requests and results of the tsi API (version 2021-03-25), and their JSON forms."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

SERVICE = "tsi"
API_VERSION = "2021-03-25"
DEFAULT_HOST = "tsi.tencentcloudapi.com"
DEFAULT_ENDPOINT = f"https://{DEFAULT_HOST}/"

ACTION_SYNC = "TongChuanSync"
ACTION_RECOGNIZE = "TongChuanRecognize"
ACTION_DISPLAY = "TongChuanDisplay"
ACTIONS = (ACTION_SYNC, ACTION_RECOGNIZE, ACTION_DISPLAY)

LANGUAGES = ("zh", "en", "ja", "ko", "yue")
#: Which targets each source language may be interpreted into.
LANGUAGE_PAIRS: dict[str, tuple[str, ...]] = {
    "zh": ("en", "ja", "ko", "yue"),
    "en": ("zh",),
    "ja": ("zh",),
    "ko": ("zh",),
    "yue": ("zh",),
}

AUDIO_FORMAT_PCM = 1
TRANSLATE_NONE = 0
TRANSLATE_SENTENCE = 2


def is_supported_pair(source: str, target: str) -> bool:
    """Whether the service interprets `source` into `target`."""
    return target in LANGUAGE_PAIRS.get(source, ())


@dataclass(frozen=True, slots=True)
class TtsOptions:
    """Synthesized speech of the translation, returned in each sentence's `Audio`."""

    codec: str = "pcm"
    voice_type: int = 0
    volume: float = 0.0
    """−10..10."""
    speed: float = 0.0
    """−2..6 (−2 = 0.6×, 0 = 1×, 6 = 2.5×); two decimals."""
    sample_rate: int = 16000

    def to_json(self) -> dict[str, Any]:
        """The `TTS` object of an upload."""
        return {
            "Codec": self.codec,
            "VoiceType": self.voice_type,
            "Volume": self.volume,
            "Speed": self.speed,
            "SampleRate": self.sample_rate,
        }


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """One audio packet of a service session, for TongChuanSync or TongChuanRecognize."""

    session_uuid: str
    source: str
    target: str
    seq: int
    utc: int
    is_end: bool
    data: bytes
    translate_time: int = TRANSLATE_SENTENCE
    audio_format: int = AUDIO_FORMAT_PCM
    tts: TtsOptions | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body's parameters."""
        body: dict[str, Any] = {
            "SessionUuid": self.session_uuid,
            "Source": self.source,
            "Target": self.target,
            "AudioFormat": self.audio_format,
            "Seq": self.seq,
            "Utc": self.utc,
            "IsEnd": 1 if self.is_end else 0,
            "TranslateTime": self.translate_time,
            "Data": base64.b64encode(self.data).decode("ascii"),
        }
        if self.tts is not None:
            body["TTS"] = self.tts.to_json()
        return body


@dataclass(frozen=True, slots=True)
class DisplayRequest:
    """A poll for the newest sentences of a service session (TongChuanDisplay)."""

    session_uuid: str
    is_new: int = 1
    se_max: int = 5

    def to_json(self) -> dict[str, Any]:
        """The request body's parameters."""
        return {"SessionUuid": self.session_uuid, "IsNew": self.is_new, "SeMax": self.se_max}


@dataclass(frozen=True, slots=True)
class DisplayInfo:
    """One sentence as the service reports it; it comes back many times as it is revised.

    `se_id` is opaque text (the reference declares SeId a String): compared for equality only, never parsed
    or ordered. `start_time`/`end_time` are the raw StartTime/EndTime, in a unit the reference does not give
    (the transcript calibrates it). `se_ver` is None when the service left SeVer out.
    """

    se_id: str
    se_ver: int | None
    source_text: str
    target_text: str
    start_time: int
    end_time: int
    is_end: bool
    audio: str | None = None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> DisplayInfo:
        """Parse one element of a response's `List`; raises KeyError/TypeError/ValueError on bad shape.

        Lenient where the reference is silent: unknown fields are ignored, optional ones may be missing, and
        integers may come as numeric strings ("12"). SeId must be present, as a string or a whole number.
        """
        if not isinstance(obj, dict):
            raise TypeError(f"a sentence is a JSON {type(obj).__name__}, not an object")
        return cls(
            se_id=_se_id(obj.get("SeId")),
            se_ver=None if obj.get("SeVer") is None else _integer(obj["SeVer"], "SeVer"),
            source_text=_text(obj.get("SourceText"), "SourceText"),
            target_text=_text(obj.get("TargetText"), "TargetText"),
            start_time=_integer(obj.get("StartTime") or 0, "StartTime"),
            end_time=_integer(obj.get("EndTime") or 0, "EndTime"),
            is_end=_boolean(obj.get("IsEnd"), "IsEnd"),
            audio=_text(obj.get("Audio"), "Audio") or None,
        )

    def to_json(self) -> dict[str, Any]:
        """The wire form, as the service sends it."""
        out: dict[str, Any] = {
            "SeId": self.se_id,
            "SeVer": self.se_ver,
            "SourceText": self.source_text,
            "TargetText": self.target_text,
            "StartTime": self.start_time,
            "EndTime": self.end_time,
            "IsEnd": self.is_end,
        }
        if self.audio is not None:
            out["Audio"] = self.audio
        return out


def _se_id(value: Any) -> str:
    """SeId as text: a string as is; a JSON whole number (some peers send one) as its decimal text."""
    if isinstance(value, str):
        return value
    if value is None:
        raise KeyError("SeId")
    if isinstance(value, bool):
        raise TypeError("SeId is a boolean, not a string")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise TypeError(f"SeId is a JSON {type(value).__name__}, not a string")


def _integer(value: Any, name: str) -> int:
    """A JSON integer, or a whole number written as a numeric string ("12") or float (12.0)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} is a boolean, not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise ValueError(f"{name} is not an integer: {str(value)[:40]!r}")


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{name} is a JSON {type(value).__name__}, not a string")
    return value


_TRUE = {"1", "true"}
_FALSE = {"0", "false", ""}


def _boolean(value: Any, name: str) -> bool:
    """A JSON boolean; also 0/1 and their string forms, which loosely typed peers send."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{name} is not a boolean: {str(value)[:40]!r}")


@dataclass(frozen=True, slots=True)
class ApiResult:
    """A successful answer: its RequestId and the sentences it carried (empty for Recognize)."""

    request_id: str
    sentences: tuple[DisplayInfo, ...] = field(default_factory=tuple)
