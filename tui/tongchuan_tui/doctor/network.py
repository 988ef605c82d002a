"""The doctor's network check: the host resolves and, for https, a trusted TLS handshake completes."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import Endpoint
from tongchuan_tui.doctor.report import FAIL, OK, WARN, Check


async def network_check(endpoint: Endpoint, timeout_s: float = 10.0) -> Check:
    """The host resolves and, for https, a TLS handshake with a trusted certificate completes."""
    port = 443 if endpoint.scheme == "https" else 80
    if ":" in endpoint.host_header.rsplit("]", 1)[-1]:
        port = int(endpoint.host_header.rsplit(":", 1)[1])
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(endpoint.hostname, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        return Check(
            "network",
            FAIL,
            f"{endpoint.hostname} does not resolve ({exc})",
            action="check DNS and the network (and --endpoint)",
            code="NetworkError",
            exit_code=exitcodes.SERVICE_UNREACHABLE,
        )
    dns_ms = (time.monotonic() - started) * 1000
    addresses = sorted({str(info[4][0]) for info in infos})
    details: dict[str, Any] = {"host": endpoint.hostname, "addresses": addresses, "dns_ms": round(dns_ms, 1)}
    summary = f"{endpoint.hostname} resolves ({len(addresses)} address{'es' if len(addresses) != 1 else ''})"
    if endpoint.scheme != "https":
        note = (
            "plain http: loopback" if endpoint.is_loopback else "plain http to another machine: NOT encrypted"
        )
        return Check("network", OK if endpoint.is_loopback else WARN, f"{summary}; {note}", details=details)
    proxy = None if endpoint.is_loopback else _proxy_for(endpoint)
    if proxy is not None:
        # Requests go through the proxy (as the client's do); a direct handshake would test the wrong path.
        details["proxy"] = proxy
        summary = f"{summary}; through the proxy {proxy} (TLS proven by the requests)"
        return Check("network", OK, summary, details=details)
    try:
        context = ssl.create_default_context()
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(endpoint.hostname, port, ssl=context, server_hostname=endpoint.hostname),
            timeout_s,
        )
    except ssl.SSLCertVerificationError as exc:
        return Check(
            "network",
            FAIL,
            f"the TLS certificate of {endpoint.hostname} is not trusted ({exc.verify_message})",
            action="check the clock, any proxy that intercepts HTTPS, the CA certificates (SSL_CERT_FILE)",
            code="TLSError",
            exit_code=exitcodes.SERVICE_UNREACHABLE,
            details=details,
        )
    except (OSError, TimeoutError) as exc:
        return Check(
            "network",
            FAIL,
            f"cannot open TLS to {endpoint.hostname}:{port} ({exc.__class__.__name__}: {exc})",
            action="check the network, a firewall or HTTPS_PROXY",
            code="NetworkError",
            exit_code=exitcodes.SERVICE_UNREACHABLE,
            details=details,
        )
    tls = writer.get_extra_info("ssl_object")
    version = tls.version() if tls is not None else "TLS"
    writer.close()
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), timeout_s)
    details["tls"] = version
    return Check("network", OK, f"{summary}; {version}, certificate trusted", details=details)


def _proxy_for(endpoint: Endpoint) -> str | None:
    """The proxy (scheme://host[:port], never its credentials) HTTPS_PROXY sets for `endpoint`, if any."""
    proxies = urllib.request.getproxies()
    url = proxies.get("https") or proxies.get("all")
    if not url or urllib.request.proxy_bypass(endpoint.hostname):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
