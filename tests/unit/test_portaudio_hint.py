"""The microphone's missing-PortAudio message names the package of the distribution it runs on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tongchuan_tui.audio import devices
from tongchuan_tui.audio.system import portaudio_hint, read_os_release


@pytest.mark.parametrize(
    ("os_release", "package"),
    [
        ('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n', "portaudio19-dev"),
        ("ID=ubuntu\nID_LIKE=debian\n", "python3-pyaudio"),
        ('ID=fedora\nNAME="Fedora Linux"\n', "portaudio-devel"),
        ('ID=rocky\nID_LIKE="rhel centos fedora"\n', "portaudio-devel"),
        ("ID=arch\n", "pacman -S portaudio"),
        ("ID=alpine\n", "portaudio-dev "),
    ],
)
def test_each_distribution_gets_its_package(tmp_path: Path, os_release: str, package: str) -> None:
    path = tmp_path / "os-release"
    path.write_text(os_release, encoding="utf-8")
    assert package in portaudio_hint(read_os_release(path), platform="linux").text()


def test_macos_gets_brew() -> None:
    assert "brew install portaudio" in portaudio_hint({}, platform="darwin").text()


def test_the_mic_error_tells_a_missing_pyaudio_from_a_missing_portaudio() -> None:
    missing = devices.no_pyaudio_message(ModuleNotFoundError("No module named 'pyaudio'"))
    assert "needs PyAudio" in missing
    assert "pipx inject tongchuan-tui pyaudio" in missing
    broken = devices.no_pyaudio_message(ImportError("libportaudio.so.2: cannot open shared object file"))
    assert "cannot load the PortAudio library" in broken


def test_doctor_without_pyaudio_warns_with_this_machines_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from tongchuan_tui.doctor.machine import audio_check

    monkeypatch.setitem(sys.modules, "pyaudio", None)  # what `import pyaudio` meets without the mic extra
    check = audio_check()
    assert check.status == "warn"
    assert check.action is not None
    assert portaudio_hint().install in check.action
    assert "--input -" in check.summary
