"""Sessions that outlive the terminal: a host process serving a session over a Unix socket, its viewers.

`paths` (where sockets live, and which may be trusted), `protocol` (the newline-delimited JSON on the socket),
`history` (what a late viewer is sent first), `server` (the control server on its own thread), `host`
(`--attachable`), `spawn` (`--detach`), `client` (`RemoteSession`, probes) and `live` (finding live sessions).
"""
