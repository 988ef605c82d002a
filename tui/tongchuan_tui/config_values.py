"""The value of each setting, checked and normalised: one validator per setting (`VALIDATORS`).

A validator takes what a config file, a TONGCHUAN_* variable or a flag gave (a string, or any TOML value) and
returns the setting's value, or raises `Bad` saying what is allowed (`BadSentence`: a whole sentence). The
message naming the key and where it came from is made by `config`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tongchuan_tui.api.client import parse_endpoint
from tongchuan_tui.api.models import LANGUAGES


class Bad(Exception):
    """A value is not allowed; the argument says what is."""


class BadSentence(Bad):
    """A value is not allowed; the argument is a whole sentence naming the setting and the value."""


def _choice(*allowed: str, fold: Callable[[str], str] = lambda s: s) -> Callable[[object], str]:
    def check(value: object) -> str:
        if isinstance(value, str) and fold(value.strip()) in allowed:
            return fold(value.strip())
        raise Bad("one of " + ", ".join(allowed))

    return check


def _targets(value: object) -> str:
    """One language or several (a list, or comma separated), as "en,ja": none twice."""
    items: list[object]
    if isinstance(value, str):
        items = [part for part in value.split(",")]
    elif isinstance(value, list | tuple) and value:
        items = list(value)
    else:
        items = [value]
    codes = [_choice(*LANGUAGES)(item) for item in items]
    if len(set(codes)) != len(codes):
        raise Bad("languages named once each, e.g. en,ja")
    return ",".join(codes)


def _int_range(low: int, high: int, only: tuple[int, ...] = ()) -> Callable[[object], int]:
    allowed = " or ".join(map(str, only)) if only else f"an integer from {low} to {high}"

    def check(value: object) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise Bad(allowed) from None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Bad(allowed)
        if only and value not in only:
            raise Bad(allowed)
        return value

    return check


def _translate_time(value: object) -> int:
    # The reference defines 0 and 2 only; 1 (the quick start's value) is kept working as an alias of 2 rather
    # than sent as a value whose meaning is undocumented.
    try:
        checked = _int_range(0, 2, only=(0, 1, 2))(value)
    except Bad:
        raise Bad("0 (no translation) or 2 (real-time sentence translation)") from None
    return 2 if checked == 1 else checked


def _float_range(low: float, high: float) -> Callable[[object], float]:
    allowed = f"a number of seconds from {low:g} to {high:g}"

    def check(value: object) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise Bad(allowed) from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise Bad(allowed)
        return float(value)

    return check


def _optional_bool(value: object) -> bool | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        return _bool(value)
    except Bad:
        raise Bad("true, false or auto") from None


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise Bad("true or false")


def _text(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise Bad("a non-empty string")


def _secret(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    raise Bad("a string")


def _profile(value: object) -> str:
    text = _text(value)
    if any(c in text for c in "[]\n\r"):
        raise Bad("a profile name without brackets or line breaks")
    return text


def _optional_path(value: object) -> Path | None:
    if isinstance(value, Path):
        return value.expanduser()
    if isinstance(value, str):
        return Path(value.strip()).expanduser() if value.strip() else None
    raise Bad("a directory path (a string)")


def _optional_file(value: object) -> Path | None:
    if isinstance(value, Path):
        return value.expanduser()
    if isinstance(value, str):
        return Path(value.strip()).expanduser() if value.strip() else None
    raise Bad("a file path (a string)")


def _serve(value: object) -> str | None:
    from tongchuan_tui.outputs.address import parse_serve_address

    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Bad("[HOST:]PORT, e.g. 8080 or 0.0.0.0:8080")
    if not value.strip():
        return None
    try:
        parse_serve_address(value)
    except ValueError as exc:
        raise Bad(f"[HOST:]PORT, e.g. 8080 or 0.0.0.0:8080 ({exc})") from None
    return value.strip()


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _serve_token(value: object) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if 8 <= len(text) <= 256 and set(text) <= _TOKEN_CHARS:
            return text
    raise Bad("8 to 256 characters of A-Z, a-z, 0-9, - . _ ~")


def _optional_voice_type(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _int_range(0, 999_999_999)(value)


def _number(low: float, high: float, *, decimals: int | None = None) -> Callable[[object], float]:
    allowed = f"a number from {low:g} to {high:g}" + (
        f" with at most {decimals} decimals" if decimals else ""
    )
    within = _float_range(low, high)

    def check(value: object) -> float:
        try:
            number = within(value)
        except Bad:
            raise Bad(allowed) from None
        if decimals is not None and abs(round(number, decimals) - number) > 1e-9:
            raise Bad(allowed)
        return number

    return check


def _optional_voice_out(value: object) -> str | None:
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str):
        raise Bad('a .wav or .flac file path, or "-"')
    text = value.strip()
    if not text:
        return None
    if text != "-" and Path(text).suffix.lower() not in (".wav", ".flac"):
        raise Bad('a .wav or .flac file path, or "-" (raw PCM on stdout)')
    return text if text == "-" else str(Path(text).expanduser())


def _optional_device(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise Bad('"default", a device index or a device name')


def _optional_language(value: object) -> str | None:
    if isinstance(value, str) and not value.strip():
        return None
    return _choice("zh-CN", "en-US")(value)


def _endpoint(value: object) -> str:
    if not isinstance(value, str):
        raise Bad("a URL such as https://tsi.tencentcloudapi.com/")
    try:
        return parse_endpoint(value).url
    except ValueError as exc:  # already "endpoint '…' must …"
        raise BadSentence(str(exc)) from None


VALIDATORS: dict[str, Callable[[object], object]] = {
    "input": _text,
    "source": _choice(*LANGUAGES),
    "target": _targets,
    "mode": _choice("sync", "split"),
    "chunk_ms": _int_range(200, 500),
    "max_backlog_ms": _int_range(1000, 600000),
    "translate_time": _translate_time,
    "display_interval_ms": _int_range(100, 10000),
    "upload_rate_limit": _int_range(1, 1000),
    "endpoint": _endpoint,
    "profile": _profile,
    "language": _optional_language,
    "request_timeout_s": _float_range(0.5, 120),
    "end_timeout_s": _float_range(0, 120),
    "stdin_live": _optional_bool,
    "url_give_up_s": _float_range(1, 86400),
    "journal": _bool,
    "journal_dir": _optional_path,
    "layout": _choice("auto", "side", "stacked", "interleaved", "translation"),
    "final_only": _bool,
    "log_level": _choice("DEBUG", "INFO", "WARNING", "ERROR", fold=str.upper),
    "serve": _serve,
    "serve_token": _serve_token,
    "serve_max_clients": _int_range(1, 10000),
    "live_srt": _optional_file,
    "live_vtt": _optional_file,
    "live_text": _optional_file,
    "live_text_lines": _int_range(1, 100),
    "voice": _bool,
    "voice_type": _optional_voice_type,
    "voice_speed": _number(-2, 6, decimals=2),
    "voice_volume": _number(-10, 10),
    "voice_sample_rate": _int_range(8000, 16000, only=(16000, 8000)),
    "voice_codec": _choice("wav", "mp3", "pcm", fold=str.lower),
    "voice_catch_up_ms": _int_range(500, 60000),
    "voice_out": _optional_voice_out,
    "voice_device": _optional_device,
    "keep_voice": _bool,
    "secret_id": _secret,
    "secret_key": _secret,
    "token": _secret,
}
"""Per setting (every field of `config.Settings`), the validator of its value."""
