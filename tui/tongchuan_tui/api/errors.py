"""Domain errors of the tsi API, each saying whether a retry can help and what kind of failure it is.

Kinds (`TsiError.kind`, mapped to exit codes by `exitcodes.for_error`):
- `rejected`: the service answered with an error of its own (authentication, parameters, ...);
- `malformed`: an answer that cannot be understood (not JSON, no Response, a sentence without a usable SeId,
  an HTTP status the API never sends): not the service refusing us, and not fixed by new credentials;
- `unreachable`: no answer (connection, DNS, timeout), or a TLS connection that cannot be trusted (final:
  retrying does not make a certificate valid).
"""

from __future__ import annotations

RETRYABLE_CODES = frozenset({"InternalError", "ServiceUnavailable", "RequestLimitExceeded"})


def is_retryable_code(code: str) -> bool:
    """Whether an API error code is transient: rate limits, internal errors, unavailability."""
    return code in RETRYABLE_CODES or code.startswith("RequestLimitExceeded.")


class TsiError(Exception):
    """Any failure talking to the service; `retryable` says whether the same request may succeed later."""

    retryable: bool = False
    kind: str = "rejected"

    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


class ApiError(TsiError):
    """An error the service answered with (`Response.Error`)."""

    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(code, message, request_id)
        self.retryable = is_retryable_code(code)

    @property
    def is_auth(self) -> bool:
        """Whether this is an authentication failure (bad key, expired signature...)."""
        return self.code.startswith("AuthFailure")


class NetworkError(TsiError):
    """The request did not complete: connection refused or reset, timeout, DNS."""

    retryable = True
    kind = "unreachable"

    def __init__(self, message: str) -> None:
        super().__init__("NetworkError", message)


class TlsError(TsiError):
    """The TLS connection could not be established or trusted (certificate, handshake): final."""

    kind = "unreachable"

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(
            "TLSError",
            f"the TLS connection to {host} cannot be trusted ({detail}); check the system clock, any proxy "
            "that intercepts HTTPS, and the CA certificates (SSL_CERT_FILE)",
        )
        self.host = host


class HttpStatusError(TsiError):
    """The service answered with a non-200 HTTP status; 5xx is retryable (the API itself answers 200)."""

    kind = "malformed"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP{status}", message)
        self.status = status
        self.retryable = status >= 500


class ProtocolError(TsiError):
    """The service's answer could not be understood (not JSON, missing fields)."""

    kind = "malformed"

    def __init__(self, message: str) -> None:
        super().__init__("ProtocolError", message)
