"""Files shipped inside the package, found by name: the commented example config and the cue scripts.

They live here (package data), not in the repository's `config/`, so that a pipx install has them too;
`tongchuan-tui config --example` and `tongchuan-tui emulator --cues NAME` read them from here.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
EXAMPLE_CONFIG = RESOURCES_DIR / "tongchuan-tui.example.toml"
CUES_DIR = RESOURCES_DIR / "cues"
DEMO_CUES = RESOURCES_DIR.parent / "demo" / "demo-zh.cues.json"
"""The built-in demo's cue script (kept next to the demo's audio, which it times)."""


def example_config() -> str:
    """The commented example configuration: every setting, its default and what it does."""
    return EXAMPLE_CONFIG.read_text(encoding="utf-8")


def cue_scripts() -> dict[str, Path]:
    """The bundled cue scripts by name ("demo", "zh-en-short", ...), sorted by name."""
    found = {path.stem: path for path in CUES_DIR.glob("*.json")}
    found["demo"] = DEMO_CUES
    return dict(sorted(found.items()))


def find_cue_script(name_or_path: str) -> Path | None:
    """The cue script a `--cues` value means: an existing file first, else a bundled name; None if neither.

    A path wins over a bundled name so that a local file called like one is never shadowed.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    bundled = cue_scripts()
    name = name_or_path.removesuffix(".json")
    return bundled.get(name)
