"""tongchuan-tui: a terminal live interpreter for Tencent Cloud simultaneous interpretation."""

from __future__ import annotations

__version__ = "0.2.0"
