"""What a user of the installed package meets: --version, config --example, bundled cue names, and where the
log is when something unexpected happens."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tongchuan_tui import __version__, exitcodes
from tongchuan_tui.cli import main
from tongchuan_tui.config import log_file
from tongchuan_tui.resources import EXAMPLE_CONFIG, cue_scripts, find_cue_script
from tongchuan_tui.ui.advice import advice_for_code, advice_for_exit

REPO = Path(__file__).resolve().parents[2]


def test_version_names_the_service_api_textual_and_pyav() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"tongchuan-tui {__version__}"
    assert "tsi API 2021-03-25" in lines
    assert any(line.startswith("Textual ") and line[8:9].isdigit() for line in lines)
    assert any(line.startswith("PyAV ") and line[5:6].isdigit() for line in lines)


def test_the_package_version_is_the_projects() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__
    assert list(project["optional-dependencies"]) == ["mic"]  # dev tools live in [dependency-groups]


def test_config_example_prints_the_commented_example() -> None:
    result = CliRunner().invoke(main, ["config", "--example"])
    assert result.exit_code == 0
    assert result.output == EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert result.output.startswith("# tongchuan-tui example configuration")
    tomllib.loads(result.output)


def test_cue_scripts_are_found_by_name_and_a_path_still_works(tmp_path: Path) -> None:
    assert {"demo", "zh-en-short", "en-zh-short"} <= set(cue_scripts())
    assert find_cue_script("demo") == cue_scripts()["demo"]
    assert find_cue_script("zh-en-short.json") == cue_scripts()["zh-en-short"]
    own = tmp_path / "demo"
    own.write_text("{}", encoding="utf-8")
    assert find_cue_script(str(own)) == own  # a file wins over a bundled name
    assert find_cue_script("no-such-script") is None


def test_an_unknown_cue_name_lists_the_bundled_ones() -> None:
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDexample", "TENCENTCLOUD_SECRET_KEY": "key"}
    result = CliRunner().invoke(main, ["emulator", "--cues", "nope"], env=env)
    assert result.exit_code == exitcodes.USAGE
    assert "no bundled cue script of that name" in result.output
    assert "zh-en-short" in result.output


def test_an_unexpected_error_is_one_line_naming_the_log_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import tongchuan_tui.commands.config as config_module

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(config_module, "show_config", broken)
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == exitcodes.UNEXPECTED
    assert result.output.strip().splitlines()[-1] == (
        f"tongchuan-tui: unexpected error (RuntimeError); the details are in the log file {log_file()}"
    )
    assert "Traceback" not in result.output
    assert "RuntimeError: a bug" in log_file().read_text(encoding="utf-8")


def test_advice_that_says_see_the_log_gives_its_path() -> None:
    assert str(log_file()) in advice_for_code("SomethingNew")
    assert str(log_file()) in advice_for_exit(exitcodes.UNEXPECTED)
