"""What the pipeline needs of the service: the three actions, as an interface a fake can also provide."""

from __future__ import annotations

from typing import Protocol

from tongchuan_tui.api.models import ApiResult, DisplayRequest, UploadRequest


class TsiService(Protocol):
    """The tsi API as the pipeline calls it. Implementations raise `TsiError` subclasses on failure."""

    async def sync(self, request: UploadRequest) -> ApiResult:
        """TongChuanSync: upload a packet and get the current sentences back."""
        ...

    async def recognize(self, request: UploadRequest) -> ApiResult:
        """TongChuanRecognize: upload a packet; results are pulled with `display`."""
        ...

    async def display(self, request: DisplayRequest) -> ApiResult:
        """TongChuanDisplay: the newest sentences of a session (at most 5)."""
        ...
