"""The doctor's report and its small parsers: exit codes, --serve values, the proxy it names."""

from __future__ import annotations

import json

import pytest

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import parse_endpoint
from tongchuan_tui.doctor.machine import parse_serve
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8080", ("127.0.0.1", 8080)), ("0.0.0.0:80", ("0.0.0.0", 80)), ("[::1]:8080", ("::1", 8080))],
)
def test_serve_values(text: str, expected: tuple[str, int]) -> None:
    assert parse_serve(text) == expected


@pytest.mark.parametrize("text", ["http", "0", "host:99999"])
def test_bad_serve_values_are_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="--serve"):
        parse_serve(text)


def test_the_proxy_is_named_without_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "all_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:s3cret@proxy.example:3128")
    assert _proxy_for(parse_endpoint("https://tsi.tencentcloudapi.com/")) == "http://proxy.example:3128"
    monkeypatch.setenv("NO_PROXY", "tencentcloudapi.com")
    assert _proxy_for(parse_endpoint("https://tsi.tencentcloudapi.com/")) is None
