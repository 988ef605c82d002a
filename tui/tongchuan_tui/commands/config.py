"""`tongchuan-tui config`: the effective settings, secrets masked, each with where it came from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tongchuan_tui.api.credentials import Credentials, CredentialsError, mask, resolve_credentials
from tongchuan_tui.config import (
    FIELDS,
    SECRET_KEYS,
    LoadedSettings,
    Settings,
    default_config_path,
    log_file,
    sessions_dir,
    settings_for_display,
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _origin(origin: str, path: Path | None) -> str:
    return f"file {path}" if origin == "file" and path is not None else origin


def show_config(
    settings: Settings | LoadedSettings,
    config_path: Path | None,
    credentials_origin: Credentials | CredentialsError | str | None,
) -> str:
    """The effective settings as TOML, secrets masked, each line commented with its origin.

    `settings` may be a LoadedSettings (then origins are shown); `config_path` is the file read, or None.
    `credentials_origin` is the resolved Credentials, the error that resolving raised, or a description.
    """
    origins = settings.origins if isinstance(settings, LoadedSettings) else {}
    plain = settings.settings if isinstance(settings, LoadedSettings) else settings
    lines = []
    if config_path is not None:
        lines.append(f"# config file: {config_path}")
    else:
        lines.append(f"# config file: none ({default_config_path()} does not exist)")
    if isinstance(credentials_origin, Credentials):
        creds = credentials_origin
        token = ", with session token" if creds.token else ""
        lines.append(f"# credentials: secret_id {mask(creds.secret_id)} from {creds.origin}{token}")
    elif isinstance(credentials_origin, CredentialsError):
        lines.append(f"# credentials: NOT FOUND: {credentials_origin}")
    elif credentials_origin:
        lines.append(f"# credentials: {credentials_origin}")
    lines.append(f"# journals: {sessions_dir(plain)}" if plain.journal else "# journals: off")
    lines.append(f"# log file: {log_file()}")
    lines.append("")
    shown = settings_for_display(plain)
    for name in FIELDS:
        if name in SECRET_KEYS:
            continue
        value = shown[name]
        comment = f"  # {_origin(origins[name], config_path)}" if name in origins else ""
        if value is None:
            lines.append(f"# {name} = (unset){comment}")
        else:
            lines.append(f"{name} = {_toml_value(value)}{comment}")
    lines.append("")
    lines.append("[credentials]  # the config file's; the environment and ~/.tencentcloud/credentials win")
    for name in SECRET_KEYS:
        value = shown[name]
        lines.append(f"{name} = {_toml_value(value)}" if value is not None else f"# {name} = (unset)")
    return "\n".join(lines)


@click.command("config")
@click.option(
    "--example", is_flag=True, help="Print the commented example config (every setting) instead, to copy."
)
@click.pass_context
def config_command(ctx: click.Context, example: bool) -> None:
    """Print the effective settings (secrets masked) and where each came from.

    With --example, print the commented example configuration that documents every setting, e.g.
    `tongchuan-tui config --example > ~/.config/tongchuan-tui/config.toml`.
    """
    if example:
        from tongchuan_tui.resources import example_config

        click.echo(example_config(), nl=False)
        return
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    # The CLI puts the plain Settings under "settings" and, when it has them, the origins under "loaded".
    loaded = obj.get("loaded") if isinstance(obj.get("loaded"), LoadedSettings) else obj.get("settings")
    if loaded is None:
        raise click.UsageError("no settings were loaded")
    plain = loaded.settings if isinstance(loaded, LoadedSettings) else loaded
    config_path = obj.get("config_path")
    if config_path is None and isinstance(loaded, LoadedSettings):
        config_path = loaded.path
    credentials = obj.get("credentials")
    if credentials is None:
        try:
            credentials = resolve_credentials(
                plain.profile, plain.secret_id, plain.secret_key, plain.token, config_path=config_path
            )
        except CredentialsError as exc:
            credentials = exc
        else:
            for warning in credentials.warnings:
                click.echo(f"tongchuan-tui: warning: {warning}", err=True)
    click.echo(show_config(loaded, config_path, credentials))
