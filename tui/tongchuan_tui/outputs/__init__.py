"""Live outputs of a session for other screens: a caption page and event feed over HTTP, and subtitle files.

Both are sinks of the session's events that never block the caller: each hands events to a thread of its
own (the HTTP server runs its own asyncio loop; the live-file writer its own thread), so the session may run
on any thread. Nothing here imports Textual, nor can it control the session (it only reads its events).
"""

from __future__ import annotations

from tongchuan_tui.outputs.address import OutputsError, parse_serve_address, port_is_free

__all__ = ["OutputsError", "parse_serve_address", "port_is_free"]
