"""Outgoing text messages through a GOV.UK Notify-compatible HTTP API, configured by settings.

With no `ASSETMAP_NOTIFY_API_KEY` (or template) texts are off and `send_sms` raises `SmsOff`
saying so. The number and the text are the caller's: this module never logs them, and its errors
carry the provider's status code only (a provider's message may echo the number).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx
import orjson

from app.settings import Settings


class SmsOff(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "text messages are off: set ASSETMAP_NOTIFY_API_KEY and ASSETMAP_NOTIFY_SMS_TEMPLATE_ID"
        )


class SmsFailed(RuntimeError):
    """The provider could not be reached or refused the message (no number in the text)."""


def sms_is_on(settings: Settings) -> bool:
    return bool(settings.notify_api_key and settings.notify_sms_template_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def notify_token(api_key: str, now: float | None = None) -> str:
    """The bearer token Notify expects: a JWT (HS256) issued by the key's service id, signed with
    its secret; a key is `{name}-{service id}-{secret}`, both ids 36-character UUIDs."""
    service_id, secret = api_key[-73:-37], api_key[-36:]
    header = _b64(orjson.dumps({"typ": "JWT", "alg": "HS256"}))
    claims = _b64(orjson.dumps({"iss": service_id, "iat": int(now or time.time())}))
    signed = f"{header}.{claims}"
    signature = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(signature)}"


async def send_sms(settings: Settings, phone_number: str, body: str) -> str:
    """Send one text; returns the provider's notification id."""
    if not sms_is_on(settings):
        raise SmsOff()
    assert settings.notify_api_key is not None
    url = settings.notify_base_url.rstrip("/") + "/v2/notifications/sms"
    payload = {
        "phone_number": phone_number,
        "template_id": settings.notify_sms_template_id,
        "personalisation": {"body": body},
    }
    headers = {"Authorization": f"Bearer {notify_token(settings.notify_api_key)}"}
    try:
        async with httpx.AsyncClient(timeout=settings.notify_timeout_s) as client:
            response = await client.post(url, json=payload, headers=headers)
    except httpx.HTTPError as error:
        raise SmsFailed(f"the SMS provider could not be reached ({type(error).__name__})") from None
    if response.status_code != 201:
        raise SmsFailed(f"the SMS provider refused the message (HTTP {response.status_code})")
    return str(response.json().get("id", ""))
