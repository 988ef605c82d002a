"""Finding credentials the Tencent way, the order of sources, bad input, and secrets never shown."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongchuan_tui.api.credentials import (
    Credentials,
    CredentialsError,
    mask,
    resolve_credentials,
)
from tongchuan_tui.logs import SecretFilter

ENV = {
    "TENCENTCLOUD_SECRET_ID": "AKIDenvironment0000000000001234",
    "TENCENTCLOUD_SECRET_KEY": "env-secret-key-zz",
}


def write_profile(home: Path, text: str, mode: int = 0o600) -> Path:
    path = home / ".tencentcloud" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def files(home: Path) -> list[Path]:
    """Only the home profile file: keeps the test independent of /etc/tencentcloud on the machine."""
    return [home / ".tencentcloud" / "credentials"]


def test_environment_comes_first(isolated_home: Path) -> None:
    write_profile(isolated_home, "[default]\nsecret_id = file-id-0000\nsecret_key = file-key-0000\n")
    creds = resolve_credentials(
        config_secret_id="cfg-id",
        config_secret_key="cfg-key",
        env=ENV,
        credentials_files=files(isolated_home),
    )
    assert (creds.secret_id, creds.secret_key, creds.token) == (
        ENV["TENCENTCLOUD_SECRET_ID"],
        ENV["TENCENTCLOUD_SECRET_KEY"],
        None,
    )
    assert "TENCENTCLOUD_SECRET_ID" in creds.origin


@pytest.mark.parametrize("variable", ["TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_SECURITY_TOKEN"])
def test_environment_session_token_is_picked_up(variable: str) -> None:
    creds = resolve_credentials(env={**ENV, variable: "tmp-token-abc"}, credentials_files=[])
    assert creds.token == "tmp-token-abc"


def test_the_real_environment_is_read_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TENCENTCLOUD_SESSION_TOKEN", "tok-from-env")
    creds = resolve_credentials(credentials_files=[])
    assert (creds.secret_id, creds.token) == (ENV["TENCENTCLOUD_SECRET_ID"], "tok-from-env")


def test_profile_file_default_section(isolated_home: Path) -> None:
    path = write_profile(isolated_home, "[default]\nsecret_id = file-id-0000\nsecret_key = file-key-0000\n")
    creds = resolve_credentials(env={}, config_secret_id="cfg-id", config_secret_key="cfg-key")
    assert (creds.secret_id, creds.secret_key) == ("file-id-0000", "file-key-0000")
    assert str(path) in creds.origin
    assert creds.warnings == ()


def test_profile_file_named_profile_with_token(isolated_home: Path) -> None:
    write_profile(
        isolated_home,
        "[default]\nsecret_id = d-id-000\nsecret_key = d-key-000\n"
        "[work]\nsecret_id = w-id-000\nsecret_key = w-key-000\ntoken = w-token-000\n",
    )
    creds = resolve_credentials("work", env={}, credentials_files=files(isolated_home))
    assert (creds.secret_id, creds.secret_key, creds.token) == ("w-id-000", "w-key-000", "w-token-000")
    assert "[work]" in creds.origin


def test_missing_named_profile_is_an_error_listing_the_profiles(isolated_home: Path) -> None:
    write_profile(isolated_home, "[default]\nsecret_id = d-id-000\nsecret_key = d-key-000\n[ci]\n")
    with pytest.raises(CredentialsError) as err:
        resolve_credentials("work", env={}, credentials_files=files(isolated_home))
    assert "[work]" in str(err.value)
    assert "default, ci" in str(err.value)


def test_config_file_credentials_come_last(isolated_home: Path) -> None:
    creds = resolve_credentials(
        env={},
        config_secret_id="cfg-id-000",
        config_secret_key="cfg-key-000",
        config_token="cfg-tok",
        config_path=isolated_home / "c.toml",
        credentials_files=files(isolated_home),
    )
    assert (creds.secret_id, creds.secret_key, creds.token) == ("cfg-id-000", "cfg-key-000", "cfg-tok")
    assert str(isolated_home / "c.toml") in creds.origin


def test_missing_everywhere_is_one_line_saying_where_and_how(isolated_home: Path) -> None:
    with pytest.raises(CredentialsError) as err:
        resolve_credentials(env={}, credentials_files=files(isolated_home))
    message = str(err.value)
    assert "\n" not in message
    for where in ("TENCENTCLOUD_SECRET_ID", str(files(isolated_home)[0]), "[credentials]"):
        assert where in message
    assert "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY" in message


@pytest.mark.parametrize(
    "env",
    [{"TENCENTCLOUD_SECRET_ID": "only-the-id"}, {"TENCENTCLOUD_SECRET_KEY": "only-the-key-value"}],
)
def test_half_set_environment_is_an_error_not_a_fallthrough(env: dict[str, str]) -> None:
    with pytest.raises(CredentialsError) as err:
        resolve_credentials(env=env, credentials_files=[])
    assert "is set but" in str(err.value)
    assert "only-the-key-value" not in str(err.value)


def test_half_set_profile_is_an_error(isolated_home: Path) -> None:
    write_profile(isolated_home, "[default]\nsecret_id = d-id-000\n")
    with pytest.raises(CredentialsError, match="secret_id is set but secret_key is not"):
        resolve_credentials(env={}, credentials_files=files(isolated_home))


def test_a_credentials_path_that_is_a_directory_says_so(isolated_home: Path) -> None:
    (isolated_home / ".tencentcloud" / "credentials").mkdir(parents=True)
    with pytest.raises(CredentialsError) as err:
        resolve_credentials(env={}, credentials_files=files(isolated_home))
    message = str(err.value)
    assert "is a directory, not a credentials file" in message
    assert "no such file" not in message
    assert "\n" not in message


def test_malformed_profile_file_is_one_line(isolated_home: Path) -> None:
    write_profile(isolated_home, "secret_id = outside-any-section\n")
    with pytest.raises(CredentialsError) as err:
        resolve_credentials(env={}, credentials_files=files(isolated_home))
    assert "not a valid INI file" in str(err.value)
    assert "\n" not in str(err.value)


def test_world_readable_profile_file_is_warned_about(
    isolated_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_profile(
        isolated_home, "[default]\nsecret_id = d-id-000\nsecret_key = d-key-000\n", mode=0o644
    )
    with caplog.at_level(logging.WARNING):
        creds = resolve_credentials(env={}, credentials_files=files(isolated_home))
    assert len(creds.warnings) == 1
    assert str(path) in creds.warnings[0]
    assert "chmod 600" in creds.warnings[0]
    assert creds.warnings[0] in caplog.text
    assert "d-key-000" not in caplog.text


def test_private_profile_file_is_not_warned_about(isolated_home: Path) -> None:
    write_profile(isolated_home, "[default]\nsecret_id = d-id-000\nsecret_key = d-key-000\n", mode=0o600)
    assert resolve_credentials(env={}, credentials_files=files(isolated_home)).warnings == ()


def test_repr_and_str_never_show_the_key_or_token() -> None:
    creds = Credentials("AKIDabcdefghijklmnop1234", "super-secret-key-value", "temporary-token-value")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "super-secret-key-value" not in text
        assert "temporary-token-value" not in text
        assert "AKIDabcdefghijklmnop1234" not in text
        assert "AKID…1234" in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [("AKIDabcdefghijklmnop1234", "AKID…1234"), ("emu-test-id", "em…id"), ("abc", "…"), ("", "")],
)
def test_mask_examples(value: str, shown: str) -> None:
    assert mask(value) == shown


@given(st.text(max_size=80))
def test_mask_reveals_at_most_eight_characters_and_half_of_short_values(value: str) -> None:
    shown = mask(value).replace("…", "")
    assert len(shown) <= min(8, len(value) // 2)


def test_secret_filter_masks_messages_arguments_and_tracebacks() -> None:
    secret_filter = SecretFilter(["super-secret-key-value"])
    try:
        raise ValueError("bad super-secret-key-value")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "key=%s", ("super-secret-key-value",), None
        )
        record.exc_info = sys.exc_info()
    assert secret_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert "super-secret-key-value" not in formatted
    assert "key=********" in formatted
    assert "ValueError" in formatted
