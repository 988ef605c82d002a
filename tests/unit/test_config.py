"""Settings: precedence, validation messages, the example file, and `tongchuan-tui config` output."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tongchuan_tui.api.credentials import Credentials, CredentialsError
from tongchuan_tui.commands.config import config_command, show_config
from tongchuan_tui.config import (
    DEFAULTS,
    FIELDS,
    SECRET_KEYS,
    ConfigError,
    Settings,
    default_config_path,
    load_settings,
    sessions_dir,
    setting_docs,
    settings_for_display,
)
from tongchuan_tui.resources import EXAMPLE_CONFIG

EXAMPLE = EXAMPLE_CONFIG


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_defaults_when_nothing_is_configured() -> None:
    loaded = load_settings(env={})
    assert loaded.settings == Settings()
    assert loaded.path is None
    assert set(loaded.origins.values()) == {"default"}


def test_default_file_in_the_platform_config_dir_is_read(isolated_home: Path) -> None:
    path = write(
        isolated_home / ".config" / "tongchuan-tui" / "config.toml", 'source = "en"\ntarget = "zh"\n'
    )
    assert default_config_path() == path
    loaded = load_settings(env={})
    assert (loaded.settings.source, loaded.settings.target, loaded.path) == ("en", "zh", path)
    assert loaded.origins["source"] == "file"


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'chunk_ms = 300\nmode = "split"\nlayout = "side"\n')
    loaded = load_settings(
        config_path=path,
        env={"TONGCHUAN_CHUNK_MS": "400", "TONGCHUAN_MODE": "sync"},
        flags={"chunk_ms": 500, "layout": None},
    )
    s = loaded.settings
    assert (s.chunk_ms, s.mode, s.layout, s.max_backlog_ms) == (500, "sync", "side", DEFAULTS.max_backlog_ms)
    assert loaded.origins["chunk_ms"] == "flag --chunk-ms"
    assert loaded.origins["mode"] == "env TONGCHUAN_MODE"
    assert loaded.origins["layout"] == "file"
    assert loaded.origins["max_backlog_ms"] == "default"


def test_environment_values_are_parsed_to_their_types(tmp_path: Path) -> None:
    env = {
        "TONGCHUAN_JOURNAL": "off",
        "TONGCHUAN_FINAL_ONLY": "yes",
        "TONGCHUAN_REQUEST_TIMEOUT_S": "2.5",
        "TONGCHUAN_JOURNAL_DIR": str(tmp_path / "j"),
        "TONGCHUAN_LOG_LEVEL": "debug",
        "TONGCHUAN_LANGUAGE": "en-US",
    }
    s = load_settings(env=env).settings
    assert (s.journal, s.final_only, s.request_timeout_s) == (False, True, 2.5)
    assert (s.journal_dir, s.log_level, s.language) == (tmp_path / "j", "DEBUG", "en-US")
    assert sessions_dir(s) == tmp_path / "j"


def test_secrets_are_read_only_from_the_credentials_table(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml", '[credentials]\nsecret_id = "cfg-id-0000"\nsecret_key = "cfg-key-0000"\n'
    )
    s = load_settings(config_path=path, env={"TONGCHUAN_SECRET_KEY": "ignored-env-key"}).settings
    assert (s.secret_id, s.secret_key, s.token) == ("cfg-id-0000", "cfg-key-0000", None)
    assert "cfg-key-0000" not in repr(s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("foo = 1\n", "unknown setting 'foo' (known: input, source, "),
        ('secret_key = "k-0000"\n', "unknown setting 'secret_key' (put it in the [credentials] table)"),
        ('[credentials]\npassword = "x"\n', "unknown setting 'credentials.password'"),
        ("chunk_ms = 100\n", "chunk_ms must be an integer from 200 to 500 (got 100)"),
        ('chunk_ms = "fast"\n', "chunk_ms must be an integer from 200 to 500 (got 'fast')"),
        ("chunk_ms = true\n", "chunk_ms must be an integer from 200 to 500"),
        ('mode = "stream"\n', "mode must be one of sync, split (got 'stream')"),
        ("translate_time = 3\n", "translate_time must be 0 (no translation) or 2 (real-time sentence"),
        ('source = "fr"\n', "source must be one of zh, en, ja, ko, yue (got 'fr')"),
        ('language = "fr-FR"\n', "language must be one of zh-CN, en-US"),
        ("journal = 1\n", "journal must be true or false (got 1)"),
        ('layout = "grid"\n', "layout must be one of auto, side, stacked, interleaved, translation"),
        ("request_timeout_s = 0\n", "request_timeout_s must be a number of seconds from 0.5 to 120"),
        (
            'endpoint = "ftp://example.com/"\n',
            "endpoint must be endpoint 'ftp://example.com/' must start with",
        ),
        ('log_level = "LOUD"\n', "log_level must be one of DEBUG, INFO, WARNING, ERROR"),
        ('profile = "a]b"\n', "profile must be a profile name without brackets"),
        ("[credentials]\nsecret_key = 12345678\n", "secret_key must be a string"),
        ("chunk_ms = = 1\n", "not valid TOML"),
    ],
)
def test_bad_file_is_one_line_naming_file_key_and_what_is_allowed(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=path, env={})
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_a_bad_secret_value_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", "[credentials]\nsecret_key = 98765432\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=path, env={})
    assert "98765432" not in str(err.value)


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"TONGCHUAN_CHUNK_MS": "150"})
    assert (
        str(err.value)
        == "environment TONGCHUAN_CHUNK_MS: chunk_ms must be an integer from 200 to 500 (got '150')"
    )


def test_bad_flag_value_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^flag --mode: mode must be one of sync, split \(got 'x'\)$"):
        load_settings(env={}, flags={"mode": "x"})


def test_unsupported_language_pair_names_where_each_half_came_from(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'source = "en"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=path, env={"TONGCHUAN_TARGET": "ja"})
    message = str(err.value)
    assert "language pair en → ja is not supported" in message
    assert "source from file" in message
    assert "target from env TONGCHUAN_TARGET" in message
    assert str(path) in message
    assert "zh → en, ja, ko, yue" in message


def test_explicit_config_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(config_path=tmp_path / "nope.toml", env={})


def test_config_path_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(config_path=tmp_path, env={})


def test_config_file_holding_a_secret_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml", '[credentials]\nsecret_id = "i-0000"\nsecret_key = "k-0000"\n', mode=0o644
    )
    loaded = load_settings(config_path=path, env={})
    assert len(loaded.warnings) == 1
    assert str(path) in loaded.warnings[0]
    path.chmod(0o600)
    assert load_settings(config_path=path, env={}).warnings == ()


def test_readable_config_without_secrets_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'source = "zh"\n', mode=0o644)
    assert load_settings(config_path=path, env={}).warnings == ()


# -- the example file documents every setting -------------------------------------------------------------


def test_every_setting_has_a_docstring() -> None:
    docs = setting_docs()
    assert set(docs) == set(FIELDS)
    assert all(len(doc) > 10 for doc in docs.values())


def test_example_file_loads_to_the_defaults() -> None:
    loaded = load_settings(config_path=EXAMPLE, env={})
    assert loaded.settings == DEFAULTS
    assert loaded.path == EXAMPLE


def test_example_file_mentions_every_setting_with_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for name in FIELDS:
        pattern = re.compile(rf"^(# )?{name} = ")
        index = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
        assert index is not None, f"{name} missing from the example"
        above = lines[index - 1]
        assert above.startswith("# "), f"{name} has no comment"
        assert not pattern.match(above), f"{name} has no comment"


def test_example_file_uncommented_values_equal_the_defaults() -> None:
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for name, value in doc.items():
        if name != "credentials":
            assert getattr(DEFAULTS, name) == value, name
    assert set(doc) | {n for n in FIELDS if getattr(DEFAULTS, n) is None} >= set(FIELDS) - set(SECRET_KEYS)


# -- `tongchuan-tui config` -------------------------------------------------------------------------------


def test_show_config_masks_secrets_and_names_origins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        'chunk_ms = 300\n[credentials]\nsecret_id = "AKIDconfigfile000000005678"\n'
        'secret_key = "cfg-secret-key-9"\n',
    )
    loaded = load_settings(config_path=path, env={"TONGCHUAN_SOURCE": "en", "TONGCHUAN_TARGET": "zh"})
    creds = Credentials("AKIDenvironment0000001234", "env-secret-key-1", "tok-secret-1", origin="environment")
    text = show_config(loaded, path, creds)
    for secret in ("cfg-secret-key-9", "env-secret-key-1", "tok-secret-1", "AKIDconfigfile000000005678"):
        assert secret not in text
    assert f"chunk_ms = 300  # file {path}" in text
    assert 'source = "en"  # env TONGCHUAN_SOURCE' in text
    assert 'mode = "sync"  # default' in text
    assert f"# config file: {path}" in text
    assert "AKID…1234 from environment, with session token" in text
    assert 'secret_id = "AKID…5678"' in text
    assert 'secret_key = "********"' in text
    # What it prints is itself a valid config (the masked secrets aside).
    assert tomllib.loads(text)["chunk_ms"] == 300


def test_settings_for_display_masks_secrets() -> None:
    s = dataclasses.replace(
        DEFAULTS, secret_id="AKIDabcdefgh12345678", secret_key="kkkkkkkk", token="tttttttt"
    )
    shown = settings_for_display(s)
    assert (shown["secret_id"], shown["secret_key"], shown["token"]) == ("AKID…5678", "********", "********")
    assert shown["journal_dir"] is None


def test_config_command_reads_the_context_and_reports_missing_credentials() -> None:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        loaded = load_settings(env={"TONGCHUAN_CHUNK_MS": "250"})
        ctx.obj = {"settings": loaded.settings, "config_path": None, "loaded": loaded}

    cli.add_command(config_command)
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    assert "# config file: none (" in result.output
    assert "# credentials: NOT FOUND: no Tencent Cloud credentials found" in result.output
    assert 'endpoint = "https://tsi.tencentcloudapi.com/"  # default' in result.output
    assert "chunk_ms = 250  # env TONGCHUAN_CHUNK_MS" in result.output


def test_show_config_with_a_credentials_error() -> None:
    text = show_config(Settings(), None, CredentialsError("nothing here"))
    assert "# credentials: NOT FOUND: nothing here" in text


@pytest.mark.parametrize(("given", "sent"), [(0, 0), (1, 2), (2, 2), ("1", 2)])
def test_translate_time_1_is_only_an_alias_of_the_documented_2(given: object, sent: int) -> None:
    # The API reference defines TranslateTime 0 and 2 only; 1 is never sent as if it meant "final only".
    assert load_settings(env={}, flags={"translate_time": given}).settings.translate_time == sent
    assert load_settings(env={"TONGCHUAN_TRANSLATE_TIME": str(given)}).settings.translate_time == sent
