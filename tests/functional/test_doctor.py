"""`tongchuan-tui doctor` against the emulator, as a user would run it before an event."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tongchuan_tui import exitcodes
from tongchuan_tui.cli import main
from tongchuan_tui.emulator.testing import EmulatorHandle, OffsetClock, run_emulator_in_thread


def doctor(handle: EmulatorHandle, *args: str, secret_key: str | None = None) -> tuple[int, str]:
    env = {
        "TENCENTCLOUD_SECRET_ID": handle.secret_id,
        "TENCENTCLOUD_SECRET_KEY": secret_key or handle.secret_key,
    }
    result = CliRunner().invoke(main, ["doctor", "--endpoint", handle.url, *args], env=env)
    return result.exit_code, result.output


def checks(output: str) -> dict[str, Any]:
    return {check["name"]: check for check in json.loads(output)["checks"]}


@pytest.mark.realtime
@pytest.mark.parametrize("offset_s", [90.0, -420.0], ids=["90s-ahead", "7min-behind"])
def test_doctor_passes_and_measures_round_trip_and_clock_offset(offset_s: float) -> None:
    # -420 s is beyond the 5-minute signature window: the first request is refused, the probe re-signs from
    # the server's Date header, and the session still goes through (with a warning to fix the clock).
    with run_emulator_in_thread(clock=OffsetClock(offset_s)) as handle:
        code, output = doctor(handle, "--json")
    assert code == exitcodes.OK, output
    found = checks(output)
    assert json.loads(output)["ok"] is True
    assert found["service"]["status"] == "ok"
    assert 0 < found["service"]["details"]["p50_ms"] < 5000
    assert found["clock"]["details"]["offset_s"] == pytest.approx(offset_s, abs=1.5)
    assert found["clock"]["status"] == ("ok" if abs(offset_s) < 300 else "warn")
    assert found["session"]["status"] == "ok"
    session = handle.state.session(found["session"]["details"]["session_uuid"])
    assert session is not None
    assert session.seqs == [0, 1, 2, 3, 4]
    assert session.ended
    assert found["answers"]["details"]["se_id"] == "no sentences"


def test_doctor_names_the_services_code_on_a_wrong_key_and_prints_no_secret() -> None:
    wrong = "this-is-not-the-key-0123456789"
    with run_emulator_in_thread() as handle:
        code, output = doctor(handle, secret_key=wrong)
    assert code == exitcodes.SERVICE_REJECTED
    assert "AuthFailure.SignatureFailure" in output
    assert "TENCENTCLOUD_SECRET_KEY" in output  # what to do
    assert wrong not in output
    assert handle.secret_id not in output  # masked


def test_doctor_without_credentials_says_how_to_set_them() -> None:
    with run_emulator_in_thread() as handle:
        result = CliRunner().invoke(main, ["doctor", "--endpoint", handle.url, "--json"], env={})
    assert result.exit_code == exitcodes.NO_CREDENTIALS
    found = checks(result.output)
    assert found["credentials"]["status"] == "fail"
    assert "TENCENTCLOUD_SECRET_ID" in found["credentials"]["action"]
    assert found["session"]["status"] == "skip"


def test_doctor_fails_when_the_serve_port_is_taken() -> None:
    with run_emulator_in_thread() as handle:
        code, output = doctor(handle, "--serve", f"127.0.0.1:{handle.port}")
    assert code == exitcodes.USAGE
    assert f"cannot listen on 127.0.0.1:{handle.port}" in output


def test_an_untrusted_certificate_is_a_final_failure_naming_the_host(tmp_path: Path) -> None:
    # A local HTTPS server with a self-signed certificate: what a TLS-intercepting proxy looks like.
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        stop = threading.Event()

        def serve() -> None:
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
                    pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        env = {"TENCENTCLOUD_SECRET_ID": "AKIDexample00000000", "TENCENTCLOUD_SECRET_KEY": "key"}
        try:
            result = CliRunner().invoke(
                main, ["doctor", "--endpoint", f"https://127.0.0.1:{port}/", "--json"], env=env
            )
        finally:
            stop.set()
            thread.join(5)
    assert result.exit_code == exitcodes.SERVICE_UNREACHABLE
    network = checks(result.output)["network"]
    assert network["status"] == "fail"
    assert network["code"] == "TLSError"
    assert "certificate of 127.0.0.1 is not trusted" in network["summary"]
    assert checks(result.output)["session"]["status"] == "skip"


def test_doctor_checks_the_configured_serve_port(tmp_path: Path) -> None:
    with run_emulator_in_thread() as handle:
        config = tmp_path / "config.toml"
        config.write_text(f'serve = "127.0.0.1:{handle.port}"\n', encoding="utf-8")
        env = {"TENCENTCLOUD_SECRET_ID": handle.secret_id, "TENCENTCLOUD_SECRET_KEY": handle.secret_key}
        result = CliRunner().invoke(
            main, ["--config", str(config), "doctor", "--endpoint", handle.url, "--json"], env=env
        )
    assert result.exit_code == exitcodes.USAGE, result.output
    assert checks(result.output)["serve"]["status"] == "fail"
