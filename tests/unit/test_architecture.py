"""The house's structural rules: only `ui/` imports Textual, and the headless path never loads it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tui" / "tongchuan_tui"


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_ui_imports_textual() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui" or relative == Path("commands", "replay.py"):
            # commands/replay.py opens the UI, importing it lazily inside the command.
            continue
        textual = {m for m in imported_modules(path) if m == "textual" or m.startswith("textual.")}
        if textual:
            offenders.append(f"{relative}: {sorted(textual)}")
    assert offenders == [], "Textual imported outside ui/:\n" + "\n".join(offenders)


def test_core_packages_exist() -> None:
    for name in ("api", "audio", "pipeline", "journal", "emulator", "ui"):
        assert (PACKAGE / name / "__init__.py").is_file(), name


def test_headless_path_does_not_load_textual() -> None:
    code = (
        "import sys\n"
        "import tongchuan_tui.cli, tongchuan_tui.pipeline.session, tongchuan_tui.api.client\n"
        "import tongchuan_tui.journal.writer, tongchuan_tui.emulator.server, tongchuan_tui.commands.run\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_emulator_imports_nothing_else_of_the_package() -> None:
    # The emulator is an independent reading of the API reference: sharing the client's parsing, signing or
    # constants would let one wrong guess pass on both sides of every test.
    offenders = []
    for path in sorted((PACKAGE / "emulator").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                # Relative imports must stay inside the emulator package too ("from .. import api" does not).
                if node.level > 1:
                    offenders.append(f"{path.name}: relative import of level {node.level}")
                continue
            for name in _imported_names(node):
                if (name == "tongchuan_tui" or name.startswith("tongchuan_tui.")) and not (
                    name == "tongchuan_tui.emulator" or name.startswith("tongchuan_tui.emulator.")
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == [], "the emulator imports the client's code:\n" + "\n".join(offenders)


def _imported_names(node: ast.AST) -> list[str]:
    """The modules one node imports ("from a import b" counts as a and a.b, since b may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []
