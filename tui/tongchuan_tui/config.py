"""Settings: defaults < config file (TOML) < environment (TONGCHUAN_*) < command-line flags, each validated.

A bad key or value is one line naming the key, where it came from and what is allowed (each value's check is
in `config_values`).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

from tongchuan_tui.api.credentials import REDACTED, mask, permission_warning
from tongchuan_tui.api.models import DEFAULT_ENDPOINT, LANGUAGE_PAIRS
from tongchuan_tui.config_values import VALIDATORS, Bad, BadSentence

log = logging.getLogger(__name__)

APP_NAME = "tongchuan-tui"
ENV_PREFIX = "TONGCHUAN_"
SECRET_KEYS = ("secret_id", "secret_key", "token")
"""Settings read only from the config file's [credentials] table (never from TONGCHUAN_* or flags)."""


class ConfigError(Exception):
    """A config file, environment variable or flag that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting with its default; the bundled example config (`config --example`) documents each."""

    input: str = "mic"
    """Audio input: "mic" (default device), "mic:N" or "mic:NAME", a file, a URL, or "-" (PCM on stdin)."""
    source: str = "zh"
    """Language spoken: zh, en, ja, ko or yue."""
    target: str = "en"
    """Language(s) to interpret into: from zh → en, ja, ko, yue; from en, ja, ko, yue → zh. Several, comma
    separated ("en,ja") or a list in the file, interpret the same speech into each at once (one service
    session per target; the first one's source text is shown)."""
    mode: str = "sync"
    """API flow: "sync" (TongChuanSync answers each packet with results) or "split" (Recognize + Display)."""
    chunk_ms: int = 200
    """Audio per packet, in milliseconds (200..500; the service drops shorter packets)."""
    max_backlog_ms: int = 10000
    """Live inputs: audio waiting to be sent beyond this (ms) is dropped, oldest first (1000..600000)."""
    translate_time: int = 2
    """TranslateTime sent with each packet: 0 = no translation, 2 = real-time sentence translation (the only
    values the API reference defines). 1, which the official quick start sends, is read as 2."""
    display_interval_ms: int = 300
    """Split mode: how often TongChuanDisplay is polled, in milliseconds (100..10000)."""
    upload_rate_limit: int = 25
    """Requests per second the account may make of TongChuanSync (and of TongChuanRecognize): the service's
    default is 25; lower it to leave room for other programs on the account (1..1000)."""
    endpoint: str = DEFAULT_ENDPOINT
    """Service URL; https anywhere, plain http only sensible for a local emulator."""
    profile: str = "default"
    """Section of ~/.tencentcloud/credentials to read the keys from."""
    language: str | None = None
    """X-TC-Language for the service's error messages: zh-CN or en-US (unset: the service's default)."""
    request_timeout_s: float = 10.0
    """Seconds one API request may take before it counts as a network failure (0.5..120)."""
    end_timeout_s: float = 10.0
    """Seconds to wait for the last results after the final packet (IsEnd) (0..120)."""
    stdin_live: bool | None = None
    """Audio on stdin is live (dropped past max_backlog_ms when the service is slow, like a microphone's):
    true or false; unset: live unless stdin is a regular file (`< talk.raw`)."""
    url_give_up_s: float = 120.0
    """Seconds a URL input may go without new audio (down, dropping, or not audio) while it is reconnected
    with backoff, before the session ends with exit code 4 (1..86400)."""
    journal: bool = True
    """Write a session journal (JSON lines) of every session."""
    journal_dir: Path | None = None
    """Where journals go (unset: the platform data dir's "sessions" folder)."""
    layout: str = "auto"
    """Transcript layout: auto, side, stacked, interleaved or translation."""
    final_only: bool = False
    """Show only finished sentences, not the ones still being revised."""
    log_level: str = "INFO"
    """Detail of the diagnostic log file: DEBUG, INFO, WARNING or ERROR."""
    serve: str | None = None
    """Serve the caption page, event feed and transcript over HTTP at "[HOST:]PORT" (loopback unless a host
    is given; unset: no server)."""
    serve_token: str | None = field(default=None, repr=False)
    """Token every request to the live server must carry (8+ URL-safe characters; unset: none on loopback,
    a generated one beyond it)."""
    serve_max_clients: int = 100
    """Most live-server clients connected at once (1..10000); more are answered 503."""
    live_srt: Path | None = None
    """SRT file rewritten (atomically) as each sentence finalises (unset: none)."""
    live_vtt: Path | None = None
    """WebVTT file rewritten (atomically) as each sentence finalises (unset: none)."""
    live_text: Path | None = None
    """Text file holding the last `live_text_lines` translations, for an OBS text source (unset: none)."""
    live_text_lines: int = 2
    """Lines kept in `live_text` (1..100)."""
    voice: bool = False
    """Ask the service for synthesized speech (TTS) of each translation (implied by voice_out,
    voice_device and keep_voice)."""
    voice_type: int | None = None
    """VoiceType, a standard voice ID (0..999999999; unset: chosen for the target language, see "Voice")."""
    voice_speed: float = 0.0
    """Speaking speed, -2..6 (-2 = 0.6x, -1 = 0.8x, 0 = 1x, 1 = 1.2x, 2 = 1.5x, 6 = 2.5x; two decimals)."""
    voice_volume: float = 0.0
    """Loudness, -10..10 (0 = normal)."""
    voice_sample_rate: int = 16000
    """Sample rate of the speech and of the voice track: 16000 or 8000."""
    voice_codec: str = "wav"
    """Codec the speech is asked for in: wav, mp3 or pcm (decoded whatever comes)."""
    voice_catch_up_ms: int = 3000
    """How far (ms) the voice may fall behind live before it speeds up, beyond 3x this skips (500..60000)."""
    voice_out: str | None = None
    """Write the voice track to this .wav or .flac file, or "-": raw s16le mono PCM on stdout (unset: no)."""
    voice_device: str | None = None
    """Play the voice live on this output device: "default", an index or a name (unset: none)."""
    keep_voice: bool = False
    """Keep each sentence's speech beside the journal (JOURNAL.voice/), for `export --voice`."""
    secret_id: str | None = field(default=None, repr=False)
    """[credentials] table only: SecretId, used when neither the environment nor the profile file has keys."""
    secret_key: str | None = field(default=None, repr=False)
    """[credentials] table only: SecretKey. Keep the file private (chmod 600)."""
    token: str | None = field(default=None, repr=False)
    """[credentials] table only: session token of temporary keys (sent as X-TC-Token)."""

    @property
    def targets(self) -> tuple[str, ...]:
        """The target languages, the first one (whose source text is shown) first."""
        return tuple(self.target.split(","))


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    """Effective settings, the config file actually read (None if none), and where each value came from."""

    settings: Settings
    path: Path | None
    origins: Mapping[str, str]
    """Per setting: "default", "file", "env TONGCHUAN_X" or "flag --x"."""
    warnings: tuple[str, ...] = ()
    """Problems worth telling the user on stderr (a config file holding a secret readable by others)."""
    default_path: Path = field(default_factory=lambda: default_config_path())


FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(Settings)}
DEFAULTS = Settings()


@cache
def setting_docs() -> dict[str, str]:
    """The attribute docstring of each setting, read from this module's source."""
    tree = ast.parse(inspect.getsource(Settings))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = after.value.value
    return docs


# -- platform paths ---------------------------------------------------------------------------------------


def default_config_path() -> Path:
    """The config file read when no --config is given (it need not exist)."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    """The platform data dir of tongchuan-tui (journals live under it)."""
    return platformdirs.user_data_path(APP_NAME)


def sessions_dir(settings: Settings) -> Path:
    """Where session journals are written."""
    return settings.journal_dir if settings.journal_dir is not None else data_dir() / "sessions"


def log_file() -> Path:
    """The diagnostic log file (rotated), in the platform state/log dir."""
    return platformdirs.user_log_path(APP_NAME) / "tongchuan-tui.log"


def settings_for_display(settings: Settings) -> dict[str, object]:
    """Every setting as plain JSON-able values, secrets masked (for `config` and the journal header)."""
    out: dict[str, object] = {}
    for name in FIELDS:
        value = getattr(settings, name)
        if name == "secret_id" and value:
            value = mask(value)
        elif name in ("secret_key", "token", "serve_token") and value:
            value = REDACTED
        elif isinstance(value, Path):
            value = str(value)
        elif name == "input":
            from tongchuan_tui.audio.factory import redact_input  # a URL's query may hold a token

            value = redact_input(value)
        out[name] = value
    return out


# -- validation -------------------------------------------------------------------------------------------

# The validators live in config_values, which cannot import Settings (a circular import): the two are kept
# in step here, at import time.
assert set(VALIDATORS) == set(FIELDS), "every setting needs a validator"


def env_var(name: str) -> str:
    """The environment variable that sets `name` (TONGCHUAN_CHUNK_MS for chunk_ms)."""
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    """The command-line flag that sets `name` (--chunk-ms for chunk_ms)."""
    return "--" + name.replace("_", "-")


def _validate(name: str, value: object, where: str) -> object:
    try:
        return VALIDATORS[name](value)
    except BadSentence as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except Bad as exc:
        shown = "" if name in (*SECRET_KEYS, "serve_token") else f" (got {value!r})"
        raise ConfigError(f"{where}: {name} must be {exc}{shown}") from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
        raise ConfigError(f"{path}: cannot be read ({reason})") from None


def _file_values(path: Path, doc: Mapping[str, Any]) -> dict[str, object]:
    public = [n for n in FIELDS if n not in SECRET_KEYS]
    values: dict[str, object] = {}
    for key, value in doc.items():
        if key == "credentials":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: credentials must be a table ([credentials])")
            for ckey, cvalue in value.items():
                if ckey not in SECRET_KEYS:
                    raise ConfigError(
                        f"{path}: unknown setting 'credentials.{ckey}' (known: {', '.join(SECRET_KEYS)})"
                    )
                values[ckey] = _validate(ckey, cvalue, f"{path} [credentials]")
            continue
        if key not in public:
            hint = " (put it in the [credentials] table)" if key in SECRET_KEYS else ""
            raise ConfigError(
                f"{path}: unknown setting '{key}'{hint} (known: {', '.join(public)}, [credentials])"
            )
        values[key] = _validate(key, value, str(path))
    return values


def load_settings(
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> LoadedSettings:
    """Merge defaults, the config file, TONGCHUAN_* variables and flags (non-None values), validating each.

    `config_path` given explicitly must exist; the default file may be missing. Raises ConfigError.
    """
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    origins = dict.fromkeys(FIELDS, "default")
    warnings: list[str] = []

    path: Path | None = None
    candidate = config_path.expanduser() if config_path is not None else default_config_path()
    if candidate.is_file() or config_path is not None:
        if not candidate.exists():
            raise ConfigError(f"{candidate}: config file not found (--config must name an existing file)")
        path = candidate
        for key, value in _file_values(path, _read_file(path)).items():
            values[key] = value
            origins[key] = "file"
        if any(values.get(k) for k in ("secret_key", "token")):
            warning = permission_warning(path)
            if warning:
                # Not logged here: logging is not set up yet, so Python would print it to stderr as well
                # as the CLI does. The CLI logs the warnings it prints.
                warnings.append(warning)

    for name in FIELDS:
        var = env_var(name)
        if name not in SECRET_KEYS and var in env:
            values[name] = _validate(name, env[var], f"environment {var}")
            origins[name] = f"env {var}"

    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in FIELDS or name in SECRET_KEYS:
            raise ConfigError(f"unknown setting '{name}' passed as a flag")
        values[name] = _validate(name, value, f"flag {flag_name(name)}")
        origins[name] = f"flag {flag_name(name)}"

    settings = dataclasses.replace(DEFAULTS, **values)  # type: ignore[arg-type]  # each value validated
    for target in settings.targets:
        if target not in LANGUAGE_PAIRS[settings.source]:
            pairs = "; ".join(f"{s} → {', '.join(t)}" for s, t in LANGUAGE_PAIRS.items())
            where = f"source from {origins['source']}, target from {origins['target']}"
            if path is not None and "file" in (origins["source"], origins["target"]):
                where += f" ({path})"
            pair = f"{settings.source} → {target}"
            raise ConfigError(f"language pair {pair} is not supported ({where}); supported: {pairs}")
    return LoadedSettings(settings=settings, path=path, origins=origins, warnings=tuple(warnings))
