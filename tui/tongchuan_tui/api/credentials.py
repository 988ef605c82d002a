"""Tencent Cloud API keys, found the way the Tencent tools find them, and never shown in full.

Order: environment variables, then the INI profile file `~/.tencentcloud/credentials` (or
`/etc/tencentcloud/credentials`, as the official SDK falls back to), then the config file's `[credentials]`.
"""

from __future__ import annotations

import configparser
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ENV_SECRET_ID = "TENCENTCLOUD_SECRET_ID"
ENV_SECRET_KEY = "TENCENTCLOUD_SECRET_KEY"
#: Session-token variables for temporary keys, first match wins. The official Python SDK's
#: EnvironmentVariableCredential reads no token variable at all; TENCENTCLOUD_SESSION_TOKEN is what most
#: Tencent tooling uses, and Terraform/tccli use TENCENTCLOUD_SECURITY_TOKEN.
ENV_TOKENS = ("TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_SECURITY_TOKEN", "TENCENTCLOUD_TOKEN")

REDACTED = "********"
HOW_TO_SET = (
    f"set {ENV_SECRET_ID} and {ENV_SECRET_KEY}, or add secret_id/secret_key to a [default] section of "
    "~/.tencentcloud/credentials, or to the [credentials] table of the config file"
)


class CredentialsError(Exception):
    """No usable credentials; the message is one line saying where we looked and how to set them."""


def mask(value: str | None) -> str:
    """A SecretId (or any identifier) shortened so it can be recognised but not used: "AKID…1234".

    Reveals at most the first 4 and last 4 characters, and never more than half of a short value.
    """
    if not value:
        return ""
    keep = min(4, len(value) // 4)
    if keep == 0:
        return "…"
    return f"{value[:keep]}…{value[-keep:]}"


def default_credentials_files(home: Path | None = None) -> tuple[Path, ...]:
    """The INI files searched for a profile, first existing one wins (as the official SDK does)."""
    home = home if home is not None else Path.home()
    return (home / ".tencentcloud" / "credentials", Path("/etc/tencentcloud/credentials"))


@dataclass(frozen=True, slots=True)
class Credentials:
    """A SecretId/SecretKey pair, plus a session token for temporary keys; `origin` says where it was found.

    `warnings` lists problems worth telling the user (a secret file readable by others); the CLI prints them.
    """

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    origin: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        token = REDACTED if self.token else None
        return (
            f"Credentials(secret_id={mask(self.secret_id)!r}, secret_key={REDACTED!r}, token={token!r}, "
            f"origin={self.origin!r})"
        )

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown: key, token and id (for the log filter)."""
        return tuple(v for v in (self.secret_key, self.token, self.secret_id) if v)


def group_or_other_readable(path: Path) -> bool:
    """Whether a file's permission bits let anyone but its owner read it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def permission_warning(path: Path) -> str | None:
    """A one-line warning if `path` holds a secret and is readable by group or others, else None."""
    if not group_or_other_readable(path):
        return None
    return f"{path} holds a secret and is readable by other users; run: chmod 600 {path}"


def _pair(
    secret_id: str | None, secret_key: str | None, token: str | None, where: str, id_name: str, key_name: str
) -> tuple[str, str, str | None] | None:
    """Both halves, neither, or a CredentialsError for a half-set pair."""
    secret_id = (secret_id or "").strip()
    secret_key = (secret_key or "").strip()
    if not secret_id and not secret_key:
        return None
    if not secret_id or not secret_key:
        present, missing = (id_name, key_name) if secret_id else (key_name, id_name)
        raise CredentialsError(f"{where}: {present} is set but {missing} is not; {HOW_TO_SET}")
    return secret_id, secret_key, (token or "").strip() or None


def _from_env(env: Mapping[str, str]) -> Credentials | None:
    token = next((env[name] for name in ENV_TOKENS if env.get(name)), None)
    pair = _pair(
        env.get(ENV_SECRET_ID), env.get(ENV_SECRET_KEY), token, "environment", ENV_SECRET_ID, ENV_SECRET_KEY
    )
    if pair is None:
        return None
    return Credentials(*pair, origin=f"environment ({ENV_SECRET_ID}/{ENV_SECRET_KEY})")


def _from_profile_file(path: Path, profile: str) -> Credentials | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"{path}: cannot be read ({exc.__class__.__name__}); fix or remove it"
        ) from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise CredentialsError(f"{path}: not a valid INI file ({first}); fix or remove it") from None
    if not parser.has_section(profile):
        if profile != "default":
            known = ", ".join(parser.sections()) or "none"
            raise CredentialsError(f"{path}: no profile [{profile}] (profiles: {known})")
        return None
    section = parser[profile]
    pair = _pair(
        section.get("secret_id"), section.get("secret_key"), section.get("token"),
        f"{path} [{profile}]", "secret_id", "secret_key",
    )  # fmt: skip
    if pair is None:
        return None
    warning = permission_warning(path)
    if warning:
        log.warning("%s", warning)
    return Credentials(*pair, origin=f"{path} [{profile}]", warnings=(warning,) if warning else ())


def resolve_credentials(
    profile: str = "default",
    config_secret_id: str | None = None,
    config_secret_key: str | None = None,
    config_token: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    config_path: Path | None = None,
    credentials_files: Sequence[Path] | None = None,
) -> Credentials:
    """Find credentials: environment, then the profile file, then the config file's `[credentials]`.

    Raises CredentialsError (one line) when none are found or what was found is half a pair.
    """
    env = os.environ if env is None else env
    files = default_credentials_files() if credentials_files is None else tuple(credentials_files)
    found = _from_env(env)
    if found is not None:
        return found
    looked = [f"environment ({ENV_SECRET_ID}/{ENV_SECRET_KEY})"]
    existing = next((p for p in files if p.exists()), None)
    if existing is not None and not existing.is_file():
        raise CredentialsError(
            f"{existing} is a directory, not a credentials file (INI: [{profile}] with secret_id and "
            f"secret_key); remove or rename it, or set {ENV_SECRET_ID} and {ENV_SECRET_KEY}"
        )
    if existing is not None:
        found = _from_profile_file(existing, profile)
        if found is not None:
            return found
        looked.append(f"{existing} [{profile}]")
    else:
        looked.append(" or ".join(str(p) for p in files) + f" [{profile}] (no such file)")
    config_where = f"config file {config_path}" if config_path else "config file"
    pair = _pair(
        config_secret_id, config_secret_key, config_token, f"{config_where} [credentials]",
        "secret_id", "secret_key",
    )  # fmt: skip
    if pair is not None:
        return Credentials(*pair, origin=f"{config_where} [credentials]")
    looked.append(f"{config_where} [credentials]")
    raise CredentialsError(
        f"no Tencent Cloud credentials found (looked in: {'; '.join(looked)}); {HOW_TO_SET}"
    )
