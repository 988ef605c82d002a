"""`python -m tongchuan_tui` runs the command line."""

from __future__ import annotations

from tongchuan_tui.cli import main

if __name__ == "__main__":
    main()
