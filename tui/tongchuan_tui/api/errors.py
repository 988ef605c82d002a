"""Domain errors of the tsi API, each saying whether a retry can help."""

from __future__ import annotations

RETRYABLE_CODES = frozenset({"InternalError", "ServiceUnavailable", "RequestLimitExceeded"})


def is_retryable_code(code: str) -> bool:
    """Whether an API error code is transient: rate limits, internal errors, unavailability."""
    return code in RETRYABLE_CODES or code.startswith("RequestLimitExceeded.")


class TsiError(Exception):
    """Any failure talking to the service; `retryable` says whether the same request may succeed later."""

    retryable: bool = False

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

    def __init__(self, message: str) -> None:
        super().__init__("NetworkError", message)


class HttpStatusError(TsiError):
    """The service answered with a non-200 HTTP status; 5xx is retryable."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP{status}", message)
        self.status = status
        self.retryable = status >= 500


class ProtocolError(TsiError):
    """The service's answer could not be understood (not JSON, missing fields)."""

    def __init__(self, message: str) -> None:
        super().__init__("ProtocolError", message)
