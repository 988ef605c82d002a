"""Where the live server listens: parsing `[HOST:]PORT`, telling loopback apart, whether a port is free."""

from __future__ import annotations

import ipaddress
import socket

DEFAULT_HOST = "127.0.0.1"


class OutputsError(Exception):
    """A live output cannot start (bad address, port taken, file not writable); the message is one line."""


def parse_serve_address(text: str) -> tuple[str, int]:
    """(host, port) of `PORT`, `HOST:PORT` or `[IPV6]:PORT`; loopback when no host is given.

    Raises ValueError with a one-line reason. Port 0 means "any free port" (the server reports which).
    """
    text = text.strip()
    host = DEFAULT_HOST
    port_text = text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ValueError(f"{text!r} is not [HOST:]PORT (an IPv6 host is written [::1]:8080)")
        host, port_text = text[1:end], text[end + 2 :]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        if ":" in host:
            raise ValueError(f"{text!r} is not [HOST:]PORT (an IPv6 host is written [::1]:8080)")
    if not host:
        raise ValueError(f"{text!r} has an empty host; write PORT or HOST:PORT")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{text!r} is not [HOST:]PORT: the port must be a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be from 0 to 65535")
    return host, port


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a token is required otherwise)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """`host` as it is written in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


def port_is_free(host: str, port: int) -> bool:
    """Whether the live server could listen on (host, port) now (for `doctor`; the port is not kept).

    Binds as the server does (address reuse on, so a port in TIME_WAIT counts as free); False if the
    address is taken, not this machine's, or cannot be resolved.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return False
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                if hasattr(socket, "SO_REUSEADDR"):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
        except OSError:
            return False
    return bool(infos)
