"""The error codes the emulator answers with (the service's real ones) and the exception that carries them."""

from __future__ import annotations

AUTH_INVALID_AUTHORIZATION = "AuthFailure.InvalidAuthorization"
AUTH_SECRET_ID_NOT_FOUND = "AuthFailure.SecretIdNotFound"
AUTH_SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"
AUTH_SIGNATURE_FAILURE = "AuthFailure.SignatureFailure"
AUTH_TOKEN_FAILURE = "AuthFailure.TokenFailure"
DUPLICATED_SESSION_AND_SEQ = "InvalidParameter.DuplicatedSessionIdAndSeq"
FAILED_OPERATION = "FailedOperation"
INTERNAL_ERROR = "InternalError"
INVALID_ACTION = "InvalidAction"
INVALID_PARAMETER = "InvalidParameter"
INVALID_PARAMETER_VALUE = "InvalidParameterValue"
MISSING_PARAMETER = "MissingParameter"
NO_SUCH_VERSION = "NoSuchVersion"
REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"
REQUEST_SIZE_LIMIT_EXCEEDED = "RequestSizeLimitExceeded"
SERVICE_UNAVAILABLE = "ServiceUnavailable"
UNSUPPORTED_AUDIO_FORMAT = "UnsupportedOperation.AudioFormat"
UNSUPPORTED_IS_END = "UnsupportedOperation.IsEnd"
UNSUPPORTED_IS_NEW = "UnsupportedOperation.IsNew"
UNSUPPORTED_SE_MAX = "UnsupportedOperation.SeMax"
UNSUPPORTED_TRANSLATE_TIME = "UnsupportedOperation.TranslateTime"


class ApiFailure(Exception):
    """A request the emulator answers with `Response.Error` (HTTP 200), as the service does."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def missing(name: str) -> ApiFailure:
    """The service's answer to a request without a required parameter."""
    return ApiFailure(MISSING_PARAMETER, f"The request is missing a required parameter `{name}`.")
