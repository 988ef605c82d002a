"""The doctor's report, its exit codes, a bad --serve value, and the proxy it names."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import parse_endpoint
from tongchuan_tui.cli import main
from tongchuan_tui.doctor.network import _proxy_for
from tongchuan_tui.doctor.report import FAIL, OK, WARN, Check, Report


def test_the_first_failure_decides_the_exit_code_and_warnings_do_not() -> None:
    checks = [
        Check("credentials", OK, "found"),
        Check("audio", WARN, "no device", action="pipe audio in"),
        Check("service", FAIL, "AuthFailure.SignatureFailure", code="AuthFailure.SignatureFailure",
              exit_code=exitcodes.SERVICE_REJECTED, action="check the key"),
        Check("journal", FAIL, "not writable", exit_code=exitcodes.JOURNAL_ERROR),
    ]  # fmt: skip
    report = Report("https://tsi.tencentcloudapi.com/", True, checks)
    assert report.exit_code == exitcodes.SERVICE_REJECTED
    text = report.to_text()
    assert "→ check the key" in text
    assert text.splitlines()[-1].startswith("not ready: service failed (exit 5")
    doc = json.loads(report.to_json())
    assert doc["ok"] is False
    assert [c["name"] for c in doc["checks"]] == ["credentials", "audio", "service", "journal"]
    assert Report("x", False, checks[:2]).exit_code == exitcodes.OK


@pytest.mark.parametrize("value", ["http", "host:99999"])
def test_a_bad_serve_value_is_one_line_and_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(main, ["doctor", "--serve", value])
    assert result.exit_code == exitcodes.USAGE
    assert result.output.startswith("tongchuan-tui doctor: --serve ")
    assert len(result.output.strip().splitlines()) == 1


def test_the_proxy_is_named_without_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "all_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:s3cret@proxy.example:3128")
    assert _proxy_for(parse_endpoint("https://tsi.tencentcloudapi.com/")) == "http://proxy.example:3128"
    monkeypatch.setenv("NO_PROXY", "tencentcloudapi.com")
    assert _proxy_for(parse_endpoint("https://tsi.tencentcloudapi.com/")) is None
