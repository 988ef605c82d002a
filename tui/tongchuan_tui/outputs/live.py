"""The live outputs of one run, built from the settings: the server and/or the live files, as one sink.

`open_live_outputs` is the one hook the run uses: it starts what the settings ask for (refusing at once, with
one line, an address or file that cannot be used) and returns the sink to add to the session, the line the
UI shows, and `close` for the end of the run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from tongchuan_tui.config import Settings
from tongchuan_tui.outputs.address import OutputsError, is_loopback, parse_serve_address
from tongchuan_tui.outputs.files import LiveFileOptions, LiveFiles
from tongchuan_tui.outputs.server import LiveServer, ServerOptions
from tongchuan_tui.pipeline.events import Event


class LiveOutputs:
    """A started server and/or live-file writer; `sink` feeds both without blocking."""

    def __init__(self, server: LiveServer | None, files: LiveFiles | None) -> None:
        self.server = server
        self.files = files

    @property
    def token(self) -> str | None:
        """The token clients must give (None: none needed)."""
        return self.server.options.token if self.server is not None else None

    @property
    def share_url(self) -> str | None:
        """The caption page's address as a client opens it (with the token, when one is needed)."""
        if self.server is None:
            return None
        token = self.token
        return self.server.url + (f"?token={token}" if token else "")

    def sink(self, event: Event) -> None:
        """Hand the event to the server and the file writer (each queues it for its own thread)."""
        if self.server is not None:
            self.server.sink(event)
        if self.files is not None:
            self.files.sink(event)

    def status_line(self) -> str:
        """What the UI shows while serving: the address (with token) and the clients connected."""
        if self.server is None:
            return ""
        count = self.server.clients
        return f"serving {self.share_url} ({count} client{'' if count == 1 else 's'})"

    def close(self) -> None:
        """Finish the files, then stop the server (each bounded)."""
        if self.files is not None:
            self.files.close()
        if self.server is not None:
            self.server.close()


def open_live_outputs(
    settings: Settings, on_warning: Callable[[str], None] | None = None
) -> LiveOutputs | None:
    """Start the live outputs the settings ask for (None if none); raises OutputsError with one line.

    `on_warning` hears a live file that stops being writable mid-session (the session goes on).
    """
    options = LiveFileOptions(
        srt=settings.live_srt,
        vtt=settings.live_vtt,
        text=settings.live_text,
        text_lines=settings.live_text_lines,
    )
    if settings.serve is None and not options.any:
        return None
    files = LiveFiles(options, on_error=on_warning) if options.any else None
    server = None
    if settings.serve is not None:
        try:
            host, port = parse_serve_address(settings.serve)
        except ValueError as exc:
            raise OutputsError(f"--serve: {exc}") from None
        token = settings.serve_token
        if token is None and not is_loopback(host):
            token = secrets.token_urlsafe(12)
        server = LiveServer(
            ServerOptions(host=host, port=port, token=token, max_clients=settings.serve_max_clients)
        )
    if files is not None:
        files.start()
    if server is not None:
        try:
            server.start()
        except OutputsError:
            if files is not None:
                files.close()
            raise
    return LiveOutputs(server, files)
