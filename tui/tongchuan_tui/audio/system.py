"""Which system package gives PyAudio its PortAudio on this machine, so the `mic` error can say exactly that.

PyAudio ships only an sdist on Linux: `pip install 'tongchuan-tui[mic]'` compiles it, which needs PortAudio's
headers and a C compiler. Each distribution names those packages differently; /etc/os-release says which
distribution this is.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

OS_RELEASE = Path("/etc/os-release")


@dataclass(frozen=True, slots=True)
class PortAudioHint:
    """What to install for the microphone on one kind of system."""

    system: str
    """The distribution as detected, e.g. "Debian GNU/Linux 12 (bookworm)" or "macOS"."""
    install: str
    """The command that installs PortAudio and what building PyAudio needs."""
    alternative: str | None = None
    """Another way, e.g. the distribution's own PyAudio package."""

    def text(self) -> str:
        """One sentence: what to run on this system, then how to add PyAudio to the install."""
        then = "then `pipx inject tongchuan-tui pyaudio` (pipx) or `pip install 'tongchuan-tui[mic]'` (venv)"
        alternative = f"; or {self.alternative}" if self.alternative else ""
        return f"on {self.system} run `{self.install}`, {then}{alternative}"


def read_os_release(path: Path = OS_RELEASE) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (quotes removed); {} when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            fields[key] = value.strip().strip("\"'")
    return fields


def portaudio_hint(os_release: dict[str, str] | None = None, platform: str | None = None) -> PortAudioHint:
    """The PortAudio install advice for this machine (or for the given os-release fields and platform)."""
    platform = platform if platform is not None else sys.platform
    if platform == "darwin":
        return PortAudioHint("macOS", "brew install portaudio")
    fields = os_release if os_release is not None else read_os_release()
    name = fields.get("PRETTY_NAME") or fields.get("NAME") or "this Linux"
    ids = {fields.get("ID", "").lower(), *fields.get("ID_LIKE", "").lower().split()}
    if ids & {"debian", "ubuntu"}:
        return PortAudioHint(
            name,
            "sudo apt install portaudio19-dev build-essential python3-dev",
            "`sudo apt install python3-pyaudio` and `pipx install --system-site-packages tongchuan-tui`",
        )
    if ids & {"fedora", "rhel", "centos"}:
        return PortAudioHint(name, "sudo dnf install portaudio-devel gcc python3-devel")
    if ids & {"arch", "archlinux"}:
        return PortAudioHint(name, "sudo pacman -S portaudio base-devel")
    if "alpine" in ids:
        return PortAudioHint(name, "sudo apk add portaudio-dev build-base python3-dev")
    if ids & {"opensuse", "suse"}:
        return PortAudioHint(name, "sudo zypper install portaudio-devel gcc python3-devel")
    return PortAudioHint(name, "install PortAudio's development package and a C compiler")
