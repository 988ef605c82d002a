"""The `TTS` object each upload carries when the voice is asked for, from the settings.

Default voice per target language (`voice_type` unset), from the service's standard voices (the API takes
standard voices only; see Tencent's voice list, cloud.tencent.com/document/product/1073/92668):
- en → 1051 (WeRose, English female); zh → 1001 (智瑜, Mandarin female);
- ja → 0: Japanese has one fixed voice, whatever VoiceType says;
- ko, yue → 0 (the service's default voice): no standard voice of these languages is listed; set
  `voice_type` if your account has one.
"""

from __future__ import annotations

from tongchuan_tui.api.models import TtsOptions
from tongchuan_tui.config import Settings

DEFAULT_VOICES: dict[str, int] = {"en": 1051, "zh": 1001, "ja": 0, "ko": 0, "yue": 0}


def voice_requested(settings: Settings) -> bool:
    """Whether the session asks for speech: --voice, or an output or --keep-voice that needs it."""
    return bool(settings.voice or settings.voice_out or settings.voice_device or settings.keep_voice)


def default_voice(target: str) -> int:
    """The VoiceType used for `target` when none is set."""
    return DEFAULT_VOICES.get(target, 0)


def tts_options(settings: Settings) -> TtsOptions | None:
    """The upload's TTS object (None when the voice is not asked for)."""
    if not voice_requested(settings):
        return None
    voice = settings.voice_type if settings.voice_type is not None else default_voice(settings.target)
    return TtsOptions(
        codec=settings.voice_codec,
        voice_type=voice,
        volume=settings.voice_volume,
        speed=settings.voice_speed,
        sample_rate=settings.voice_sample_rate,
    )
