"""Helpers for driving the emulator with the official SDK and with hand-signed requests."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tsi.v20210325 import models
from tencentcloud.tsi.v20210325.tsi_client import TsiClient

from tongchuan_tui.api import signing
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.emulator.testing import EmulatorHandle


def client_credentials(handle: EmulatorHandle) -> Credentials:
    """The keys a running emulator accepts, as our client's Credentials."""
    return Credentials(handle.secret_id, handle.secret_key, handle.token, origin="emulator")


def sdk_client(handle: EmulatorHandle, *, secret_id: str | None = None, secret_key: str | None = None) -> Any:
    """The official SDK's TsiClient pointed at the emulator over plain http, region "" as tsi needs none."""
    credential = Credential(secret_id or handle.secret_id, secret_key or handle.secret_key, handle.token)
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=handle.endpoint, reqTimeout=10))
    return TsiClient(credential, "", profile)


def upload_request(
    kind: str,
    session: str,
    seq: int,
    data: bytes,
    *,
    is_end: bool = False,
    source: str = "zh",
    target: str = "en",
    translate_time: int = 2,
) -> Any:
    """A TongChuanSyncRequest or TongChuanRecognizeRequest ("Sync"/"Recognize") for one packet."""
    request = models.TongChuanSyncRequest() if kind == "Sync" else models.TongChuanRecognizeRequest()
    request.SessionUuid = session
    request.Source = source
    request.Target = target
    request.AudioFormat = 1
    request.Seq = seq
    request.Utc = int(time.time())
    request.IsEnd = 1 if is_end else 0
    request.TranslateTime = translate_time
    request.Data = base64.b64encode(data).decode("ascii")
    return request


def display_request(session: str, *, is_new: int = 1, se_max: int = 5) -> Any:
    """A TongChuanDisplayRequest."""
    request = models.TongChuanDisplayRequest()
    request.SessionUuid = session
    request.IsNew = is_new
    request.SeMax = se_max
    return request


def sdk_error(call: Callable[[], object]) -> str:
    """The error code the SDK raises for `call` (fails the test if it succeeds)."""
    with pytest.raises(TencentCloudSDKException) as info:
        call()
    return str(info.value.code)


def keep_newest(best: dict[str, Any], sentences: Iterable[Any] | None) -> None:
    """Fold SDK DisplayInfo objects into `best` (highest SeVer per SeId), as a client must: the SeId is an
    opaque String in the reference, compared as text, never parsed."""
    for s in sentences or ():
        se_id = str(s.SeId)
        if se_id not in best or int(s.SeVer) >= int(best[se_id].SeVer):
            best[se_id] = s


def final_texts(best: dict[str, Any]) -> list[tuple[str, str]]:
    """(SourceText, TargetText) of the final sentences on the timeline (StartTime, then first appearance)."""
    ordered = sorted(best.values(), key=lambda s: int(s.StartTime or 0))
    return [(s.SourceText or "", s.TargetText or "") for s in ordered if s.IsEnd]


def signed_post(
    url: str,
    action: str,
    params: dict[str, Any],
    *,
    secret_id: str,
    secret_key: str,
    signed_headers: Sequence[str] = ("content-type", "host", "x-tc-action"),
    timestamp: int | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """POST one action signed with our signer, Tencent quick-start style; (response headers, JSON body)."""
    body = json.dumps(params).encode("utf-8")
    host = url.removeprefix("http://").rstrip("/")
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(ts),
        "X-TC-Version": "2021-03-25",
    }
    headers["Authorization"] = signing.authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service="tsi",
        timestamp=ts,
        headers=headers,
        payload=body,
        signed_headers=signed_headers,
    )
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers.items()), json.loads(response.read())
